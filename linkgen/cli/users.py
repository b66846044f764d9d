"""``linkgen user …``: the web editor's accounts."""

from __future__ import annotations

import click

from linkgen.cli.base import App, LinkgenGroup, cli, json_option, pass_app
from linkgen.cli.output import emit


@cli.group(cls=LinkgenGroup)
def user() -> None:
    """Accounts of the web editor: who may edit which profile.

    Example:

        linkgen user add alice@example.com --profile alice
    """


def _sign_in_url(app: App, token: str) -> str:
    return f"{app.site.config.editor.base_url}/set-password?token={token}"


@user.command("add")
@click.argument("email")
@click.option("--profile", "usernames", multiple=True, help="A profile they may edit (repeat).")
@click.option("--admin", is_flag=True, help="May edit every profile.")
@pass_app
def user_add(app: App, email: str, usernames: tuple[str, ...], admin: bool) -> None:
    """Create an account; prints a one-time link to set its password.

    Example:

        linkgen user add alice@example.com --profile alice
    """
    if not usernames and not admin:
        raise click.UsageError("give --profile USERNAME (one or more) or --admin")
    ids = [app.site.content.get(name.lower()).id for name in usernames]
    created, token = app.site.accounts.add_user(email, ids, admin=admin)
    what = "every profile" if admin else ", ".join(f"@{n.lower()}" for n in usernames)
    click.echo(f"created {created.email}, who may edit {what}")
    click.echo(f"one-time link to set the password (valid 48 hours): {_sign_in_url(app, token)}")


@user.command("link")
@click.argument("email")
@pass_app
def user_link(app: App, email: str) -> None:
    """A new one-time link to set the password (a forgotten one).

    Example:

        linkgen user link alice@example.com
    """
    click.echo(_sign_in_url(app, app.site.accounts.sign_in_link(email)))


@user.command("list")
@json_option
@pass_app
def user_list(app: App, as_json: bool) -> None:
    """Every account and the profiles it may edit.

    Example:

        linkgen user list
    """
    accounts = app.site.accounts.users()
    rows = [
        {
            "email": account.email,
            "admin": account.is_admin,
            "password_set": account.has_password,
            "profiles": profiles,
        }
        for account, profiles in accounts
    ]
    lines = []
    for account, profiles in accounts:
        may = "admin" if account.is_admin else " ".join(f"@{name}" for name in profiles)
        unset = "" if account.has_password else "  (password not set yet)"
        lines.append(f"{account.email:<32} {may}{unset}")
    emit(as_json, rows, "\n".join(lines) or "(no accounts)")


@user.command("rm")
@click.argument("email")
@pass_app
def user_rm(app: App, email: str) -> None:
    """Remove an account; its sessions end at once.

    Example:

        linkgen user rm alice@example.com
    """
    app.site.accounts.remove_user(email)
    click.echo(f"removed {email.strip().lower()}")
