"""``linkgen link …``: a profile's links, their look and their schedules."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from linkgen.cli.base import (
    SENSITIVITY,
    App,
    F,
    LinkgenGroup,
    cli,
    json_option,
    pass_app,
    utm_option,
    utm_tags,
    version_option,
)
from linkgen.cli.output import emit, links_text
from linkgen.cli.pictures import with_media

if TYPE_CHECKING:
    from linkgen.models import Link


@cli.group(cls=LinkgenGroup)
def link() -> None:
    """Add, edit, reorder, enable, disable, remove and list links.

    A LINK is named by its id, its position (#3), or its title or the start of
    it, as long as that names one link only. Blocks (`linkgen block`) sit among
    the links: `link mv`, `enable`, `disable`, `rm` and `list` take them too.

    Example:

        linkgen link add alice "My shop" https://example.com/shop
    """


def link_look_options(f: F) -> F:
    """How a link shows: its icon, the social row, a content warning."""
    options = [
        click.option(
            "--icon",
            help="Brand icon: a Simple Icons name (youtube, github, …), 'none' for no icon; "
            "'' goes back to detecting it from the URL.",
        ),
        click.option(
            "--social/--button",
            "social",
            default=None,
            help="Show it as an icon in the row under the bio, or as a button (the default).",
        ),
        click.option(
            "--sensitive",
            type=SENSITIVITY,
            help="Warn before it opens: 18+, 21+, 25+ or sensitive ('' removes the warning).",
        ),
        click.option(
            "--embed/--no-embed",
            "embed",
            default=None,
            help="Show a YouTube, Vimeo, Spotify, SoundCloud, Apple Music, TikTok or Bandcamp "
            "link as a player's facade: nothing loads from the provider until it is tapped.",
        ),
        click.option(
            "--featured/--plain",
            "featured",
            default=None,
            help="Draw it larger, with its thumbnail, above the others' style (one per profile).",
        ),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def _icon_note(url: str, icon: str | None) -> str:
    from linkgen.pages import brands

    if icon:
        return "no icon" if icon == "none" else f"icon: {icon}"
    brand = brands.detect(url)
    return f"detected {brand} (--icon to change it, --icon none to remove it)" if brand else ""


def said_added(created: Link, as_json: bool, said: str) -> None:
    """A new item's id on stdout (its JSON with --json), and ``said`` on stderr."""
    if as_json:
        from linkgen.models import PUBLIC

        emit(True, created.model_dump(mode="json", context=PUBLIC), "")
        return
    click.echo(created.id)
    click.echo(said, err=True)


def schedule_options(f: F) -> F:
    f = click.option("--ends", help="Hide the link from this time (ISO 8601, with zone).")(f)
    return click.option("--starts", help="Show the link from this time (ISO 8601, with zone).")(f)


@link.command("add")
@click.argument("username")
@click.argument("title")
@click.argument("url")
@click.option("--at", "position", type=int, help="Position (1 = top); default: last.")
@click.option("--disabled", is_flag=True, help="Add it hidden.")
@click.option("--thumbnail", metavar="FILE|URL", help="Thumbnail: an image file or URL.")
@link_look_options
@schedule_options
@version_option
@json_option
@pass_app
def link_add(
    app: App,
    username: str,
    title: str,
    url: str,
    position: int | None,
    disabled: bool,
    thumbnail: str | None,
    icon: str | None,
    social: bool | None,
    sensitive: str | None,
    embed: bool | None,
    featured: bool | None,
    starts: str | None,
    ends: str | None,
    expected_version: int | None,
    as_json: bool,
) -> None:
    """Add a link; prints the new link's id.

    Example:

        linkgen link add alice "Spring sale" shop.example.com --starts 2026-12-01T09:00:00Z
    """
    values = {"title": title, "url": url, "enabled": not disabled, "thumbnail": thumbnail}
    values.update(icon=icon or None, social=bool(social), sensitive=sensitive or None)
    values.update(embed=bool(embed), kind="featured" if featured else "link")
    values = with_media(app, values, "thumbnail")
    values.update(starts_at=starts or None, ends_at=ends or None)
    from linkgen.models import NewLink, validate

    new = validate(NewLink, values, strict=False)
    updated, created = app.site.content.add_link(
        username, new, position=position, expected_version=expected_version
    )
    note = _icon_note(created.url, created.icon)
    said_added(created, as_json, f"added '{created.title}' → {created.url} as link "
               f"{created.position} of {len(updated.links)} on @{updated.username}"
               + (f"; {note}" if note else ""))  # fmt: skip


@link.command("edit")
@click.argument("username")
@click.argument("link_id", metavar="LINK")
@click.option("--title", help="New title.")
@click.option("--url", help="New target URL.")
@click.option(
    "--thumbnail", metavar="FILE|URL", help="Thumbnail: an image file or URL ('' removes it)."
)
@link_look_options
@schedule_options
@utm_option
@version_option
@pass_app
def link_edit(
    app: App,
    username: str,
    link_id: str,
    title: str | None,
    url: str | None,
    thumbnail: str | None,
    icon: str | None,
    social: bool | None,
    sensitive: str | None,
    embed: bool | None,
    featured: bool | None,
    starts: str | None,
    ends: str | None,
    utms: tuple[str, ...],
    expected_version: int | None,
) -> None:
    """Change a link; only the options given change ('' clears a schedule).

    Example:

        linkgen link edit alice Xy12ab34Cd56 --title "New title" --ends ""
    """
    given = {"title": title, "url": url, "thumbnail": thumbnail, "starts_at": starts}
    given.update(ends_at=ends, icon=icon, sensitive=sensitive)
    values: dict[str, Any] = {k: (v or None) for k, v in given.items() if v is not None}
    values = with_media(app, values, "thumbnail")
    if social is not None:
        values["social"] = social
    if embed is not None:
        values["embed"] = embed
    if featured is not None:
        values["kind"] = "featured" if featured else "link"
    link_id = app.site.content.link_id(username, link_id)
    if utms:
        current = next(item for item in app.site.content.get(username).links if item.id == link_id)
        values["utm"] = utm_tags(current.utm, utms)
    if not values:
        raise click.UsageError("nothing to change: give at least one option (see --help)")
    from linkgen.models import LinkChanges, validate

    _, changed = app.site.content.edit_link(
        username,
        link_id,
        validate(LinkChanges, values, strict=False),
        expected_version=expected_version,
    )
    note = _icon_note(changed.url, changed.icon)
    click.echo(
        f"updated link {changed.id}: '{changed.title}' → {changed.url}"
        + (f"; {note}" if note else "")
    )


@link.command("mv")
@click.argument("username")
@click.argument("link_id", metavar="LINK")
@click.option("--to", "to", type=int, required=True, help="New position (1 = top).")
@version_option
@pass_app
def link_mv(app: App, username: str, link_id: str, to: int, expected_version: int | None) -> None:
    """Move a link to another position.

    Example:

        linkgen link mv alice "#3" --to 1      # or its id, or the start of its title
    """
    link_id = app.site.content.link_id(username, link_id)
    app.site.content.move_link(username, link_id, to, expected_version=expected_version)
    click.echo(f"moved link {link_id} to position {to}")


@link.command("rm")
@click.argument("username")
@click.argument("link_id", metavar="LINK")
@version_option
@pass_app
def link_rm(app: App, username: str, link_id: str, expected_version: int | None) -> None:
    """Remove a link (undo brings it back).

    Example:

        linkgen link rm alice Newsletter     # its title, its id, or its position (#N)
    """
    link_id = app.site.content.link_id(username, link_id)
    app.site.content.remove_link(username, link_id, expected_version=expected_version)
    click.echo(f"removed link {link_id}")


def _toggle(enabled: bool) -> Callable[..., None]:
    verb = "enabled" if enabled else "disabled"

    @click.argument("username")
    @click.argument("link_id", metavar="LINK")
    @version_option
    @pass_app
    def command(app: App, username: str, link_id: str, expected_version: int | None) -> None:
        from linkgen.models import LinkChanges

        link_id = app.site.content.link_id(username, link_id)
        app.site.content.edit_link(
            username,
            link_id,
            LinkChanges(enabled=enabled),
            expected_version=expected_version,
            action=f"link.{verb[:-1]}",
        )
        click.echo(f"{verb} link {link_id}")

    command.__doc__ = (
        f"{'Show' if enabled else 'Hide'} a link without deleting it.\n\n"
        f"Example:\n\n    linkgen link {verb[:-1]} alice Xy12ab34Cd56\n"
    )
    return command


link.command("enable")(_toggle(True))


link.command("disable")(_toggle(False))


@link.command("list")
@click.argument("username")
@json_option
@pass_app
def link_list(app: App, username: str, as_json: bool) -> None:
    """List a profile's links in page order.

    Example:

        linkgen link list alice
    """
    from linkgen.store import public

    items = public.profile(app.site.database, username)["links"]
    emit(as_json, items, links_text(items))
