"""The ``linkgen`` command: a thin click layer over the library.

Each command parses options, calls one library function and prints the
result. A ``LinkgenError`` becomes a one-line message and exit code 1; usage
errors exit 2; anything unexpected exits 3 with a hint to re-run with -v.
"""

from __future__ import annotations

import os

# The CLI uses no pydantic plugins: skip their entry-point scan at start-up.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

import getpass
import json
import logging
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from linkgen import __version__
from linkgen import site as sites
from linkgen.errors import InvalidInput, LinkgenError
from linkgen.models import (
    LinkChanges,
    NewLink,
    NewProfile,
    Profile,
    ProfileExport,
    ProfileFields,
    Style,
    validate,
    validate_json,
)

if TYPE_CHECKING:  # the build (and Jinja2) are imported only by the commands that build
    from linkgen.build import BuildReport

log = logging.getLogger("linkgen")
F = TypeVar("F", bound=Callable[..., Any])
INTERNAL_ERROR = 3


class App:
    def __init__(self, site_dir: Path) -> None:
        self.site_dir = site_dir
        self._site: sites.Site | None = None

    @property
    def site(self) -> sites.Site:
        if self._site is None:
            self._site = sites.Site.open(self.site_dir)
            self._site.content.actor = _who()
        return self._site

    def close(self) -> None:
        if self._site is not None:
            self._site.close()
            self._site = None


def _who() -> str:
    """Who is editing, for the history: $LINKGEN_ACTOR, else the login name."""
    name = os.environ.get("LINKGEN_ACTOR")
    if not name:
        try:
            name = getpass.getuser()
        except (KeyError, OSError):
            name = "unknown"
    return f"{name} (cli)"


class UserError(click.ClickException):
    exit_code = 1


class InternalError(click.ClickException):
    exit_code = INTERNAL_ERROR


