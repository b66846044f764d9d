"""Bring a creator's page over from Linktree or LittleLink.

- Linktree: a saved profile page (or its URL) carries the profile as JSON in
  its ``__NEXT_DATA__`` script: name, bio, avatar, links with thumbnails and
  content gates, section headers (header blocks here), hidden links (kept,
  disabled), and the social icons. A page without a title or description
  gives its ``og:title`` and ``og:description``; Linktree's own
  ``utm_source=linktree`` is taken off every link.
- LittleLink: its ``index.html``: the avatar (``img.avatar``, or in older
  markup the first picture before the name, whatever its class), the name
  (``h1``), the bio (the paragraph after it) and the buttons (``a.button``).

Every field goes through the same validation as an edit. A link linkgen
cannot take (no URL, an unsafe scheme) is left out and listed in the notes,
with everything else the page had that linkgen does not bring over; an avatar
or thumbnail that cannot be fetched or fails the image checks is left out the
same way — the rest is imported.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from linkgen.errors import InvalidInput, LinkgenError
from linkgen.models import NewLink, NewProfile, Profile, validate
from linkgen.pages import images, metatags
from linkgen.site import Site

MAX_PAGE_BYTES = 5 * 1024 * 1024


@dataclass
class Imported:
    profile: dict[str, Any]
    links: list[dict[str, Any]] = field(default_factory=list)
    avatar: str | None = None  # a URL or a file to fetch, check and store
    thumbnails: dict[int, str] = field(default_factory=dict)  # link index -> URL or file
    notes: list[str] = field(default_factory=list)


class ImportFailed(LinkgenError):
    """The page is not one this importer understands."""


def read_page(source: str, allow: Sequence[str] = ()) -> tuple[str, Path | None]:
    """A saved page from a file or an http(s) URL, and the folder its relative paths use
    (``allow``: private networks a fetch may reach, see ``linkgen.fetch``)."""
    if source.startswith(("https://", "http://")):
        from linkgen.fetch import get

        page = get(source, max_bytes=MAX_PAGE_BYTES, allow=allow)
        return page.decode("utf-8", "replace"), None
    path = Path(source).expanduser()
    try:
        return path.read_text(encoding="utf-8", errors="replace"), path.resolve().parent
    except FileNotFoundError:
        raise InvalidInput(f"{source}: no such file (give a saved page or its URL)") from None
    except OSError as exc:
        raise InvalidInput(f"{source}: {exc.strerror or exc}") from None


# -- Linktree ---------------------------------------------------------------------


class _NextData(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.inside = False
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.inside = tag == "script" and dict(attrs).get("id") == "__NEXT_DATA__"

    def handle_endtag(self, tag: str) -> None:
        self.inside = False

    def handle_data(self, data: str) -> None:
        if self.inside:
            self.text.append(data)


def parse_linktree(html: str) -> Imported:
    """A Linktree page's profile. The page is hostile: any value of an unexpected
    shape counts as absent, and a page that is not a profile is one clear error."""
    finder = _NextData()
    finder.feed(html)
    if not finder.text:
        raise ImportFailed("no Linktree profile data in this page (no __NEXT_DATA__ script)")
    try:
        props = _dict(_dict(json.loads("".join(finder.text)).get("props")).get("pageProps"))
    except (ValueError, RecursionError, AttributeError):
        raise ImportFailed("the page's __NEXT_DATA__ is not a Linktree profile") from None
    if not props:
        raise ImportFailed("the page's __NEXT_DATA__ is not a Linktree profile")
    account = _dict(props.get("account"))
    username = _str(account.get("username")) or _str(props.get("username"))
    tags = metatags.read(html)
    name = _text(account.get("pageTitle") or props.get("pageTitle"))
    bio = _text(account.get("description") or props.get("description"))
    imported = Imported(
        profile={
            "username": _username(username),
            "display_name": (name or _og_title(tags.get("og:title", "")))[:80],
            "bio": bio or _text(tags.get("og:description", "")),
        },
        avatar=_str(account.get("profilePictureUrl") or props.get("profilePictureUrl")) or None,
    )
    if imported.profile["username"] != username.lower():
        imported.notes.append(
            f"the Linktree username '{username[:80]}' is @{imported.profile['username']} here "
            "(linkgen usernames take a-z, 0-9, '-' and '_'; --username picks another)"
        )
    warning = _gate(account.get("contentWarning"), props.get("hasSensitiveContent"))
    if warning:
        imported.profile["sensitive"] = warning
    for entry in _entries(props.get("links") or account.get("links")):
        _add_link(imported, entry)
    for entry in _entries(props.get("socialLinks") or account.get("socialLinks")):
        url = _str(entry.get("url"))
        if url:
            name = _str(entry.get("type") or "social").replace("_", " ").title()
            imported.links.append({"title": name[:100], "url": url, "social": True})
    return imported


def _og_title(title: str) -> str:
    """Linktree's og:title, "Nova Sounds | Linktree", without the "| Linktree"."""
    return _text(re.sub(r"\s*[|·-]\s*Linktree\s*$", "", title, flags=re.IGNORECASE))


