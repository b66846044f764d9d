"""The redirector's read-only view: where each link sends a visitor, and when (its
UTM tags added, its rules with them)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from linkgen.clicks import smart
from linkgen.records import LINK_KINDS_SQL
from linkgen.store.database import Database, chunked


class LinkRoute(NamedTuple):
    link_id: str
    profile_id: str
    username: str
    url: str
    enabled: bool
    starts_at: str | None  # ISO 8601 UTC, "Z"
    ends_at: str | None
    rules: str | None = None  # its rules as stored (JSON), tried in order
    lock: str | None = None  # its lock as stored (JSON): a password or an age first
    split: str | None = None  # its A/B test as stored (JSON), its URLs tagged


class Routes:
    def __init__(self, database: Database) -> None:
        self.database = database

    def profile_hashes(self) -> dict[str, str]:
        """profile id -> content hash (changes with any edit of the profile or its links)."""
        return dict(self.database.conn.execute("SELECT id, content_hash FROM profiles").fetchall())

    def link_routes(self, profile_ids: Sequence[str]) -> list[LinkRoute]:
        """Where each link of these profiles sends a visitor, and when it may."""
        routes: list[LinkRoute] = []
        for chunk in chunked(profile_ids):
            rows = self.database.conn.execute(
                "SELECT l.id, l.profile_id, p.username, l.url, l.enabled, l.starts_at, l.ends_at, "
                "l.rules, p.utm, l.utm, l.title, l.lock, l.split "
                "FROM links l JOIN profiles p ON p.id = l.profile_id "
                f"WHERE l.kind IN {LINK_KINDS_SQL} "
                f"AND l.profile_id IN ({', '.join('?' * len(chunk))})",
                chunk,
            )
            for r in rows:
                tags = smart.utm_tags(r[8], r[9], r[10])
                url, rules = smart.target(r[3], tags, r[7])
                split = smart.tagged_split(r[12], tags)
                routes.append(
                    LinkRoute(r[0], r[1], r[2], url, bool(r[4]), r[5], r[6], rules, r[11], split)
                )
        return routes

    def signup_forms(self, profile_ids: Sequence[str]) -> list[LinkRoute]:
        """The sign-up blocks of these profiles (``url`` empty: a form has none)."""
        forms: list[LinkRoute] = []
        for chunk in chunked(profile_ids):
            rows = self.database.conn.execute(
                "SELECT l.id, l.profile_id, p.username, '', l.enabled, l.starts_at, l.ends_at "
                "FROM links l JOIN profiles p ON p.id = l.profile_id "
                f"WHERE l.kind = 'signup' AND l.profile_id IN ({', '.join('?' * len(chunk))})",
                chunk,
            )
            forms.extend(LinkRoute(r[0], r[1], r[2], r[3], bool(r[4]), r[5], r[6]) for r in rows)
        return forms

    def owners(self, link_ids: Sequence[str]) -> dict[str, str]:
        """link id -> its profile id, for the links that exist."""
        found: dict[str, str] = {}
        for chunk in chunked(sorted(set(link_ids))):
            rows = self.database.conn.execute(
                f"SELECT id, profile_id FROM links WHERE kind IN {LINK_KINDS_SQL} "
                f"AND id IN ({', '.join('?' * len(chunk))})",
                chunk,
            )
            found.update(dict(rows.fetchall()))
        return found

    def existing(self, profile_ids: Sequence[str]) -> set[str]:
        """Those of ``profile_ids`` that exist."""
        found: set[str] = set()
        for chunk in chunked(sorted(set(profile_ids))):
            rows = self.database.conn.execute(
                f"SELECT id FROM profiles WHERE id IN ({', '.join('?' * len(chunk))})", chunk
            )
            found |= {row[0] for row in rows}
        return found
