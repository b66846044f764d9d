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


def _deliver(app: App, email: str, token: str, template: tuple[str, str], what: str) -> None:
    """E-mail the link when [email] is set (and --print was not given), else print it."""
    from linkgen.editor import mail
    from linkgen.editor.accounts import SIGN_IN_LINK_HOURS

    link = _sign_in_url(app, token)
    settings = app.site.config.email
    if not mail.configured(settings):
        click.echo(f"one-time link to set the password (valid 48 hours): {link}")
        return
    subject, body = template
    text = body.format(
        site=app.site.config.site.title, what=what, hours=SIGN_IN_LINK_HOURS, link=link
    )
    try:
        mail.send(settings, mail.message(settings, email, subject, text))
    except mail.MailError as exc:
        raise mail.MailError(
            f"{exc}; the account is there: 'linkgen user link {email} --print' prints a link"
        ) from None
    click.echo(f"sent {email} a one-time link to set the password (valid 48 hours)")


_PRINT = click.option(
    "--print", "print_link", is_flag=True, help="Print the link instead of e-mailing it."
)


@user.command("add")
@click.argument("email")
@click.option("--profile", "usernames", multiple=True, help="A profile they may edit (repeat).")
@click.option("--admin", is_flag=True, help="May edit every profile.")
@_PRINT
@pass_app
def user_add(
    app: App, email: str, usernames: tuple[str, ...], admin: bool, print_link: bool
) -> None:
    """Create an account and e-mail it a one-time link to set its password (printed
    instead when [email] has no host, or with --print).

    Example:

        linkgen user add alice@example.com --profile alice
    """
    if not usernames and not admin:
        raise click.UsageError("give --profile USERNAME (one or more) or --admin")
    ids = [app.site.content.get(name.lower()).id for name in usernames]
    from linkgen.editor import mail

    if not print_link and mail.configured(app.site.config.email):
        mail.check(app.site.config.email)  # before the account is made
    created, token = app.site.accounts.add_user(email, ids, admin=admin)
    what = "every profile" if admin else ", ".join(f"@{n.lower()}" for n in usernames)
    click.echo(f"created {created.email}, who may edit {what}")
    if print_link:
        click.echo(
            f"one-time link to set the password (valid 48 hours): {_sign_in_url(app, token)}"
        )
        return
    from linkgen.editor.mail import INVITE

    _deliver(app, created.email, token, INVITE, what)


@user.command("link")
@click.argument("email")
@_PRINT
@pass_app
def user_link(app: App, email: str, print_link: bool) -> None:
    """A new one-time link to set the password (a forgotten one), e-mailed when
    [email] has a host, else printed.

    Example:

        linkgen user link alice@example.com
    """
    token = app.site.accounts.sign_in_link(email)
    if print_link:
        click.echo(_sign_in_url(app, token))
        return
    from linkgen.editor.mail import RESET

    _deliver(app, email.strip().lower(), token, RESET, "")


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
