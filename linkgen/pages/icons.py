"""Brand icons: Simple Icons (3,400+ brands, from PyPI) plus a few of our own.

The page draws each icon once, as an SVG ``<symbol>``, and every link using
it refers to it with ``<use>``. Icons are single-colour paths on a 24x24
grid, filled with the text colour of the theme, so they keep its contrast.

Simple Icons lacks some brands (it drops a logo when its owner asks), so a
small fallback set of plain shapes fills in for those, for e-mail and phone
links; anything else detected but without an icon gets a generic link icon.

Importing the whole Simple Icons package takes about a second, so the paths
used are kept in a small JSON file in the site's cache: a build imports
Simple Icons only when a page uses a brand for the first time.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import logging
import os
import re
from difflib import get_close_matches
from pathlib import Path
from typing import NamedTuple

log = logging.getLogger(__name__)

NO_ICON = "none"  # a link's icon turned off by hand


class Icon(NamedTuple):
    slug: str
    title: str
    path: str  # SVG path data on a 24x24 viewBox


# Plain shapes for what Simple Icons does not carry. Drawn for linkgen.
FALLBACK: dict[str, Icon] = {
    "linkedin": Icon(
        "linkedin",
        "LinkedIn",
        "M4 2h16a2 2 0 0 1 2 2v16a2 2 0 0 1-2 2H4a2 2 0 0 1-2-2V4a2 2 0 0 1 2-2zm3 7v9h3V9H7z"
        "m1.5-4.5a1.75 1.75 0 1 0 0 3.5 1.75 1.75 0 0 0 0-3.5zM12 9v9h3v-5c0-1.3.7-2 1.7-2s1.3.7"
        " 1.3 2v5h3v-5.6c0-2.8-1.5-3.6-3.3-3.6-1.3 0-2.2.6-2.7 1.3V9h-3z",
    ),
    "email": Icon(
        "email",
        "E-mail",
        "M3 4h18a2 2 0 0 1 2 2v12a2 2 0 0 1-2 2H3a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2zm0 3.2V18h18V7.2"
        "l-9 6.3-9-6.3zM4.8 6 12 11l7.2-5H4.8z",
    ),
    "phone": Icon(
        "phone",
        "Phone",
        "M6.6 2.2 9.4 5c.6.6.6 1.5.1 2.1L8 8.8a13 13 0 0 0 7.2 7.2l1.7-1.5c.6-.5 1.5-.5 2.1.1l2.8"
        " 2.8c.6.6.6 1.6 0 2.2l-1.6 1.6c-1 1-2.6 1.3-3.9.7A21 21 0 0 1 2.1 7.7c-.6-1.3-.3-2.9.7-3.9"
        "l1.6-1.6c.6-.6 1.6-.6 2.2 0z",
    ),
}
GENERIC = Icon(
    "link",
    "Link",
    "M10.6 13.4a1 1 0 0 1 0-1.4l3.5-3.5a1 1 0 1 1 1.4 1.4L12 13.4a1 1 0 0 1-1.4 0zM7.4 20.6a4"
    " 4 0 0 1-2.8-6.8l2.8-2.8a1 1 0 0 1 1.4 1.4l-2.8 2.8a2 2 0 0 0 2.8 2.8l2.8-2.8a1 1 0 0 1 1.4"
    " 1.4l-2.8 2.8a4 4 0 0 1-2.8 1.2zm9.2-7.2a1 1 0 0 1-.7-1.7l2.8-2.8a2 2 0 0 0-2.8-2.8l-2.8"
    " 2.8a1 1 0 0 1-1.4-1.4l2.8-2.8a4 4 0 0 1 5.6 5.6l-2.8 2.8a1 1 0 0 1-.7.3z",
)

_PATH = re.compile(r'<path[^>]*\sd="([^"]+)"', re.DOTALL)


@functools.lru_cache(maxsize=1)
def catalog() -> frozenset[str]:
    """Every Simple Icons slug, from the package's file names (nothing imported)."""
    spec = importlib.util.find_spec("simplepycons")
    if spec is None or not spec.submodule_search_locations:
        return frozenset()
    directory = next(iter(spec.submodule_search_locations))
    return frozenset(
        name[1:-3]
        for name in os.listdir(directory)
        if name.startswith("_") and not name.startswith("__") and name.endswith(".py")
    )


def exists(slug: str) -> bool:
    return slug in FALLBACK or slug in catalog()


def suggest(slug: str) -> str | None:
    close = get_close_matches(slug, [*FALLBACK, *catalog()], n=1, cutoff=0.75)
    return close[0] if close else None


BUNDLED = Path(__file__).with_name("bundled_icons.json")


@functools.lru_cache(maxsize=1)
def bundled() -> dict[str, Icon]:
    """The brands linkgen detects by host, extracted from Simple Icons ahead of time
    (``python -m linkgen.pages.icons``; a test checks them against the installed package)."""
    try:
        data = json.loads(BUNDLED.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {slug: Icon(slug, title, path) for slug, (title, path) in data.items()}


class IconBook:
    """Icons by slug: the site's cache, the bundled ones, then Simple Icons itself."""

    def __init__(self, cache_file: Path | None = None) -> None:
        self.cache_file = cache_file
        self._icons: dict[str, Icon] = dict(bundled())
        if cache_file is not None and cache_file.is_file():
            try:
                stored = json.loads(cache_file.read_text(encoding="utf-8"))
                self._icons.update({slug: Icon(slug, *value) for slug, value in stored.items()})
            except (OSError, ValueError, TypeError):
                log.warning("ignoring an unreadable icon cache: %s", cache_file)

    def get(self, slug: str) -> Icon:
        """The icon of ``slug``; the generic link icon if no such brand is known."""
        icon = self._icons.get(slug) or FALLBACK.get(slug)
        if icon is None:
            icon = _from_simple_icons(slug)
            if icon is None:
                return GENERIC
            self._icons[slug] = icon
            self._save()
        return icon

    def _save(self) -> None:
        if self.cache_file is None:
            return
        from linkgen.fsutil import write_file

        shipped = bundled()
        data = {
            slug: [icon.title, icon.path]
            for slug, icon in sorted(self._icons.items())
            if slug not in shipped
        }
        try:  # written whole and renamed: a parallel build at worst recomputes an entry
            write_file(self.cache_file, json.dumps(data).encode("utf-8"))
        except OSError as exc:
            log.warning("could not save the icon cache %s: %s", self.cache_file, exc)


def _from_simple_icons(slug: str) -> Icon | None:
    if slug not in catalog():
        return None
    from simplepycons import all_icons  # type: ignore[attr-defined]  # ~1 s, once a new brand

    try:
        found = all_icons[slug]
    except KeyError:
        return None
    match = _PATH.search(found.raw_svg)
    if match is None:
        return None
    return Icon(slug, found.title, " ".join(match.group(1).split()))


def extract(slugs: list[str]) -> dict[str, list[str]]:
    """[title, path] of each slug from Simple Icons (what bundled_icons.json holds)."""
    found = {}
    for slug in sorted(set(slugs)):
        icon = _from_simple_icons(slug)
        if icon is not None:
            found[slug] = [icon.title, icon.path]
    return found


if __name__ == "__main__":
    from linkgen.pages.brands import curated

    BUNDLED.write_text(json.dumps(extract(curated()), indent=0) + "\n", encoding="utf-8")
    print(f"wrote {BUNDLED}")