def _untracked(url: str) -> str:
    """``url`` without the ``utm_source=linktree`` Linktree adds; the rest kept as written."""
    base, mark, query = url.partition("?")
    if not mark:
        return url
    query, hash_mark, fragment = query.partition("#")
    kept = [part for part in query.split("&") if part.lower() != "utm_source=linktree" and part]
    return base + ("?" + "&".join(kept) if kept else "") + hash_mark + fragment


def _add_link(imported: Imported, entry: dict[str, Any]) -> None:
    title, url = _text(entry.get("title")), _untracked(_str(entry.get("url")))
    kind = _str(entry.get("type"))[:40]
    if kind.upper() == "HEADER" and title:
        imported.links.append({"kind": "header", "title": title})
        return
    if not url:
        imported.notes.append(f"left out '{title[:80] or kind}': it has no URL")
        return
    link: dict[str, Any] = {"title": title or url, "url": url}
    if entry.get("isHidden") is True or entry.get("hidden") is True or entry.get("active") is False:
        link["enabled"] = False
    gate = _dict(_dict(entry.get("rules")).get("gate"))
    warning = _gate(gate.get("age"), gate.get("sensitiveContent"))
    if warning:
        link["sensitive"] = warning
    thumbnail = _str(_dict(entry.get("modifiers")).get("thumbnailUrl"))
    if thumbnail:
        imported.thumbnails[len(imported.links)] = thumbnail
    imported.links.append(link)


def _entries(value: Any) -> list[dict[str, Any]]:
    """The objects of a list, in their ``position`` order (a position that is not a
    number sorts last)."""
    entries = [entry for entry in _list(value) if isinstance(entry, dict)]

    def position(entry: dict[str, Any]) -> float:
        found = entry.get("position")
        if isinstance(found, int | float) and not isinstance(found, bool):
            return float(found)
        return float("inf")

    return sorted(entries, key=position)


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _username(raw: str) -> str:
    """Linktree allows dots (nova.sounds); linkgen's nearest: nova-sounds."""
    return re.sub(r"[^a-z0-9_]+", "-", raw.lower()).strip("-_")


def _gate(age: Any, sensitive: Any) -> str | None:
    """Linktree's age gate or sensitive-content flag, as one of linkgen's warnings."""
    years = age.get("age") if isinstance(age, dict) else age
    if isinstance(years, str):
        digits = re.search(r"\d+", years)
        years = int(digits.group()) if digits else None
    if isinstance(years, int) and years >= 18:
        return "25+" if years >= 25 else "21+" if years >= 21 else "18+"
    return "sensitive" if sensitive else None


def _text(value: Any) -> str:
    return " ".join(str(value or "").split()) if not isinstance(value, str) else value.strip()


# -- LittleLink -------------------------------------------------------------------