class LinkgenGroup(click.Group):
    """Translates library errors into one-line messages at the edge."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except LinkgenError as exc:
            raise UserError(str(exc)) from None
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except KeyboardInterrupt:
            raise click.Abort() from None
        except Exception as exc:
            log.debug("unexpected error", exc_info=True)
            raise InternalError(
                f"unexpected error: {type(exc).__name__}: {exc} (re-run with -v for details)"
            ) from None


pass_app = click.make_pass_decorator(App)


def json_option(f: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")(f)


def version_option(f: F) -> F:
    return click.option(
        "--if-version",
        "expected_version",
        type=int,
        help="Refuse the edit unless the profile is still at this version.",
    )(f)


SENSITIVITY = click.Choice(["18+", "21+", "25+", "sensitive", ""])


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
        click.option("--seo-title", help="Page title for search engines."),
        click.option("--seo-description", help="Meta description for search engines."),
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


def _with_media(app: App, values: dict[str, Any], field: str) -> dict[str, Any]:
    """An image given as a file or URL, checked, re-encoded and kept with the site."""
    given = values.get(field)
    if not given or given.startswith("/_m/"):
        return values
    from linkgen.pages import images

    data, source = images.read_source(given)
    purposes: dict[str, images.Purpose] = {"avatar": "avatar", "social_image": "card"}
    media = images.ingest(data, purposes.get(field, "thumbnail"), source=source)
    click.echo(f"{field}: {source} → {media.ref} ({media.width}x{media.height})", err=True)
    return {**values, field: images.save(media, app.site.media_dir)}


def _background(app: App, given: str | None) -> dict[str, str | None]:
    """--background-image as a style change: imported, or '' to remove it."""
    if given is None:
        return {}
    if not given:
        return {"background_image": None}
    from linkgen.pages import images

    data, source = images.read_source(given)
    media = images.ingest(data, "background", source=source)
    click.echo(f"background_image: {source} → {media.ref} ({media.width}x{media.height})", err=True)
    return {"background_image": images.save(media, app.site.media_dir)}


def _parse_styles(styles: tuple[str, ...]) -> dict[str, str | None]:
    parsed: dict[str, str | None] = {}
    for item in styles:
        key, sep, value = item.partition("=")
        if not sep:
            raise InvalidInput(f"style: '{item}' is not KEY=VALUE")
        parsed[key.strip()] = value.strip() or None
    return parsed


def _field_values(**options: Any) -> dict[str, Any]:
    """Only the options given on the command line; '' clears optional fields."""
    values = {}
    for name, value in options.items():
        if value is None:
            continue
        if value == "" and name in ("avatar", "seo_title", "seo_description"):
            value = None
        values[name] = value
    return values


def _emit(as_json: bool, data: Any, human: str) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False) if as_json else human)


def _profile_text(profile: Profile) -> str:
    lines = [
        f"@{profile.username}  {profile.display_name}".rstrip(),
        f"  id {profile.id} · version {profile.version} · theme {profile.theme} · "
        f"updated {profile.updated_at:%Y-%m-%d %H:%M}Z",
    ]
    if profile.bio:
        lines += ["  " + line for line in profile.bio.splitlines()]
    style = profile.style.model_dump(exclude_none=True)
    if style:
        lines.append("  style " + " ".join(f"{k}={v}" for k, v in style.items()))
    lines.append(_links_text(profile))
    return "\n".join(lines)


def _links_text(profile: Profile) -> str:
    if not profile.links:
        return "  (no links)"
    rows = []
    for link in profile.links:
        flags = "" if link.enabled else " [disabled]"
        flags += " [social row]" if link.social else ""
        flags += f" [{link.sensitive}]" if link.sensitive else ""
        flags += f" [icon: {link.icon}]" if link.icon else ""
        if link.starts_at or link.ends_at:
            start = f"{link.starts_at:%Y-%m-%d %H:%M}Z" if link.starts_at else "…"
            end = f"{link.ends_at:%Y-%m-%d %H:%M}Z" if link.ends_at else "…"
            flags += f" [{start} → {end}]"
        rows.append(f"  {link.position:>2}. {link.id}  {link.title}  → {link.url}{flags}")
    return "\n".join(rows)


def _dump(profile: Profile) -> dict[str, Any]:
    data = profile.model_dump(mode="json")
    data["style"] = profile.style.model_dump(exclude_none=True)
    return data


@click.group(cls=LinkgenGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--site",
    "site_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=".",
    envvar="LINKGEN_SITE",
    show_default=True,
    help="The site directory (holds linkgen.toml).",
)
@click.option("-v", "--verbose", count=True, help="More detail (-vv for debug).")
@click.option("-q", "--quiet", is_flag=True, help="Only errors.")
@click.version_option(__version__, prog_name="linkgen")
@click.pass_context
def cli(ctx: click.Context, site_dir: Path, verbose: int, quiet: bool) -> None:
    """Link-in-bio pages from a SQLite database, built incrementally.

    Example:

        linkgen init mysite && cd mysite && linkgen profile add alice --name Alice
    """
    level = (
        logging.ERROR if quiet else (logging.WARNING, logging.INFO, logging.DEBUG)[min(verbose, 2)]
    )
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    ctx.obj = App(site_dir)
    ctx.call_on_close(ctx.obj.close)


# -- site -------------------------------------------------------------------


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
    from linkgen.cli import demo

    directory = directory or app.site_dir
    site = sites.init(directory)
    added = demo.seed(site) if with_demo else []
    click.echo(f"site ready in {site.root}")
    if added:
        click.echo(f"added sample creators: {', '.join('@' + name for name in added)}")
    click.echo(f"next: linkgen --site {directory} build && linkgen --site {directory} serve")


# -- profiles ---------------------------------------------------------------


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
    background = fields.pop("background_image")
    values = _field_values(username=username, **fields)
    changes = {**_parse_styles(styles), **_background(app, background)}
    if changes:
        values["style"] = Style().merged(changes)
    values = _with_media(app, _with_media(app, values, "avatar"), "social_image")
    created = app.site.content.create_profile(validate(NewProfile, values))
    _emit(as_json, _dump(created), f"created @{created.username} (id {created.id})")


@profile.command("show")
@click.argument("username")
@json_option
@pass_app
def profile_show(app: App, username: str, as_json: bool) -> None:
    """Show a profile and its links.

    Example:

        linkgen profile show alice --json
    """
    found = app.site.content.get(username)
    _emit(as_json, _dump(found), _profile_text(found))


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
    background = fields.pop("background_image")
    values = _with_media(app, _with_media(app, _field_values(**fields), "avatar"), "social_image")
    changes = {**_parse_styles(styles), **_background(app, background)}
    if changes:
        values["style"] = store.get(username).style.merged(changes)
    if not values:
        raise click.UsageError("nothing to change: give at least one option (see --help)")
    updated = store.update_profile(
        username, validate(ProfileFields, values), expected_version=expected_version
    )
    _emit(as_json, _dump(updated), f"@{updated.username} is at version {updated.version}")


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
    _emit(as_json, [r._asdict() for r in rows], human or "(no profiles)")


# -- links ------------------------------------------------------------------


@cli.group(cls=LinkgenGroup)
def link() -> None:
    """Add, edit, reorder, enable, disable, remove and list links.

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
    values = _with_media(app, values, "thumbnail")
    values.update(starts_at=starts or None, ends_at=ends or None)
    new = validate(NewLink, values, strict=False)
    updated, created = app.site.content.add_link(
        username, new, position=position, expected_version=expected_version
    )
    if as_json:
        _emit(True, created.model_dump(mode="json"), "")
        return
    click.echo(created.id)
    note = _icon_note(created.url, created.icon)
    click.echo(
        f"added '{created.title}' → {created.url} as link {created.position} of "
        f"{len(updated.links)} on @{updated.username}" + (f"; {note}" if note else ""),
        err=True,
    )


