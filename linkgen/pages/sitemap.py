"""``sitemap.xml``: one file up to 50,000 URLs, else an index of parts.

Past 50,000 URLs, pages go in parts by their profile's row id (10,000 ids a
part), so a profile stays in its part for life and an edit rewrites only its
own small part and the index, never the whole sitemap.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING

from linkgen.fsutil import remove, write_if_changed

if TYPE_CHECKING:
    from linkgen.store.build_state import BuildState

MAX_URLS = 50_000  # the protocol's limit for one file
PART_SIZE = 10_000
INDEX = "sitemap.xml"
PARTS_KEY = "sitemap_lastmod"  # build meta: each part's lastmod
_HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n'
_NS = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'


def part_of(rowid: int) -> int:
    return (rowid - 1) // PART_SIZE


def part_name(part: int) -> str:
    return f"sitemap-{part + 1}.xml"


def urlset(site_url: str, entries: Iterable[tuple[str, str, str | None]]) -> bytes:
    """Usernames are [a-z0-9_-] and domains IDNA host names by rule; only the site
    URL needs escaping. A profile with a domain of its own is listed at its root."""
    base = escape(site_url, quote=False)
    body = "".join(
        f"<url><loc>{f'https://{domain}/' if domain else f'{base}/{username}'}</loc>"
        f"<lastmod>{built[:10]}</lastmod></url>\n"
        for username, built, domain in entries
    )
    return f"{_HEAD}<urlset {_NS}>\n{body}</urlset>\n".encode()


def index(site_url: str, parts: Mapping[int, str]) -> bytes:
    base = escape(site_url, quote=False)
    body = "".join(
        f"<sitemap><loc>{base}/{part_name(part)}</loc><lastmod>{built[:10]}</lastmod></sitemap>\n"
        for part, built in sorted(parts.items())
    )
    return f"{_HEAD}<sitemapindex {_NS}>\n{body}</sitemapindex>\n".encode()


def write(store: BuildState, site_url: str, out: Path, changed: set[int] | None) -> list[str]:
    """Rewrite the sitemap: the parts in ``changed`` (None: all) and the index."""
    if changed is not None and not changed:
        return []
    known: dict[str, str] = json.loads(store.build_meta(PARTS_KEY) or "{}")
    files: dict[str, bytes] = {}
    lastmod: dict[int, str] = {}
    if store.count_built() <= MAX_URLS:
        files[INDEX] = urlset(site_url, store.sitemap_entries())
    else:
        lastmod = {int(part): built for part, built in known.items()}
        parts = store.sitemap_part_numbers()
        for part in parts:
            name = part_name(part)
            if (
                changed is None
                or part in changed
                or part not in lastmod
                or not (out / name).exists()
            ):
                entries = store.sitemap_entries(part)
                lastmod[part] = max(entry[1] for entry in entries)
                files[name] = urlset(site_url, entries)
        lastmod = {part: lastmod[part] for part in parts}
        files[INDEX] = index(site_url, lastmod)
    written = [name for name, data in files.items() if write_if_changed(out / name, data)]
    for part in {int(p) for p in known} - set(lastmod):
        if remove(out / part_name(part)):
            written.append(part_name(part))
    store.set_build_meta(PARTS_KEY, json.dumps({str(p): m for p, m in lastmod.items()}))
    return written
