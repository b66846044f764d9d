"""``linkgen init`` and ``linkgen profile …``: create a site, manage profiles."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from linkgen.cli.base import (
    SENSITIVITY,
    App,
    F,
    LinkgenGroup,
    cli,
    json_option,
    key_values,
    pass_app,
    utm_option,
    utm_tags,
    version_option,
)
from linkgen.cli.output import emit, profile_json, profile_text
from linkgen.cli.pictures import background_change, with_media
from linkgen.errors import InvalidInput


def profile_field_options(f: F) -> F:
    """The editable profile fields, shared by ``profile add`` and ``profile set``."""
    options = [
        click.option("--name", "display_name", help="Display name."),
        click.option("--bio", help="A short bio (line breaks kept)."),
        click.option("--theme", help="Theme name (see the themes/ directory)."),
        click.option(
            "--avatar",
            metavar="FILE|URL",
            help="Avatar: an image file or https:// URL, checked and stored with the site "
            "('' removes it).",
        ),
        click.option(
            "--sensitive",
            type=SENSITIVITY,
            help="Warn before the page shows: 18+, 21+, 25+ or sensitive ('' removes it).",
        ),
        click.option(
            "--background-image",
            metavar="FILE|URL",
            help="A picture behind the page, under a veil of the background colour so "
            "text stays readable ('' removes it).",
        ),
        click.option(
            "--social-image",
            metavar="FILE|URL",
            help="The image link previews show (cut to 1200x630); default: a card linkgen "
            "draws from the name, avatar and colours ('' goes back to it).",
        ),
        click.option(
            "--language",
            metavar="TAG",
            help="The page's language, a tag such as ja, ar or pt-BR: its lang and "
            "direction, and the words linkgen writes on it ('' goes back to the site's).",
        ),
        click.option(
            "--domain",
            metavar="HOST",
            help="A host of the creator's own (links.alice.example) whose root is the page; "
            "its address here then sends visitors there. The edge must map it: run "
            "`linkgen edge vcl` again ('' removes it).",
        ),
        click.option("--seo-title", help="Page title for search engines."),
        click.option("--seo-description", help="Meta description for search engines."),
        utm_option,
        click.option(
            "--style",
            "styles",
            multiple=True,
            metavar="KEY=VALUE",
            help="Override a theme token: background, text, button, button_text (#rrggbb), "
            "font, button_shape, button_style (fill, outline, soft). 'KEY=' removes it.",
        ),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def _parse_styles(styles: tuple[str, ...]) -> dict[str, str | None]:
    return key_values("style", styles)


def _field_values(**options: Any) -> dict[str, Any]:
    """Only the options given on the command line; '' clears optional fields."""
    values = {}
    for name, value in options.items():
        if value is None:
            continue
        if value == "" and name in (
            "avatar", "language", "seo_title", "seo_description", "domain"
        ):  # fmt: skip
            value = None
        values[name] = value
    return values


@cli.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path), required=False)
@click.option("--demo", "with_demo", is_flag=True, help="Add a few sample creators.")
@pass_app
def init(app: App, directory: Path | None, with_demo: bool) -> None:
    """Create a site (linkgen.toml, site_data/, templates/, themes/) in DIRECTORY,
    else in the --site directory, else here.

    Example:

        linkgen init mysite --demo
    """
    from linkgen import site as sites
    from linkgen.cli import demo

    directory = directory or app.site_dir
    site = sites.init(directory)
    added = demo.seed(site) if with_demo else []
    click.echo(f"site ready in {site.root}")
    if added:
        click.echo(f"added sample creators: {', '.join('@' + name for name in added)}")
    click.echo(f"next: linkgen --site {directory} build && linkgen --site {directory} serve")


@cli.group(cls=LinkgenGroup)
def profile() -> None:
    """Add, show, change, rename, remove and list profiles.

    Example:

        linkgen profile add alice --name "Alice Liddell" --bio "Down the rabbit hole"
    """


@profile.command("add")
@click.argument("username")
@profile_field_options
@json_option
@pass_app
def profile_add(
    app: App, /, username: str, styles: tuple[str, ...], as_json: bool, **fields: Any
) -> None:
    """Create a profile.

    Example:

        linkgen profile add alice --name Alice --theme midnight
    """
    from linkgen.models import NewProfile, Style, validate

    background, utms = fields.pop("background_image"), fields.pop("utms")
    values = _field_values(username=username, **fields)
    if utms:
        values["utm"] = utm_tags(None, utms)
    changes = {**_parse_styles(styles), **background_change(app, background)}
    if changes:
        values["style"] = Style().merged(changes)
    values = with_media(app, with_media(app, values, "avatar"), "social_image")
    created = app.site.content.create_profile(validate(NewProfile, values))
    emit(as_json, profile_json(created), f"created @{created.username} (id {created.id})")


@profile.command("show")
@click.argument("username")
@json_option
@pass_app
def profile_show(app: App, username: str, as_json: bool) -> None:
    """Show a profile and its links.

    Example:

        linkgen profile show alice --json
    """
    from linkgen.store import public

    found = public.profile(app.site.database, username)
    emit(as_json, found, profile_text(found))


@profile.command("set")
@click.argument("username")
@profile_field_options
@version_option
@json_option
@pass_app
def profile_set(
    app: App,
    /,
    username: str,
    styles: tuple[str, ...],
    expected_version: int | None,
    as_json: bool,
    **fields: Any,
) -> None:
    """Change profile fields; only the options given change.

    Example:

        linkgen profile set alice --bio "New bio" --style button=#1d3fbb --style button_text=#fff
    """
    store = app.site.content
    background, utms = fields.pop("background_image"), fields.pop("utms")
    values = with_media(app, with_media(app, _field_values(**fields), "avatar"), "social_image")
    if utms:
        values["utm"] = utm_tags(store.get(username).utm, utms)
    changes = {**_parse_styles(styles), **background_change(app, background)}
    if changes:
        values["style"] = store.get(username).style.merged(changes)
    if not values:
        raise click.UsageError("nothing to change: give at least one option (see --help)")
    from linkgen.models import ProfileFields, validate

    updated = store.update_profile(
        username, validate(ProfileFields, values), expected_version=expected_version
    )
    said = f"@{updated.username} is at version {updated.version}"
    if "domain" in values:
        said += (
            f"; its page is https://{updated.domain}/ once the edge maps the host "
            "(`linkgen edge vcl`, docs/domains.md)"
            if updated.domain
            else "; no domain of its own any more (`linkgen edge vcl` to drop the host)"
        )
    emit(as_json, profile_json(updated), said)


@profile.command("rename")
@click.argument("username")
@click.argument("new_username")
@version_option
@pass_app
def profile_rename(
    app: App, username: str, new_username: str, expected_version: int | None
) -> None:
    """Change a profile's username (its id and links stay).

    Example:

        linkgen profile rename alice alice-l
    """
    renamed = app.site.content.rename_profile(
        username, new_username, expected_version=expected_version
    )
    click.echo(f"renamed @{username} to @{renamed.username}; the next build moves the page")


@profile.command("rm")
@click.argument("username")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@version_option
@pass_app
def profile_rm(app: App, username: str, yes: bool, expected_version: int | None) -> None:
    """Delete a profile (undo brings it back).

    Example:

        linkgen profile rm alice --yes
    """
    store = app.site.content
    target = store.get(username)
    if not yes:
        if not sys.stdin.isatty():
            raise InvalidInput("refusing to delete without confirmation: pass --yes")
        click.confirm(f"delete @{target.username} and its {len(target.links)} links?", abort=True)
    store.delete_profile(username, expected_version=expected_version)
    click.echo(f"deleted @{target.username} ('linkgen undo {target.username}' restores it)")


@profile.command("list")
@json_option
@pass_app
def profile_list(app: App, as_json: bool) -> None:
    """List every profile.

    Example:

        linkgen profile list --json
    """
    rows = app.site.content.list_profiles()
    human = "\n".join(
        f"@{r.username:<24} {r.links:>2} links  v{r.version:<4} {r.theme:<12} {r.display_name}"
        for r in rows
    )
    emit(as_json, [r._asdict() for r in rows], human or "(no profiles)")