@link.command("edit")
@click.argument("username")
@click.argument("link_id")
@click.option("--title", help="New title.")
@click.option("--url", help="New target URL.")
@click.option(
    "--thumbnail", metavar="FILE|URL", help="Thumbnail: an image file or URL ('' removes it)."
)
@link_look_options
@schedule_options
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
    starts: str | None,
    ends: str | None,
    expected_version: int | None,
) -> None:
    """Change a link; only the options given change ('' clears a schedule).

    Example:

        linkgen link edit alice Xy12ab34Cd56 --title "New title" --ends ""
    """
    given = {"title": title, "url": url, "thumbnail": thumbnail, "starts_at": starts}
    given.update(ends_at=ends, icon=icon, sensitive=sensitive)
    values: dict[str, Any] = {k: (v or None) for k, v in given.items() if v is not None}
    values = _with_media(app, values, "thumbnail")
    if social is not None:
        values["social"] = social
    if not values:
        raise click.UsageError("nothing to change: give at least one option (see --help)")
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
@click.argument("link_id")
@click.option("--to", "to", type=int, required=True, help="New position (1 = top).")
@version_option
@pass_app
def link_mv(app: App, username: str, link_id: str, to: int, expected_version: int | None) -> None:
    """Move a link to another position.

    Example:

        linkgen link mv alice Xy12ab34Cd56 --to 1
    """
    app.site.content.move_link(username, link_id, to, expected_version=expected_version)
    click.echo(f"moved link {link_id} to position {to}")


@link.command("rm")
@click.argument("username")
@click.argument("link_id")
@version_option
@pass_app
def link_rm(app: App, username: str, link_id: str, expected_version: int | None) -> None:
    """Remove a link (undo brings it back).

    Example:

        linkgen link rm alice Xy12ab34Cd56
    """
    app.site.content.remove_link(username, link_id, expected_version=expected_version)
    click.echo(f"removed link {link_id}")


def _toggle(enabled: bool) -> Callable[..., None]:
    verb = "enabled" if enabled else "disabled"

    @click.argument("username")
    @click.argument("link_id")
    @version_option
    @pass_app
    def command(app: App, username: str, link_id: str, expected_version: int | None) -> None:
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
    found = app.site.content.get(username)
    _emit(as_json, [lk.model_dump(mode="json") for lk in found.links], _links_text(found))


# -- themes, QR codes, accounts, imports, media ------------------------------


@cli.group(cls=LinkgenGroup)
def theme() -> None:
    """The themes a profile can use.

    Example:

        linkgen theme set alice midnight
    """


def _theme_rows(app: App) -> list[dict[str, Any]]:
    return [
        {
            "name": slug,
            "title": item.tokens.name,
            "description": item.tokens.description,
            "dark_mode": item.tokens.dark is not None,
        }
        for slug, item in sorted(app.site.themes.items())
    ]


@theme.command("list")
@json_option
@pass_app
def theme_list(app: App, as_json: bool) -> None:
    """Every theme, with whether it follows the visitor's dark mode.

    Example:

        linkgen theme list
    """
    rows = _theme_rows(app)
    human = "\n".join(
        f"{row['name']:<16} {row['title']:<16} {'auto dark' if row['dark_mode'] else '':<9} "
        f"{row['description']}".rstrip()
        for row in rows
    )
    _emit(as_json, rows, human)


