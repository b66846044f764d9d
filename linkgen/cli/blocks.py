"""``linkgen block …``: headers, text, dividers, groups, a featured link, a contact card,
an e-mail sign-up form."""

from __future__ import annotations

from typing import Any

import click

from linkgen.cli.base import App, LinkgenGroup, cli, json_option, pass_app, version_option
from linkgen.cli.links import said_added, schedule_options
from linkgen.cli.pictures import with_media

KINDS = ("header", "text", "divider", "group", "featured", "contact", "signup")


@cli.group(cls=LinkgenGroup)
def block() -> None:
    """Add and change blocks: what a page shows besides its buttons.

    header: a section title. text: a short paragraph (line breaks kept).
    divider: a line. group: the links under it, until the next header, group or
    divider, folded under its title (a visitor can collapse it). featured: a
    link drawn larger with its thumbnail (one per profile). contact: a card a
    visitor saves to their address book (published as /<username>.vcf).
    signup: an e-mail field for a mailing list (double opt-in through the
    redirector; `linkgen audience export` gives the addresses).

    Blocks sit among the links: `linkgen link mv`, `enable`, `disable`, `rm`
    and `list` take them too, and `undo` undoes them like any edit.

    Example:

        linkgen block add alice header "Shop"
    """


@block.command("add")
@click.argument("username")
@click.argument("kind", type=click.Choice(KINDS))
@click.argument("text", required=False)
@click.option("--url", help="featured: where it goes; contact: the card's web address.")
@click.option("--thumbnail", metavar="FILE|URL", help="featured: its picture.")
@click.option("--email", help="contact: an e-mail address.")
@click.option("--phone", help="contact: a phone number (+15551234567).")
@click.option("--organisation", help="contact: a company or organisation.")
@click.option("--at", "position", type=int, help="Position (1 = top); default: last.")
@click.option("--disabled", is_flag=True, help="Add it hidden.")
@schedule_options
@version_option
@json_option
@pass_app
def block_add(
    app: App,
    username: str,
    kind: str,
    text: str | None,
    url: str | None,
    thumbnail: str | None,
    email: str | None,
    phone: str | None,
    organisation: str | None,
    position: int | None,
    disabled: bool,
    starts: str | None,
    ends: str | None,
    expected_version: int | None,
    as_json: bool,
) -> None:
    """Add a block; TEXT is a header's or group's title, a text's paragraph, a
    featured link's title, a contact's name or what a sign-up form invites to.
    Prints the new block's id.

    Examples:

        linkgen block add alice text "New EP out now.\\nTour dates below."
        linkgen block add alice featured "The new album" --url https://example.com/album
        linkgen block add alice contact "Alice Example" --email alice@example.com
        linkgen block add alice signup "Get my monthly letter"
    """
    values: dict[str, Any] = {"kind": kind, "enabled": not disabled}
    values.update(starts_at=starts or None, ends_at=ends or None)
    if kind == "text":
        values["body"] = (text or "").replace("\\n", "\n")
    elif kind == "contact":
        card = dict(email=email, phone=phone, organisation=organisation, url=url)
        values["contact"] = {"name": text or "", **{k: v for k, v in card.items() if v}}
    else:
        values["title"] = text or ""
        if kind == "featured":
            values.update(url=url, thumbnail=thumbnail)
            values = with_media(app, values, "thumbnail")
    from linkgen.models import NewLink, validate

    new = validate(NewLink, values, strict=False)
    updated, created = app.site.content.add_link(
        username, new, position=position, expected_version=expected_version
    )
    where = f"item {created.position} of {len(updated.links)} on @{updated.username}"
    said_added(created, as_json, f"added a {kind} as {where}")


@block.command("edit")
@click.argument("username")
@click.argument("block_id", metavar="BLOCK")
@click.option("--title", help="A header's, group's or featured link's title.")
@click.option("--text", help="A text block's paragraph.")
@click.option("--name", help="contact: the name on the card.")
@click.option("--email", help="contact: an e-mail address ('' removes it).")
@click.option("--phone", help="contact: a phone number ('' removes it).")
@click.option("--organisation", help="contact: an organisation ('' removes it).")
@click.option("--url", help="featured: where it goes; contact: a web address ('' removes it).")
@schedule_options
@version_option
@pass_app
def block_edit(
    app: App,
    username: str,
    block_id: str,
    title: str | None,
    text: str | None,
    name: str | None,
    email: str | None,
    phone: str | None,
    organisation: str | None,
    url: str | None,
    starts: str | None,
    ends: str | None,
    expected_version: int | None,
) -> None:
    """Change a block; only the options given change ('' clears a schedule).

    Example:

        linkgen block edit alice "#1" --title "Merch"
    """
    content = app.site.content
    item_id = content.link_id(username, block_id)
    current = next(item for item in content.get(username).links if item.id == item_id)
    values: dict[str, Any] = {} if title is None else {"title": title}
    if starts is not None:
        values["starts_at"] = starts or None
    if ends is not None:
        values["ends_at"] = ends or None
    if text is not None:
        values["body"] = text.replace("\\n", "\n")
    card = dict(name=name, email=email, phone=phone, organisation=organisation)
    card = {key: value for key, value in card.items() if value is not None}
    if current.kind == "contact" and current.contact is not None:
        if url is not None:
            card["url"] = url
        if card:
            merged = current.contact.model_dump(exclude_none=True) | card
            values["contact"] = {key: value for key, value in merged.items() if value}
    elif card:
        raise click.UsageError(
            f"--{next(iter(card))} is for contact blocks; this is a {current.kind}"
        )
    elif url is not None:
        values["url"] = url
    if not values:
        raise click.UsageError("nothing to change: give at least one option (see --help)")
    from linkgen.models import LinkChanges, validate

    _, changed = content.edit_link(
        username, item_id, validate(LinkChanges, values, strict=False),
        expected_version=expected_version,
    )  # fmt: skip
    click.echo(f"updated {changed.kind} {changed.id}")
