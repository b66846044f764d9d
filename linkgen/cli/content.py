"""History and undo, export and import, pages brought over from other tools,
QR codes and stored media."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from linkgen.cli.base import App, LinkgenGroup, cli, json_option, pass_app
from linkgen.cli.output import emit


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
    from linkgen.records import page_address

    url = page_address(app.site.config.site.url, profile.username, profile.domain)
    target = (out_file or Path(f"{profile.username}-qr.{fmt}")).resolve()
    write_file(target, profile_qr(url, "png" if fmt == "png" else "svg"))
    click.echo(f"wrote {target} ({url})")
    from linkgen.cli.base import warn_loopback

    warn_loopback(app, "the code")


def _finish_import(app: App, imported: Any, base: Path | None, theme: str | None) -> None:
    from linkgen.importers import save

    if theme:
        imported.profile["theme"] = theme
    created, notes = save(app.site, imported, base)
    social = sum(1 for link in created.links if link.social)
    links = sum(1 for link in created.links if link.url)
    blocks = len(created.links) - links
    click.echo(
        f"imported @{created.username}: {links} link{'s' * (links != 1)} "
        f"({social} in the social row)"
        + (f", {blocks} block{'s' * (blocks != 1)}" if blocks else "")
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

    html, base = read_page(source, app.site.config.fetch.allow_networks)
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

    html, base = read_page(source, app.site.config.fetch.allow_networks)
    _finish_import(app, parse_littlelink(html, username), base, theme)


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
    emit(as_json, [e.model_dump(mode="json") for e in entries], human)


@cli.command()
@click.argument("username")
@pass_app
def undo(app: App, username: str) -> None:
    """Undo the latest change to a profile (repeat to go further back).

    Example:

        linkgen undo alice
    """
    click.echo(app.site.content.undo(username))


@cli.command("export")
@click.argument("username")
@click.option(
    "--bundle",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write a zip with the profile and its pictures here, for another site.",
)
@pass_app
def export_cmd(app: App, username: str, bundle: Path | None) -> None:
    """Write a profile with its links as JSON to stdout (with --bundle, a zip file
    that also holds its avatar, thumbnails and background picture).

    Example:

        linkgen export alice --bundle alice.zip
    """
    exported = app.site.exchange.export_profile(username)
    if bundle is None:
        click.echo(exported.model_dump_json(indent=2))
        return
    from linkgen.fsutil import write_file
    from linkgen.store import bundles

    write_file(bundle, bundles.write(exported, app.site.media_dir))
    pictures = len(bundles.pictures_of(exported))
    click.echo(f"wrote @{username} and {pictures} pictures to {bundle}")


@cli.command("import")
@click.argument("file", type=click.File("rb"))
@click.option(
    "--replace", is_flag=True, help="Overwrite the profile with the file's id if it differs."
)
@pass_app
def import_cmd(app: App, file: Any, replace: bool) -> None:
    """Create a profile from a 'linkgen export' file or bundle ('-' reads stdin),
    checked like any other input; with --replace, overwrite the profile it was
    exported from.

    Example:

        linkgen import alice.json
    """
    from linkgen.store import bundles

    data = file.read()
    pictures: dict[str, bytes] = {}
    if bundles.is_bundle(data):
        incoming, pictures = bundles.read(data)
    else:
        from linkgen.models import ProfileExport, validate_json

        incoming = validate_json(ProfileExport, data)
    bundles.keep(pictures, app.site.media_dir)  # before the profile that shows them
    imported = app.site.exchange.import_profile(incoming, replace=replace)
    shown = f", {len(pictures)} pictures" if pictures else ""
    click.echo(f"imported @{imported.username} ({len(imported.links)} links{shown})")