@theme.command("show")
@click.argument("name")
@json_option
@pass_app
def theme_show(app: App, name: str, as_json: bool) -> None:
    """A theme's design tokens and its text contrast.

    Example:

        linkgen theme show midnight
    """
    from linkgen.pages.themes import lowest_contrast

    found = app.site.themes.get(name)
    if found is None:
        raise InvalidInput(
            f"theme: no theme '{name}' (known: {', '.join(sorted(app.site.themes))})"
        )
    tokens = found.tokens.model_dump(by_alias=True, exclude_none=True)
    ratio, pair = lowest_contrast(found.tokens)
    lines = [f"{name}: {found.tokens.name} — {found.tokens.description}"]
    lines += [f"  {key}: {value}" for key, value in tokens.items() if key not in ("name",)]
    lines.append(f"  lowest contrast: {ratio:.2f}:1 ({pair})")
    shown = {**tokens, "contrast": round(ratio, 2), "lowest_contrast_pair": pair}
    _emit(as_json, shown, "\n".join(lines))


@theme.command("set")
@click.argument("username")
@click.argument("name")
@version_option
@pass_app
def theme_set(app: App, username: str, name: str, expected_version: int | None) -> None:
    """Give a profile a theme (its colour overrides must stay readable on it).

    Example:

        linkgen theme set alice ocean
    """
    fields = validate(ProfileFields, {"theme": name})
    updated = app.site.content.update_profile(
        username.lower(), fields, expected_version=expected_version
    )
    click.echo(f"@{updated.username} now uses {updated.theme} (version {updated.version})")


@cli.command()
@click.argument("username")
@click.option(
    "--format", "fmt", type=click.Choice(["svg", "png"]), default="svg", show_default=True
)
@click.option(
    "--out",
    "out_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write it here (default: USERNAME-qr.svg or .png).",
)
@pass_app
def qr(app: App, username: str, fmt: str, out_file: Path | None) -> None:
    """A QR code of a profile's page, for print or a screen.

    Example:

        linkgen qr alice --format png --out alice.png
    """
    from linkgen.fsutil import write_file
    from linkgen.pages.qr import profile_qr

    profile = app.site.content.get(username.lower())
    url = f"{app.site.config.site.url}/{profile.username}"
    target = (out_file or Path(f"{profile.username}-qr.{fmt}")).resolve()
    write_file(target, profile_qr(url, "png" if fmt == "png" else "svg"))
    click.echo(f"wrote {target} ({url})")


def _finish_import(app: App, imported: Any, base: Path | None, theme: str | None) -> None:
    from linkgen.importers import save

    if theme:
        imported.profile["theme"] = theme
    created, notes = save(app.site, imported, base)
    social = sum(1 for link in created.links if link.social)
    click.echo(
        f"imported @{created.username}: {len(created.links)} links ({social} in the social row)"
        + (", avatar stored" if created.avatar else "")
    )
    for note in notes:
        click.echo(f"  note: {note}", err=True)
    click.echo(f"run 'linkgen build' to make the page; 'linkgen profile show {created.username}'")


@cli.command("import-linktree")
@click.argument("source", metavar="FILE_OR_URL")
@click.option("--username", help="Use this username instead of the Linktree one.")
@click.option("--theme", help="Give the profile this theme.")
@pass_app
def import_linktree(app: App, source: str, username: str | None, theme: str | None) -> None:
    """Create a profile from a Linktree page (saved as a file, or its URL).

    Example:

        linkgen import-linktree https://linktr.ee/alice --theme ocean
    """
    from linkgen.importers import parse_linktree, read_page

    html, base = read_page(source)
    imported = parse_linktree(html)
    if username:
        imported.profile["username"] = username
    _finish_import(app, imported, base, theme)


@cli.command("import-littlelink")
@click.argument("source", metavar="FILE")
@click.option("--username", required=True, help="The username of the new profile.")
@click.option("--theme", help="Give the profile this theme.")
@pass_app
def import_littlelink(app: App, source: str, username: str, theme: str | None) -> None:
    """Create a profile from a LittleLink index.html (its images next to it are used).

    Example:

        linkgen import-littlelink ~/littlelink/index.html --username alice
    """
    from linkgen.importers import parse_littlelink, read_page

    html, base = read_page(source)
    _finish_import(app, parse_littlelink(html, username), base, theme)


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
    _emit(as_json, rows, "\n".join(lines) or "(no accounts)")


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


@cli.group(cls=LinkgenGroup)
def media() -> None:
    """Images stored with the site (avatars, thumbnails, cards).

    Example:

        linkgen media prune --dry-run
    """


