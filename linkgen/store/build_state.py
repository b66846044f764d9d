"""What the build knows: pages built and from what, the build queue, build meta.

A no-op build of 100,000 profiles is a few small indexed queries here (see
docs/architecture.md, "Deciding what to build").
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import NamedTuple

from linkgen.records import LINK_KINDS_SQL, PageLink, PageProfile
from linkgen.store import journal
from linkgen.store.database import Database, chunked


class Stale(NamedTuple):
    """A profile whose page must be rendered, and what it will be built from."""

    id: str
    username: str
    content_hash: str
    theme: str
    previous_username: str | None
    rowid: int


class BuiltPage(NamedTuple):
    profile_id: str
    username: str
    content_hash: str
    theme_fingerprint: str
    next_change: str | None
    built_at: str
    sitemap_part: int


# A link's fields that most links leave empty, as one JSON array (or NULL when
# all are): SQLite hands Python one value instead of twelve, which is half the
# cost of reading a page's links. In PageLink's order, from thumbnail to titles.
_RARE = (
    "CASE WHEN l.thumbnail IS NULL AND l.starts_at IS NULL AND l.ends_at IS NULL "
    "AND l.icon IS NULL AND l.sensitive IS NULL AND l.body IS NULL AND l.contact IS NULL "
    "AND l.embed = 0 AND l.rules IS NULL AND l.lock IS NULL AND l.split IS NULL "
    "AND l.utm IS NULL THEN NULL ELSE json_array("
    "l.thumbnail, l.starts_at, l.ends_at, l.icon, l.sensitive, l.body, l.contact, "
    # looked up for embeds only: a join would search for every link
    "CASE WHEN l.embed THEN (SELECT media FROM embed_art WHERE url = l.url) END, "
    "l.rules IS NOT NULL OR l.lock IS NOT NULL OR l.split IS NOT NULL, "
    "l.utm, l.lock IS NOT NULL, "
    """CASE WHEN l.split LIKE '%"title":%' THEN l.split END) END"""
)
_new = tuple.__new__


class BuildState:
    def __init__(self, database: Database) -> None:
        self.database = database

    _STALE = (
        "SELECT p.id, p.username, p.content_hash, p.theme, b.username, p.rowid "
        "FROM profiles p LEFT JOIN build_state b ON b.profile_id = p.id "
    )

    def all_pages(self) -> list[Stale]:
        """Every profile, without its previous username (see ``outdated_usernames``)."""
        rows = self.database.conn.execute(
            "SELECT id, username, content_hash, theme, NULL, rowid FROM profiles"
        )
        return [Stale(*row) for row in rows]

    def outdated_usernames(self) -> list[str]:
        """Usernames that have a built page but no profile any more."""
        rows = self.database.conn.execute(
            "SELECT username FROM build_state EXCEPT SELECT username FROM profiles"
        )
        return [row[0] for row in rows]

    def pages_of(self, ids: Sequence[str]) -> list[Stale]:
        result: list[Stale] = []
        for chunk in chunked(ids):
            marks = ",".join("?" * len(chunk))
            query = self._STALE + f"WHERE p.id IN ({marks})"
            result += [Stale(*row) for row in self.database.conn.execute(query, chunk)]
        return result

    def queued_for_build(self) -> list[tuple[str, int]]:
        """(profile id, token) of every profile edited since it was last built."""
        return [(row[0], row[1]) for row in self.database.conn.execute("SELECT * FROM build_queue")]

    def disabled_links(self, profile_ids: Sequence[str]) -> dict[str, list[str]]:
        """profile id -> the ids of its disabled links."""
        found: dict[str, list[str]] = {}
        for chunk in chunked(profile_ids):
            rows = self.database.conn.execute(
                f"SELECT profile_id, id FROM links WHERE enabled = 0 AND kind IN {LINK_KINDS_SQL} "
                f"AND profile_id IN ({','.join('?' * len(chunk))})",
                chunk,
            )
            for profile_id, link_id in rows:
                found.setdefault(profile_id, []).append(link_id)
        return found

    def embeds_without_art(self, profile_ids: Sequence[str], *, tried_before: str) -> list[str]:
        """The embedded URLs of these profiles with no thumbnail yet (never tried, or
        last tried before ``tried_before``)."""
        found: set[str] = set()
        for chunk in chunked(profile_ids):
            marks = ",".join("?" * len(chunk))
            rows = self.database.conn.execute(
                f"SELECT DISTINCT l.url FROM links l LEFT JOIN embed_art a ON a.url = l.url "
                f"WHERE l.embed = 1 AND l.enabled = 1 AND l.profile_id IN ({marks}) "
                f"AND (a.url IS NULL OR (a.media IS NULL AND a.fetched_at < ?))",
                [*chunk, tried_before],
            )
            found |= {row[0] for row in rows}
        return sorted(found)

    def record_art(self, url: str, media: str | None, error: str | None, at: str) -> None:
        with self.database.writing():
            self.database.conn.execute(
                "INSERT OR REPLACE INTO embed_art (url, media, fetched_at, error) "
                "VALUES (?, ?, ?, ?)",
                (url, media, at, error),
            )

    def requeue(self, profile_ids: Sequence[str]) -> None:
        """Build these profiles again next time (their page could not be made now)."""
        with self.database.writing():
            self.database.conn.executemany(
                "INSERT OR IGNORE INTO build_queue (profile_id, token) VALUES (?, 0)",
                [(pid,) for pid in profile_ids],
            )

    def reset_build_state(self) -> None:
        """Forget every built page (before a build that records them all again)."""
        with self.database.writing():
            self.database.conn.execute("DELETE FROM build_state")

    def pages_due(self, at: str) -> list[str]:
        """Built pages with a link schedule boundary at or before ``at`` (indexed)."""
        rows = self.database.conn.execute(
            "SELECT profile_id FROM build_state WHERE next_change IS NOT NULL AND next_change <= ?",
            (at,),
        )
        return [row[0] for row in rows]

    def pages_not_built_with(self, fingerprints: Sequence[str]) -> list[str]:
        """Built pages whose theme fingerprint is not one of ``fingerprints``.

        A scan of the narrow build-state rows: an index on the fingerprint
        would cost more on every build's writes than this costs on the rare
        build after a theme or template change.
        """
        marks = ",".join("?" * len(fingerprints))
        rows = self.database.conn.execute(
            f"SELECT profile_id FROM build_state WHERE theme_fingerprint NOT IN ({marks})",
            list(fingerprints),
        )
        return [row[0] for row in rows]

    def fingerprints_built(self) -> set[str]:
        rows = self.database.conn.execute("SELECT DISTINCT theme_fingerprint FROM build_state")
        return {row[0] for row in rows}

    def themes_in_use(self) -> list[str]:
        return [row[0] for row in self.database.conn.execute("SELECT DISTINCT theme FROM profiles")]

    def count_profiles(self) -> int:
        return int(self.database.conn.execute("SELECT count(*) FROM profiles").fetchone()[0])

    def usernames(self) -> list[str]:
        return [row[0] for row in self.database.conn.execute("SELECT username FROM profiles")]

    def orphaned_pages(self, ids: Sequence[str]) -> list[tuple[str, str, int]]:
        """(profile id, username, sitemap part) of pages among ``ids`` whose profile is gone."""
        found: list[tuple[str, str, int]] = []
        for chunk in chunked(ids):
            marks = ",".join("?" * len(chunk))
            rows = self.database.conn.execute(
                f"SELECT b.profile_id, b.username, b.sitemap_part FROM build_state b "
                f"LEFT JOIN profiles p ON p.id = b.profile_id "
                f"WHERE p.id IS NULL AND b.profile_id IN ({marks})",
                chunk,
            )
            found += [(row[0], row[1], row[2]) for row in rows]
        return found

    def page_profiles(self, ids: Sequence[str]) -> list[PageProfile]:
        """The render inputs of ``ids``: profile fields and enabled links, in order."""
        result: list[PageProfile] = []
        conn = self.database.conn
        for chunk in chunked(ids):
            marks = ",".join("?" * len(chunk))
            links: dict[str, list[PageLink]] = {}
            last, shown = None, []
            for pid, lid, title, url, social, kind, embed, rare in conn.execute(
                f"SELECT l.profile_id, l.id, l.title, l.url, l.social, l.kind, l.embed, {_RARE} "
                f"FROM links l "
                f"WHERE l.enabled = 1 AND l.profile_id IN ({marks}) "
                f"ORDER BY l.profile_id, l.position",
                chunk,
            ):
                if pid != last:  # the rows come profile by profile
                    last, shown = pid, links.setdefault(pid, [])
                if rare is None:  # most links: a title and a URL, nothing else
                    common = (lid, title, url, None, None, None, None, social, None, kind, embed)
                    link = _new(PageLink, (*common, None, None, None, 0, None, 0, None, None))
                else:
                    thumbnail, starts, ends, icon, sensitive, *more = json.loads(rare)
                    head = (lid, title, url, thumbnail, starts, ends, icon, social, sensitive)
                    link = _new(PageLink, (*head, kind, embed, *more, None))
                shown.append(link)
            for row in conn.execute(
                f"SELECT id, username, display_name, bio, avatar, theme, style, seo_title, "
                f"seo_description, updated_at, sensitive, social_image, created_at, language, "
                f"domain, utm "
                f"FROM profiles "
                f"WHERE id IN ({marks})",
                chunk,
            ):
                result.append(
                    PageProfile(
                        id=row[0],
                        username=row[1],
                        display_name=row[2],
                        bio=row[3],
                        avatar=row[4],
                        theme=row[5],
                        style=json.loads(row[6]) if row[6] != "{}" else {},
                        seo_title=row[7],
                        seo_description=row[8],
                        updated_at=row[9],
                        links=tuple(links.get(row[0], ())),
                        sensitive=row[10],
                        social_image=row[11],
                        created_at=row[12],
                        language=row[13],
                        domain=row[14],
                        utm=row[15],
                    )
                )
        return result

    def record_builds(
        self,
        pages: Sequence[BuiltPage],
        removed: Sequence[str] = (),
        queue: Sequence[tuple[str, int]] = (),
        pending: tuple[str, str] | None = None,
        touched: Sequence[str] = (),
    ) -> None:
        """Record built pages, and take the queue entries a build covered off the queue.

        An entry re-queued by an edit made during the build has a new token
        and stays for the next build. ``pending`` is a build-meta (key, value)
        written in the same transaction (work still owed, like sitemap parts),
        ``touched`` the names of build/ the pages' writing changed (the journal).
        """
        with self.database.writing():
            journal.insert(self.database.conn, touched)
            if pending is not None:
                self.database.conn.execute(
                    "INSERT OR REPLACE INTO build_meta (key, value) VALUES (?, ?)", pending
                )
            self.database.conn.executemany(
                "DELETE FROM build_state WHERE profile_id = ?", [(pid,) for pid in removed]
            )
            self.database.conn.executemany(
                "INSERT OR REPLACE INTO build_state (profile_id, username, content_hash, "
                "theme_fingerprint, next_change, built_at, sitemap_part) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                pages,
            )
            self.database.conn.executemany(
                "DELETE FROM build_queue WHERE profile_id = ? AND token = ?", queue
            )

    def sitemap_entries(self, part: int | None = None) -> list[tuple[str, str, str | None]]:
        """(username, last built, domain) of the pages in one sitemap part, or all."""
        where, params = ("WHERE b.sitemap_part = ?", (part,)) if part is not None else ("", ())
        rows = self.database.conn.execute(
            f"SELECT b.username, b.built_at, p.domain FROM build_state b "
            f"LEFT JOIN profiles p ON p.id = b.profile_id {where} "
            f"ORDER BY b.sitemap_part, b.username",
            params,
        )
        return [(row[0], row[1], row[2]) for row in rows]

    def domains(self) -> list[tuple[str, str]]:
        """(username, domain) of every profile with a domain of its own."""
        rows = self.database.conn.execute(
            "SELECT username, domain FROM profiles WHERE domain IS NOT NULL ORDER BY username"
        )
        return [(row[0], row[1]) for row in rows]

    def directory(self, limit: int) -> tuple[list[str], int]:
        """The first ``limit`` usernames in order, and how many more there are."""
        conn = self.database.conn
        rows = conn.execute("SELECT username FROM profiles ORDER BY username LIMIT ?", (limit,))
        usernames = [row[0] for row in rows]
        total = int(conn.execute("SELECT count(*) FROM profiles").fetchone()[0])
        return usernames, max(0, total - len(usernames))

    def count_built(self) -> int:
        return int(self.database.conn.execute("SELECT count(*) FROM build_state").fetchone()[0])

    def sitemap_part_numbers(self) -> list[int]:
        """The non-empty sitemap parts (a skip-scan over a small index)."""
        parts: list[int] = []
        row = self.database.conn.execute("SELECT min(sitemap_part) FROM build_state").fetchone()
        while row is not None and row[0] is not None:
            parts.append(row[0])
            row = self.database.conn.execute(
                "SELECT min(sitemap_part) FROM build_state WHERE sitemap_part > ?", (row[0],)
            ).fetchone()
        return parts

    def page_owners(self, usernames: Sequence[str] | None = None) -> dict[str, str]:
        """username -> profile id of every built page (or of ``usernames``)."""
        conn = self.database.conn
        if usernames is None:
            rows = conn.execute("SELECT username, profile_id FROM build_state")
            return {row[0]: row[1] for row in rows}
        found = {}
        for chunk in chunked(list(usernames)):
            marks = ",".join("?" * len(chunk))
            for row in conn.execute(
                f"SELECT username, profile_id FROM build_state WHERE username IN ({marks})", chunk
            ):
                found[row[0]] = row[1]
        return found

    def build_meta(self, key: str) -> str | None:
        row = self.database.conn.execute(
            "SELECT value FROM build_meta WHERE key = ?", (key,)
        ).fetchone()
        return None if row is None else str(row[0])

    def set_build_meta(self, key: str, value: str) -> None:
        with self.database.writing():
            self.database.conn.execute(
                "INSERT OR REPLACE INTO build_meta (key, value) VALUES (?, ?)", (key, value)
            )

    def next_scheduled_change(self) -> str | None:
        row = self.database.conn.execute(
            "SELECT min(next_change) FROM build_state WHERE next_change IS NOT NULL"
        ).fetchone()
        return None if row is None or row[0] is None else str(row[0])
