"""``linkgen audience …``: the addresses a profile's sign-up form collected."""

from __future__ import annotations

import csv
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import click

from linkgen.cli.base import App, LinkgenGroup, cli, json_option, pass_app
from linkgen.cli.output import emit

if TYPE_CHECKING:
    from linkgen.audience.store import AudienceStore


@cli.group(cls=LinkgenGroup)
def audience() -> None:
    """The e-mail addresses given to a profile's sign-up form (`block add … signup`).

    An address counts once its owner confirmed it from the e-mail the
    redirector sent; one not confirmed within 7 days is deleted, and every
    message carries an unsubscribe link that deletes it (docs/privacy.md).

    Example:

        linkgen audience export alice --csv > alice-list.csv
    """


def _store(app: App) -> AudienceStore:
    from linkgen.audience.store import AudienceStore, audience_path
    from linkgen.clicks.locks import site_key
    from linkgen.site import DATA_DIR

    return AudienceStore(audience_path(app.site.root), site_key(app.site.root / DATA_DIR))


def _when(at: float | None) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if at else ""


@audience.command("export")
@click.argument("username")
@click.option("--csv", "as_csv", is_flag=True, help="CSV: email,status,signed_up_at,confirmed_at.")
@click.option("--confirmed", is_flag=True, help="Only the confirmed addresses.")
@json_option
@pass_app
def audience_export(app: App, username: str, as_csv: bool, confirmed: bool, as_json: bool) -> None:
    """Every address of USERNAME's list, oldest first, with its status.

    Example:

        linkgen audience export alice --csv --confirmed
    """
    profile = app.site.content.get(username)
    store = _store(app)
    try:
        people = [p for p in store.subscribers(profile.id) if p.confirmed or not confirmed]
    finally:
        store.close()
    rows = [
        {
            "email": person.email,
            "status": "confirmed" if person.confirmed else "pending",
            "signed_up_at": _when(person.signed_up_at),
            "confirmed_at": _when(person.confirmed_at),
        }
        for person in people
    ]
    if as_csv:
        out = csv.DictWriter(sys.stdout, ["email", "status", "signed_up_at", "confirmed_at"])
        out.writeheader()
        out.writerows(rows)
        return
    done = sum(row["status"] == "confirmed" for row in rows)
    lines = [f"@{profile.username}: {done} confirmed, {len(rows) - done} pending"]
    lines += [f"  {row['email']}  {row['status']}  {row['signed_up_at']}" for row in rows]
    emit(as_json, rows, "\n".join(lines))


@audience.command("rm")
@click.argument("username")
@click.argument("email")
@pass_app
def audience_rm(app: App, username: str, email: str) -> None:
    """Delete EMAIL from USERNAME's list (at its owner's request, say).

    Example:

        linkgen audience rm alice someone@example.com
    """
    from linkgen import rules
    from linkgen.errors import InvalidInput, NotFound

    profile = app.site.content.get(username)
    try:
        address = rules.email(email)
    except ValueError as exc:
        raise InvalidInput(f"email: {exc}") from None
    store = _store(app)
    try:
        removed = store.remove(profile.id, address)
    finally:
        store.close()
    if not removed:
        raise NotFound(f"{address} is not on @{profile.username}'s list")
    click.echo(f"deleted {address} from @{profile.username}'s list")