@media.command("prune")
@click.option("--dry-run", is_flag=True, help="Say what would be removed, remove nothing.")
@pass_app
def media_prune(app: App, dry_run: bool) -> None:
    """Remove images nothing refers to any more (the next publish deletes them).

    Example:

        linkgen media prune
    """
    from linkgen.pages.media import prune

    result = prune(app.site, dry_run=dry_run)
    verb = "would remove" if dry_run else "removed"
    click.echo(
        f"{verb} {len(result.removed)} unused images ({result.freed_bytes / 1e6:.1f} MB); "
        f"kept {result.kept}"
    )


@cli.command("themes")
@click.option(
    "--gallery",
    "gallery_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write one HTML page showing every theme rendered.",
)
@json_option
@pass_app
def themes_cmd(app: App, gallery_file: Path | None, as_json: bool) -> None:
    """List the themes, or write a gallery of them all.

    Example:

        linkgen themes --gallery themes.html
    """
    if gallery_file is None:
        rows = _theme_rows(app)
        _emit(as_json, rows, "\n".join(f"{row['name']:<16} {row['description']}" for row in rows))
        return
    from linkgen.fsutil import write_file
    from linkgen.pages.gallery import render_gallery

    page = render_gallery(app.site.renderer(), app.site.themes)
    write_file(gallery_file.resolve(), page)
    click.echo(f"wrote {gallery_file} ({len(app.site.themes)} themes)")


# -- history ----------------------------------------------------------------


@cli.command()
@click.argument("username")
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True)
@json_option
@pass_app
def history(app: App, username: str, limit: int, as_json: bool) -> None:
    """Show what changed on a profile, newest first.

    Example:

        linkgen history alice --limit 5
    """
    entries = app.site.content.history(username, limit=limit)
    human = "\n".join(
        f"#{e.seq:<5} {e.at:%Y-%m-%d %H:%M:%S}Z  {e.actor:<14} {e.action:<15} {e.summary}"
        + ("  [undone]" if e.undone else "")
        for e in entries
    )
    _emit(as_json, [e.model_dump(mode="json") for e in entries], human)


@cli.command()
@click.argument("username")
@pass_app
def undo(app: App, username: str) -> None:
    """Undo the latest change to a profile (repeat to go further back).

    Example:

        linkgen undo alice
    """
    click.echo(app.site.content.undo(username))


# -- export / import ----------------------------------------------------------


@cli.command("export")
@click.argument("username")
@pass_app
def export_cmd(app: App, username: str) -> None:
    """Write a profile with its links as JSON to stdout.

    Example:

        linkgen export alice > alice.json
    """
    exported = app.site.exchange.export_profile(username)
    click.echo(exported.model_dump_json(indent=2))


@cli.command("import")
@click.argument("file", type=click.File("rb"))
@pass_app
def import_cmd(app: App, file: Any) -> None:
    """Create or replace a profile from a 'linkgen export' file ('-' reads stdin).

    Example:

        linkgen import alice.json
    """
    incoming = validate_json(ProfileExport, file.read())
    imported = app.site.exchange.import_profile(incoming)
    click.echo(f"imported @{imported.username} ({len(imported.links)} links)")


# -- build, serve, watch ------------------------------------------------------


LOG_PROGRESS_OVER = 1000  # jobs this long report progress in logs too


@contextmanager
def _progress_bar(enabled: bool, label: str) -> Iterator[Callable[[int, int], None] | None]:
    """A bar on a terminal; in a log (CI), a line every tenth of a long job."""
    if not enabled:
        yield None
        return
    state: dict[str, Any] = {"shown": 0}

    def update(done: int, total: int) -> None:
        if not sys.stderr.isatty():
            tenth = done * 10 // total if total >= LOG_PROGRESS_OVER else 0
            if tenth > state["shown"]:
                state["shown"] = tenth
                click.echo(f"{label}: {done:,} of {total:,}", err=True)
            return
        bar = state.get("bar")
        if bar is None:
            bar = click.progressbar(length=total, label=label, file=sys.stderr)
            bar.__enter__()
            state["bar"] = bar
        bar.update(done - bar.pos)

    try:
        yield update
    finally:
        if "bar" in state:
            state["bar"].__exit__(None, None, None)


def _report_text(report: BuildReport) -> str:
    line = (
        f"rendered {len(report.rendered)}, removed {len(report.removed)}, unchanged "
        f"{report.unchanged} of {report.total} profiles in {report.seconds:.2f}s"
    )
    if report.jobs > 1:
        line += f" ({report.jobs} processes)"
    if report.site_files:
        line += f"; updated {', '.join(report.site_files)}"
    if report.next_change:
        line += f"\nnext scheduled change: {report.next_change} (build again then)"
    return line


