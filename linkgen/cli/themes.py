"""``linkgen theme …`` and ``linkgen themes``: the themes, and a profile's theme."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from linkgen.cli.base import App, LinkgenGroup, cli, json_option, pass_app, version_option
from linkgen.cli.output import emit
from linkgen.errors import InvalidInput


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
    broken = app.site.broken_themes
    for name, why in sorted(broken.items()):
        human += f"\n{name:<16} CANNOT BE USED: {why}"
    emit(as_json, [*rows, *({"name": n, "error": w} for n, w in sorted(broken.items()))], human)


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
    tokens = found.tokens.as_file()
    ratio, pair = lowest_contrast(found.tokens)
    lines = [f"{name}: {found.tokens.name} — {found.tokens.description}"]
    lines += [f"  {key}: {value}" for key, value in tokens.items() if key not in ("name",)]
    lines.append(f"  lowest contrast: {ratio:.2f}:1 ({pair})")
    shown = {**tokens, "contrast": round(ratio, 2), "lowest_contrast_pair": pair}
    emit(as_json, shown, "\n".join(lines))


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
    from linkgen.models import ProfileFields, validate

    fields = validate(ProfileFields, {"theme": name})
    updated = app.site.content.update_profile(
        username.lower(), fields, expected_version=expected_version
    )
    click.echo(f"@{updated.username} now uses {updated.theme} (version {updated.version})")


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
        emit(as_json, rows, "\n".join(f"{row['name']:<16} {row['description']}" for row in rows))
        return
    from linkgen.fsutil import write_file
    from linkgen.pages.gallery import render_gallery

    page = render_gallery(app.site.renderer(), app.site.themes)
    write_file(gallery_file.resolve(), page)
    click.echo(f"wrote {gallery_file} ({len(app.site.themes)} themes)")
