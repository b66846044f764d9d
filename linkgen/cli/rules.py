"""``linkgen link rule …``, ``link lock``, ``link unlock``: smart links' rules and locks."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import click

from linkgen.cli.base import App, LinkgenGroup, json_option, pass_app, version_option
from linkgen.cli.links import link
from linkgen.cli.output import emit

if TYPE_CHECKING:
    from linkgen.models import Link, Rule

DEVICES = ("ios", "android", "desktop")


@link.group("rule", cls=LinkgenGroup)
def rule() -> None:
    """A link's rules: where it sends a visitor by country, device, language or time.

    The redirector tries a link's rules in order; the first whose every
    condition holds sends the visitor to its URL, else the link's own URL is
    used. The country comes from the CDN's country header (`[redirector]
    country_header`), the device from the user agent (ios, android, desktop),
    the language from the first choice of the browser's Accept-Language ("de"
    also matches "de-AT"). Pages do not change: their links go through the
    redirector, which needs `[redirector] base_url`.

    Example:

        linkgen link rule add alice Shop --country DE,AT --url https://example.de/shop
    """


def _csv(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def _rule_text(number: int, item: Rule) -> str:
    when = []
    if item.country:
        when.append("country " + ",".join(item.country))
    if item.device:
        when.append("device " + ",".join(item.device))
    if item.language:
        when.append("language " + ",".join(item.language))
    if item.starts_at or item.ends_at:
        start = f"{item.starts_at:%Y-%m-%d %H:%M}Z" if item.starts_at else "…"
        end = f"{item.ends_at:%Y-%m-%d %H:%M}Z" if item.ends_at else "…"
        when.append(f"{start} → {end}")
    return f"  {number}. {' and '.join(when)}  → {item.url}"


def _set_rules(
    app: App, username: str, reference: str, rules: list[Any], expected_version: int | None
) -> Link:
    return change_link(app, username, reference, {"rules": rules}, expected_version)


def change_link(
    app: App, username: str, reference: str, values: dict[str, Any], expected_version: int | None
) -> Link:
    from linkgen.models import LinkChanges, validate

    _, changed = app.site.content.edit_link(
        username,
        app.site.content.link_id(username, reference),
        validate(LinkChanges, values, strict=False),
        expected_version=expected_version,
    )
    return changed


def current_link(app: App, username: str, reference: str) -> Link:
    link_id = app.site.content.link_id(username, reference)
    return next(item for item in app.site.content.get(username).links if item.id == link_id)


@rule.command("add")
@click.argument("username")
@click.argument("link_id", metavar="LINK")
@click.option("--url", required=True, help="Where the rule sends the visitor.")
@click.option("--country", metavar="CC,CC", help="Country codes, e.g. DE,AT.")
@click.option("--device", metavar="D,D", help=f"Devices: {', '.join(DEVICES)}.")
@click.option("--language", metavar="TAG,TAG", help="Preferred languages, e.g. de,fr-CA.")
@click.option("--starts", help="From this time (ISO 8601, with zone).")
@click.option("--ends", help="Until this time (ISO 8601, with zone).")
@click.option("--at", "position", type=int, help="Its place among the rules (1 = first).")
@version_option
@pass_app
def rule_add(
    app: App,
    username: str,
    link_id: str,
    url: str,
    country: str | None,
    device: str | None,
    language: str | None,
    starts: str | None,
    ends: str | None,
    position: int | None,
    expected_version: int | None,
) -> None:
    """Add a rule to a link (last, or at --at).

    Example:

        linkgen link rule add alice "#2" --device ios --url https://apps.apple.com/app/id1
    """
    current = current_link(app, username, link_id)
    new: dict[str, Any] = {"url": url, "country": _csv(country), "device": _csv(device)}
    new.update(language=_csv(language), starts_at=starts or None, ends_at=ends or None)
    rules: list[Any] = [item.model_dump(mode="json") for item in current.rules]
    at = len(rules) + 1 if position is None else position
    if not 1 <= at <= len(rules) + 1:
        raise click.BadParameter(f"must be from 1 to {len(rules) + 1}", param_hint="--at")
    rules.insert(at - 1, new)
    changed = _set_rules(app, username, current.id, rules, expected_version)
    click.echo(f"link {changed.id} '{changed.title}': rule {at} of {len(changed.rules)} added")


@rule.command("list")
@click.argument("username")
@click.argument("link_id", metavar="LINK")
@json_option
@pass_app
def rule_list(app: App, username: str, link_id: str, as_json: bool) -> None:
    """A link's rules, in the order they are tried.

    Example:

        linkgen link rule list alice Shop
    """
    current = current_link(app, username, link_id)
    lines = [_rule_text(n, item) for n, item in enumerate(current.rules, start=1)]
    lines.append(f"  otherwise → {current.url}")
    emit(as_json, [item.model_dump(mode="json") for item in current.rules], "\n".join(lines))


@rule.command("rm")
@click.argument("username")
@click.argument("link_id", metavar="LINK")
@click.argument("number", type=int)
@version_option
@pass_app
def rule_rm(
    app: App, username: str, link_id: str, number: int, expected_version: int | None
) -> None:
    """Remove a link's rule by its number (see `rule list`; undo brings it back).

    Example:

        linkgen link rule rm alice Shop 1
    """
    current = current_link(app, username, link_id)
    if not 1 <= number <= len(current.rules):
        have = f"rules 1 to {len(current.rules)}" if current.rules else "no rules"
        raise click.BadParameter(f"the link has {have}", param_hint="NUMBER")
    rules = [item.model_dump(mode="json") for item in current.rules]
    del rules[number - 1]
    changed = _set_rules(app, username, current.id, rules, expected_version)
    click.echo(f"link {changed.id} '{changed.title}': rule {number} removed")


PASSWORD_MIN = 4


@link.command("lock")
@click.argument("username")
@click.argument("link_id", metavar="LINK")
@click.option("--age", type=click.IntRange(13, 25), help="Ask visitors to confirm this age.")
@click.option("--password", "ask", is_flag=True, help="Ask for a password (typed at a prompt).")
@click.option("--password-stdin", "from_stdin", is_flag=True, help="Read the password from stdin.")
@version_option
@pass_app
def link_lock(
    app: App,
    username: str,
    link_id: str,
    age: int | None,
    ask: bool,
    from_stdin: bool,
    expected_version: int | None,
) -> None:
    """Lock a link: the redirector asks for a password, or for an age, first.

    The page and the edge never show a locked link's address; without a
    redirector (`[redirector] base_url`) it is not shown at all. Only the
    password's argon2id hash is kept.

    Example:

        linkgen link lock alice "Early access" --password
    """
    if sum((age is not None, ask, from_stdin)) != 1:
        raise click.UsageError("give one of --age, --password or --password-stdin")
    lock: dict[str, Any] = {"kind": "age", "age": age}
    if age is None:
        if from_stdin:
            secret = sys.stdin.readline().rstrip("\r\n")
        else:
            secret = str(click.prompt("Password", hide_input=True, confirmation_prompt=True))
        if not PASSWORD_MIN <= len(secret) <= 200:
            raise click.BadParameter(
                f"must be {PASSWORD_MIN} to 200 characters", param_hint="password"
            )
        from argon2 import PasswordHasher

        lock = {"kind": "password", "password_hash": PasswordHasher().hash(secret)}
    changed = change_link(app, username, link_id, {"lock": lock}, expected_version)
    how = "a password" if age is None else f"age {age}+"
    click.echo(f"link {changed.id} '{changed.title}' is locked: {how} first")
    if app.site.config.redirector.base_url is None:
        click.echo(
            "note: [redirector] base_url is not set, so the link is not shown on the page "
            "until a redirector can ask for its lock",
            err=True,
        )


@link.command("unlock")
@click.argument("username")
@click.argument("link_id", metavar="LINK")
@version_option
@pass_app
def link_unlock(app: App, username: str, link_id: str, expected_version: int | None) -> None:
    """Open a locked link to everyone again.

    Example:

        linkgen link unlock alice "Early access"
    """
    changed = change_link(app, username, link_id, {"lock": None}, expected_version)
    click.echo(f"link {changed.id} '{changed.title}' is open to everyone")