@cli.command("build")
@click.option("--full", is_flag=True, help="Render every profile, changed or not.")
@click.option("--jobs", type=click.IntRange(1, 256), help="Processes (default: one per core).")
@json_option
@pass_app
def build_cmd(app: App, full: bool, jobs: int | None, as_json: bool) -> None:
    """Render the profiles that changed since the last build into build/.

    Example:

        linkgen build --jobs 4
    """
    from linkgen.build import build

    with _progress_bar(not as_json, "rendering") as progress:
        report = build(app.site, full=full, jobs=jobs, progress=progress)
    data = {
        "total": report.total,
        "rendered": report.rendered,
        "removed": report.removed,
        "site_files": report.site_files,
        "next_change": report.next_change,
        "seconds": round(report.seconds, 3),
        "jobs": report.jobs,
    }
    _emit(as_json, data, _report_text(report))


@cli.command("publish")
@click.option("--dry-run", is_flag=True, help="Print the plan; change nothing.")
@click.option("--no-build", is_flag=True, help="Publish build/ as it is, without building first.")
@click.option(
    "--verify",
    is_flag=True,
    help="List the target once and repair objects changed or deleted behind our back.",
)
@click.option(
    "--max-deletes",
    type=click.IntRange(0),
    help="Allow this many deletes in this run (default: [publish] max_deletes).",
)
@json_option
@pass_app
def publish_cmd(
    app: App,
    dry_run: bool,
    no_build: bool,
    verify: bool,
    max_deletes: int | None,
    as_json: bool,
) -> None:
    """Build what changed, upload only changed objects, delete removed ones.

    Exit 0 only if everything succeeded; otherwise one line per failure.

    Example:

        linkgen publish --dry-run
    """
    from linkgen.publish.run import publish

    # A dry run builds too: that only touches build/, and the plan must
    # show what a real run would upload.
    built = None
    if not no_build:
        from linkgen.build import build

        with _progress_bar(not as_json, "rendering") as progress:
            built = build(app.site, progress=progress)
    with _progress_bar(not as_json and not dry_run, "uploading") as progress:
        report = publish(
            app.site, dry_run=dry_run, max_deletes=max_deletes, verify=verify, progress=progress
        )
    data = {
        "target": report.target,
        "dry_run": report.dry_run,
        "built": built.rendered if built else None,
        "uploads": report.uploaded,
        "deletes": report.deleted,
        "purge_keys": report.purge_keys,
        "purged": report.purged,
        "purge_pending": report.purge_pending,
        "unchanged": report.unchanged,
        "bytes": report.bytes,
        "failures": report.failures,
        "drift": report.drift,
        "unknown": report.unknown,
        "seconds": round(report.seconds, 3),
    }
    verb = "would upload" if dry_run else "uploaded"
    lines = [
        f"{report.target}: {verb} {len(report.uploaded)} ({report.bytes:,} bytes), "
        f"{'would delete' if dry_run else 'deleted'} {len(report.deleted)}, "
        f"unchanged {report.unchanged} in {report.seconds:.2f}s"
    ]
    if report.drift:
        lines.append(f"repaired {len(report.drift)} objects changed behind our back")
    if report.unknown:
        lines.append(f"{len(report.unknown)} objects under the prefix were not written by linkgen")
    if dry_run:
        lines += [f"  PUT {key}" for key in report.uploaded]
        lines += [f"  DELETE {key}" for key in report.deleted]
    if report.purge_keys:
        shown = " ".join(report.purge_keys[:20])
        more = f" (+{len(report.purge_keys) - 20} more)" if len(report.purge_keys) > 20 else ""
        state = "purged" if report.purged else "to purge" if dry_run else "purge keys"
        lines.append(f"{state}: {shown}{more}")
    _emit(as_json, data, "\n".join(lines))
    if report.failures:
        for failure in report.failures[:50]:
            click.echo(f"Error: {failure}", err=True)
        if len(report.failures) > 50:
            click.echo(f"Error: ... and {len(report.failures) - 50} more", err=True)
        raise click.exceptions.Exit(1)


