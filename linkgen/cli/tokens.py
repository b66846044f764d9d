"""``linkgen token …``: bearer tokens of the HTTP API."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from linkgen.cli.base import App, LinkgenGroup, cli, json_option, pass_app
from linkgen.cli.output import emit

if TYPE_CHECKING:
    from linkgen.api.tokens import Tokens


@cli.group(cls=LinkgenGroup)
def token() -> None:
    """Tokens for the HTTP API (/api/v1/ of the editor): what a tool may reach and do.

    Example:

        linkgen token add --profile alice --scope profile:read,links:write
    """


def _tokens(app: App) -> Tokens:
    from linkgen.api.tokens import Tokens

    return Tokens(app.site.database)


@token.command("add")
@click.option("--profile", "usernames", multiple=True, help="A profile it may reach (repeat).")
@click.option("--admin", is_flag=True, help="Every profile, and may create profiles.")
@click.option(
    "--scope",
    "scopes",
    default="profile:read",
    show_default=True,
    help="Comma-separated: profile:read, profile:write, links:write, stats:read.",
)
@click.option("--name", default="", help="What it is for (shown by 'token list').")
@click.option("--expires", default="90d", show_default=True, help="12h, 90d, 4w or never.")
@pass_app
def token_add(
    app: App, usernames: tuple[str, ...], admin: bool, scopes: str, name: str, expires: str
) -> None:
    """Make a token and print it once (only its hash is kept).

    Example:

        linkgen token add --profile alice --scope profile:read,links:write --expires 30d
    """
    from linkgen.api.tokens import parse_expiry, parse_scopes

    if not usernames and not admin:
        raise click.UsageError("give --profile USERNAME (one or more) or --admin")
    wanted, lasting = parse_scopes(scopes), parse_expiry(expires)
    ids = [app.site.content.get(username.lower()).id for username in usernames]
    label = name or ("admin" if admin else ",".join(u.lower() for u in usernames))
    made, text = _tokens(app).add(label, wanted, ids, admin=admin, expires_in=lasting)
    reach = "every profile" if admin else ", ".join(f"@{u.lower()}" for u in usernames)
    click.echo(f"token {made.id} ({', '.join(sorted(made.scopes))}) for {reach}, "
               f"expires {made.expires_at or 'never'}:", err=True)  # fmt: skip
    click.echo(text)
    click.echo("it is shown only now: keep it somewhere safe", err=True)


@token.command("list")
@json_option
@pass_app
def token_list(app: App, as_json: bool) -> None:
    """Every token: its id, name, scopes, profiles, expiry and last use.

    Example:

        linkgen token list
    """
    from linkgen.api.tokens import expires_text

    tokens = _tokens(app).all()
    names = {p.id: p.username for p in app.site.content.list_profiles()}
    rows, lines = [], []
    for t in tokens:
        reach = sorted(names.get(pid, pid) for pid in t.profile_ids)
        scopes = sorted(t.scopes)
        rows.append(
            {
                "id": t.id,
                "name": t.name,
                "scopes": scopes,
                "admin": t.is_admin,
                "profiles": reach,
                "created_at": t.created_at,
                "expires_at": t.expires_at,
                "last_used_at": t.last_used_at,
            }
        )
        who = "admin" if t.is_admin else " ".join(f"@{name}" for name in reach)
        lines.append(
            f"{t.id}  {t.name:<20} {' '.join(scopes)}  {who}  expires {expires_text(t)}  "
            f"{t.last_used_at or 'never used'}"
        )
    emit(as_json, rows, "\n".join(lines) or "(no tokens)")


@token.command("rm")
@click.argument("token_id")
@pass_app
def token_rm(app: App, token_id: str) -> None:
    """Remove a token: requests with it are refused at once.

    Example:

        linkgen token rm Xy12ab34Cd56
    """
    _tokens(app).remove(token_id)
    click.echo(f"removed token {token_id}")
