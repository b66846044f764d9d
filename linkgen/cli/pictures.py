"""Pictures given on the command line (a file or an http(s) URL): checked,
re-encoded and kept with the site, the same way the editor's uploads are."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from linkgen.cli.base import App

if TYPE_CHECKING:
    from linkgen.pages.images import Purpose

PURPOSES: dict[str, Purpose] = {"avatar": "avatar", "social_image": "card"}


def stored_picture(app: App, given: str, purpose: Purpose, label: str) -> str:
    """Read ``given``, check and re-encode it for ``purpose``; return its /_m/ reference."""
    from linkgen.pages import images  # loaded only when a picture is given

    data, source = images.read_source(given, app.site.config.fetch.allow_networks)
    media = images.ingest(data, purpose, source=source)
    click.echo(f"{label}: {source} → {media.ref} ({media.width}x{media.height})", err=True)
    return images.save(media, app.site.media_dir)


def with_media(app: App, values: dict[str, Any], field: str) -> dict[str, Any]:
    """``values`` with the image in ``field`` (a file or URL) stored with the site."""
    given = values.get(field)
    if not given or given.startswith("/_m/"):
        return values
    ref = stored_picture(app, given, PURPOSES.get(field, "thumbnail"), field)
    return {**values, field: ref}


def background_change(app: App, given: str | None) -> dict[str, str | None]:
    """--background-image as a style change: imported, or '' to remove it."""
    if given is None:
        return {}
    if not given:
        return {"background_image": None}
    return {"background_image": stored_picture(app, given, "background", "background_image")}