@cli.command("worker")
@click.option("--once", is_flag=True, help="Publish what is waiting, then exit.")
@pass_app
def worker_cmd(app: App, once: bool) -> None:
    """Publish edits as they are saved: build, upload, purge (one worker per site).

    Stops cleanly on Ctrl+C or SIGTERM after the publish in progress.

    Example:

        linkgen worker
    """
    import signal

    from linkgen.publish.worker import Cycle, run

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    root = app.site.root

    def cycle(done: Cycle) -> None:
        report = done.report
        state = "ok" if report.ok else f"{len(report.failures)} failures"
        click.echo(
            f"published {done.edits} edited profiles: {len(report.uploaded)} uploads, "
            f"{len(report.deleted)} deletes, {len(report.purged)} keys purged "
            f"in {done.seconds:.2f}s ({state})"
        )
        for failure in report.failures[:10]:
            click.echo(f"Error: {failure}", err=True)

    def failed(exc: LinkgenError) -> None:
        click.echo(f"Error: {exc}", err=True)

    if not once:
        click.echo(f"worker for {root} started (Ctrl+C stops)")
    try:
        ok = run(root, stop=stop, once=once, on_cycle=cycle, on_error=failed)
    except KeyboardInterrupt:
        return
    if not ok:
        raise click.exceptions.Exit(1)


def serve_options(f: F) -> F:
    f = click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True)(f)
    return click.option("--host", default="127.0.0.1", show_default=True, help="Bind address.")(f)


@cli.command()
@serve_options
@pass_app
def serve(app: App, host: str, port: int) -> None:
    """Preview build/ in a browser (pages served as the bucket will serve them).

    Example:

        linkgen serve --port 8000
    """
    from linkgen.preview.serve import make_server

    server = _bind(lambda: make_server(app.site.build_dir, host, port), host, port)
    click.echo(f"serving {app.site.build_dir} at {server.url}/ (Ctrl+C stops)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


@cli.command("watch")
@serve_options
@pass_app
def watch_cmd(app: App, host: str, port: int) -> None:
    """Rebuild on every change and serve a preview that reloads itself.

    Example:

        linkgen watch --port 8000
    """
    from linkgen.preview.serve import ReloadSignal, make_server
    from linkgen.preview.watch import watch

    reload = ReloadSignal()
    server = _bind(lambda: make_server(app.site.build_dir, host, port, reload), host, port)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    click.echo(f"watching {app.site.root}; preview at {server.url}/ (Ctrl+C stops)")
    stop = threading.Event()

    def built(report: BuildReport) -> None:
        click.echo(_report_text(report))
        reload.bump()

    def failed(exc: LinkgenError) -> None:
        click.echo(f"Error: {exc}", err=True)

    try:
        watch(app.site.root, on_build=built, on_error=failed, stop=stop)
    except KeyboardInterrupt:
        stop.set()
    finally:
        server.shutdown()
        server.server_close()


T = TypeVar("T")


# -- clicks and views -----------------------------------------------------------


@cli.command("redirector")
@click.option("--host", help="Bind address (default: [redirector] host, 127.0.0.1).")
@click.option("--port", type=click.IntRange(1, 65535), help="Default: [redirector] port.")
@click.option("--workers", type=click.IntRange(1, 64), help="Processes (default: 1).")
@pass_app
def redirector_cmd(app: App, host: str | None, port: int | None, workers: int | None) -> None:
    """Serve /r/<link id> (302 to the link) and /v/<profile id> (the view beacon).

    Clicks and views are written to site_data/clicks.db in batches, off the
    request path. SIGTERM or Ctrl+C stops it after writing every queued one.

    Example:

        linkgen redirector --port 8081
    """
    from linkgen.clicks.server import serve

    settings = app.site.config.redirector
    host, port = host or settings.host, port or settings.port
    _bind(lambda: _probe(host, port), host, port)
    click.echo(f"redirector for {app.site.root} on http://{host}:{port}/ (Ctrl+C stops)")
    root = app.site.root
    app.close()
    serve(root, host=host, port=port, workers=workers or settings.workers)


@cli.command("editor")
@click.option("--host", default="127.0.0.1", show_default=True, help="Bind address.")
@click.option("--port", type=click.IntRange(1, 65535), default=8090, show_default=True)
@pass_app
def editor_cmd(app: App, host: str, port: int) -> None:
    """Serve the creators' web editor (sign in, edit, preview).

    Accounts come from `linkgen user add`. Behind https, set [editor] base_url
    to the https address: the session cookie is then Secure.

    Example:

        linkgen editor --port 8090
    """
    import os

    from granian import Granian
    from granian.constants import HTTPModes, Interfaces, Loops
    from granian.log import LogLevels

    _bind(lambda: _probe(host, port), host, port)
    root = app.site.root
    click.echo(f"editor for {root} on http://{host}:{port}/ (Ctrl+C stops)")
    app.close()
    os.environ["LINKGEN_SITE"] = str(root)
    Granian(
        "linkgen.editor.app:app_from_env",
        factory=True,
        address=host,
        port=port,
        interface=Interfaces.ASGI,
        workers=1,
        loop=Loops.uvloop,
        http=HTTPModes.http1,
        websockets=False,
        log_level=LogLevels.warning,
    ).serve()


def _probe(host: str, port: int) -> None:
    """Fail with a clear message if the address cannot be listened on."""
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host, port))