class _LittleLink(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.avatar: str | None = None
        self.name = ""
        self.bio = ""
        self.links: list[tuple[str, str]] = []
        self.first_picture: str | None = None  # older markup: the avatar is any <img> first
        self.other_links = 0  # links that are not buttons (the footer's, a menu's)
        self._capture: str | None = None  # "name" | "bio" | "link"
        self._href = ""
        self._buffer: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {key: value or "" for key, value in attrs}
        classes = attributes.get("class", "").split()
        if tag == "img" and "avatar" in classes and self.avatar is None:
            self.avatar = attributes.get("src") or None
        elif tag == "img" and not self.name and self._capture is None:
            self.first_picture = self.first_picture or attributes.get("src") or None
        elif tag == "a" and "button" not in classes:
            self.other_links += 1
        if tag == "h1" and not self.name:
            self._start("name")
        elif tag == "p" and self.name and not self.bio and not self.links:
            self._start("bio")
        elif tag == "a" and "button" in classes:
            self._href = attributes.get("href", "")
            self._start("link")

    def _start(self, what: str) -> None:
        self._capture, self._buffer = what, []

    def handle_endtag(self, tag: str) -> None:
        text = " ".join("".join(self._buffer).split())
        if self._capture == "name" and tag == "h1":
            self.name = text
        elif self._capture == "bio" and tag == "p":
            self.bio = text
        elif self._capture == "link" and tag == "a":
            self.links.append((text, self._href))
        else:
            return
        self._capture = None

    def handle_data(self, data: str) -> None:
        if self._capture:
            self._buffer.append(data)


def parse_littlelink(html: str, username: str) -> Imported:
    page = _LittleLink()
    page.feed(html)
    if not page.links and not page.name:
        raise ImportFailed("no LittleLink profile in this page (no h1 and no a.button links)")
    imported = Imported(
        profile={"username": username, "display_name": page.name[:80], "bio": page.bio},
        avatar=page.avatar or page.first_picture,
    )
    if page.avatar is None and page.first_picture:
        imported.notes.append("took the first picture before the name as the avatar")
    elif imported.avatar is None:
        imported.notes.append("found no avatar (no img.avatar, no picture before the name)")
    if page.other_links:
        imported.notes.append(
            f"left out {page.other_links} links that are not buttons (a footer's or a menu's)"
        )
    imported.notes.append(
        "left out the page's colours, fonts and button icons: pick a theme with "
        "`linkgen theme set` (brand icons come from each link's URL)"
    )
    for title, href in page.links:
        if not href or href.startswith("#"):
            imported.notes.append(f"left out '{title}': it links nowhere ({href or 'no href'})")
            continue
        imported.links.append({"title": title or href, "url": href})
    return imported


# -- saving -----------------------------------------------------------------------


def save(site: Site, imported: Imported, base: Path | None) -> tuple[Profile, list[str]]:
    """Create the profile with every link that passes validation, in one transaction.

    Pictures are fetched only for what is kept: the avatar, and the thumbnails of
    the links that passed validation and fit under the link limit.
    """
    notes = list(imported.notes)
    values = dict(imported.profile)
    if imported.avatar:
        values["avatar"] = _image(site, imported.avatar, "avatar", base, notes, "the avatar")
    new_profile = validate(NewProfile, {k: v for k, v in values.items() if v not in (None, "")})
    kept: list[tuple[int, NewLink]] = []
    for index, found in enumerate(imported.links):
        try:
            kept.append(
                (index, validate(NewLink, {k: v for k, v in found.items() if v is not None}))
            )
        except InvalidInput as exc:
            notes.append(f"left out '{found['title']}': {exc}")
    limit = site.content.max_links
    if len(kept) > limit:
        notes.append(f"left out {len(kept) - limit} links over the limit")
        kept = kept[:limit]
    links: list[NewLink] = []
    for index, link in kept:
        source = imported.thumbnails.get(index)
        if source:
            label = f"the thumbnail of '{link.title}'"
            thumbnail = _image(site, source, "thumbnail", base, notes, label)
            link = link.model_copy(update={"thumbnail": thumbnail})
        links.append(link)
    site.exchange.bulk_create([(new_profile, links)])
    return site.content.get(new_profile.username), notes


def _image(
    site: Site,
    source: str,
    purpose: images.Purpose,
    base: Path | None,
    notes: list[str],
    label: str,
) -> str | None:
    if not source.startswith(("https://", "http://")):
        local = _inside(base, source)
        if local is None:
            notes.append(f"left out {label}: '{source[:80]}' is not in the page's own folder")
            return None
        source = str(local)
    try:
        data, name = images.read_source(source, site.config.fetch.allow_networks)
        return images.save(images.ingest(data, purpose, source=name), site.media_dir)
    except LinkgenError as exc:
        notes.append(f"left out {label}: {exc}")
        return None


def _inside(base: Path | None, relative: str) -> Path | None:
    """``relative`` within the imported page's folder, or None if it points outside it
    (an absolute path, ``..``, a link out): a page may bring its own images only."""
    if base is None or relative.startswith(("/", "data:", "~")) or "\\" in relative:
        return None
    path = (base / relative).resolve()
    return path if path.is_relative_to(base.resolve()) and path != base.resolve() else None