@cli.command("stats")
@click.argument("username")
@click.option("--days", type=click.IntRange(1, 3660), default=30, show_default=True)
@click.option("--bots", is_flag=True, help="Count bots and link-preview fetchers too.")
@click.option("--csv", "as_csv", is_flag=True, help="One CSV row per day.")
@click.option(
    "--html",
    "html_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write a self-contained dashboard page (SVG charts, no JavaScript) to this file.",
)
@click.option(
    "--from-s3",
    "from_s3",
    is_flag=True,
    help="Compute from the hourly files every redirector shipped ([clicks] ship_to).",
)
@json_option
@pass_app
def stats_cmd(
    app: App,
    username: str,
    days: int,
    bots: bool,
    as_csv: bool,
    html_file: Path | None,
    from_s3: bool,
    as_json: bool,
) -> None:
    """Views, unique views, clicks, unique clickers and CTR of a profile.

    Example:

        linkgen stats alice --days 7 --html alice-stats.html
    """
    from linkgen.clicks import stats
    from linkgen.clicks.db import ClickStore, clicks_path

    if from_s3:
        from linkgen.clicks.shipping import s3_events

        with s3_events(app.site.config.clicks) as shipped:
            numbers = stats.compute(
                app.site.content, shipped, username.lower(), days=days, bots=bots
            )
    else:
        clicks = ClickStore(clicks_path(app.site.root))
        try:
            numbers = stats.compute(
                app.site.content, clicks, username.lower(), days=days, bots=bots
            )
        finally:
            clicks.close()
    if html_file is not None:
        from linkgen.clicks.dashboard import render
        from linkgen.fsutil import write_file

        write_file(html_file.resolve(), render(numbers).encode("utf-8"))
        click.echo(f"wrote {html_file}")
        return
    if as_csv:
        click.echo(stats.as_csv(numbers), nl=False)
        return
    _emit(as_json, stats.as_dict(numbers), stats.as_text(numbers))


@cli.group("clicks")
def clicks_group() -> None:
    """Raw click and view events beyond this machine.

    Example:

        linkgen clicks ship
    """


@clicks_group.command("ship")
@json_option
@pass_app
def clicks_ship(app: App, as_json: bool) -> None:
    """Copy each closed hour of events to S3 as gzip NDJSON (never twice).

    Objects: <prefix>clicks/dt=YYYY-MM-DD/hour=HH/<instance>.ndjson.gz

    Example:

        linkgen clicks ship
    """
    import time

    from linkgen.clicks.db import ClickStore, clicks_path
    from linkgen.clicks.shipping import ship

    store = ClickStore(clicks_path(app.site.root))
    try:
        report = ship(store, app.site.config.clicks, now_ms=int(time.time() * 1000))
    finally:
        store.close()
    data = {"shipped": [{"key": key, "events": count} for key, count in report.shipped]}
    lines = [f"shipped {key} ({count:,} events)" for key, count in report.shipped]
    _emit(as_json, data, "\n".join(lines) or "nothing to ship: every closed hour is shipped")


def _bind(make: Callable[[], T], host: str, port: int) -> T:
    try:
        return make()
    except OSError as exc:
        raise LinkgenError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


def main(args: list[str] | None = None, prog_name: str = "linkgen") -> None:
    """The console entry point: run one command, then exit at once.

    Interpreter teardown frees every object one by one — about 0.2 s after a
    publish, mostly boto3's service models. By the time a command returns the
    database is closed and output flushed, so the process leaves without it.
    """
    try:
        cli.main(args=args, prog_name=prog_name)
        code = 0
    except SystemExit as done:
        code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
    sys.stdout.flush()
    sys.stderr.flush()
    logging.shutdown()
    os._exit(code)
