"""The only code that touches the content database (``site_data/linkgen.db``).

Every edit runs in one ``BEGIN IMMEDIATE`` transaction that also writes the
history row (with the state before, for undo) and the outbox row (for the
publisher), so an edit is never half-applied and never forgotten.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import secrets
import sqlite3
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from linkgen import rules
from linkgen.errors import Conflict, InvalidInput, LimitReached, NotFound, NothingToUndo, StaleEdit
from linkgen.models import (
    HistoryEntry,
    Link,
    LinkChanges,
    NewLink,
    NewProfile,
    Profile,
    ProfileExport,
    ProfileFields,
    Style,
    validate,
)
from linkgen.pages.themes import ThemeFile, contrast_failures
from linkgen.records import PageLink, PageProfile, iso, now
from linkgen.store import changes
from linkgen.store.migrations import migrate, pending_migrations

if TYPE_CHECKING:
    import sqlite_utils

log = logging.getLogger(__name__)

_NOT_ALNUM = str.maketrans("", "", "-_")  # ids never start with '-' (CLI options)
_ID_LENGTH = 12  # 71 bits; uniqueness is still checked against every id ever issued
_CHUNK = 500  # ids per IN (...) query


class ProfileSummary(NamedTuple):
    id: str
    username: str
    display_name: str
    theme: str
    links: int
    version: int
    updated_at: str


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


class Published(NamedTuple):
    """What the manifest says a target holds under one key."""

    key: str
    body_hash: str
    header_hash: str
    size: int
    mtime_ns: int
    surrogate_keys: str


class LinkRoute(NamedTuple):
    link_id: str
    profile_id: str
    username: str
    url: str
    enabled: bool
    starts_at: str | None  # ISO 8601 UTC, "Z"
    ends_at: str | None


class _Unchanged(Exception):
    """Raised inside an edit transaction that changed nothing, to roll it back."""


_ADDED_LATER = ("icon", "social", "sensitive")  # link fields of schema version 5


def content_hash(profile: Profile) -> str:
    """Hash of everything about a profile that can change its page."""
    data = profile.model_dump(mode="json", exclude={"created_at", "updated_at", "version"})
    for link in data["links"]:
        del link["created_at"], link["updated_at"]
        for name in _ADDED_LATER:  # unset: hashed as before they existed, so an upgrade
            if not link[name]:  # does not rebuild and republish every page
                del link[name]
    for name in ("sensitive", "social_image"):  # as for links: unset, hashed as before
        if not data[name]:
            del data[name]
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


MANIFEST_SHARDS = 256


def manifest_shard(key: str) -> int:
    """Which of the bucket's manifest shards holds ``key`` (stable across runs)."""
    return hashlib.blake2b(key.encode(), digest_size=2).digest()[0] % MANIFEST_SHARDS


def _check_version(profile: Profile, expected: int | None) -> None:
    """Optimistic concurrency: refuse an edit based on a version that is not current."""
    if expected is not None and expected != profile.version:
        raise StaleEdit(
            f"@{profile.username} changed since version {expected} "
            f"(now version {profile.version}); reload it and try again"
        )


def _name(username: str) -> str:
    try:
        return rules.username(username)
    except ValueError:
        raise NotFound(f"no profile '{username}'") from None


class Store:
    def __init__(
        self,
        path: Path,
        *,
        max_links: int = rules.MAX_LINKS,
        themes: Mapping[str, ThemeFile] | None = None,
        default_theme: str = "default",
        run_migrations: bool = True,
        actor: str = "linkgen",
    ) -> None:
        self.path = path
        self.actor = actor  # who edits, for the history, unless a call names someone
        self.max_links = max_links
        self.themes = themes
        self.default_theme = default_theme
        self.conn = conn = sqlite3.connect(str(path), timeout=10)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        if run_migrations and pending_migrations(conn):
            migrate(self.db)

    @functools.cached_property
    def db(self) -> sqlite_utils.Database:
        """sqlite-utils over the same connection (imported only when needed)."""
        import sqlite_utils

        return sqlite_utils.Database(self.conn)

    def close(self) -> None:
        self.conn.close()

    # -- transactions -------------------------------------------------------

    @contextmanager
    def _writing(self) -> Iterator[None]:
        conn = self.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def _q(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        cursor = self.conn.execute(sql, params)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def _issue_id(self, kind: str) -> str:
        while True:
            candidate = secrets.token_urlsafe(_ID_LENGTH).translate(_NOT_ALNUM)[:_ID_LENGTH]
            if len(candidate) < _ID_LENGTH:
                continue
            cursor = self.conn.execute(
                "INSERT OR IGNORE INTO issued_ids (id, kind) VALUES (?, ?)", (candidate, kind)
            )
            if cursor.rowcount == 1:
                return candidate

    # -- reading ------------------------------------------------------------

    def _profile_row(self, username: str) -> dict[str, Any]:
        try:
            name = rules.username(username)
        except ValueError:
            name = username
        rows = self._q("SELECT * FROM profiles WHERE username = ?", (name,))
        if not rows:
            raise NotFound(f"no profile '{username}'")
        return dict(rows[0])

    def _load(self, row: dict[str, Any]) -> Profile:
        links = self._q("SELECT * FROM links WHERE profile_id = ? ORDER BY position", (row["id"],))
        data = {k: v for k, v in row.items() if k != "content_hash"}
        data["style"] = json.loads(row["style"])
        data["links"] = [
            {k: v for k, v in dict(link).items() if k != "profile_id"} for link in links
        ]
        for link in data["links"]:
            link["enabled"] = bool(link["enabled"])
            link["social"] = bool(link["social"])
        return Profile.model_validate(data, strict=False)

    def get(self, username: str) -> Profile:
        return self._load(self._profile_row(username))

    def exists(self, username: str) -> bool:
        try:
            self._profile_row(username)
        except NotFound:
            return False
        return True

    def list_profiles(self) -> list[ProfileSummary]:
        rows = self.conn.execute(
            "SELECT p.id, p.username, p.display_name, p.theme, "
            "(SELECT count(*) FROM links l WHERE l.profile_id = p.id), p.version, p.updated_at "
            "FROM profiles p ORDER BY p.username"
        ).fetchall()
        return [ProfileSummary(*row) for row in rows]

    def count_profiles(self) -> int:
        return int(self.conn.execute("SELECT count(*) FROM profiles").fetchone()[0])

    # -- writing: the one edit path ------------------------------------------

    def _edit(
        self,
        username: str,
        apply: Callable[[Profile], None],
        *,
        action: str,
        actor: str | None,
        expected_version: int | None,
    ) -> Profile:
        try:
            with self._writing():
                row = self._profile_row(username)
                before = self._load(row)
                _check_version(before, expected_version)
                apply(before)
                after = self._load(self._q("SELECT * FROM profiles WHERE id = ?", (before.id,))[0])
                self._check_look(after)
                digest = content_hash(after)
                if digest == row["content_hash"]:
                    raise _Unchanged
                return self._commit_edit(before, after, digest, action=action, actor=actor)
        except _Unchanged:
            return before

    def _commit_edit(
        self, before: Profile | None, after: Profile, digest: str, *, action: str, actor: str | None
    ) -> Profile:
        version = (before.version if before else after.version - 1) + 1
        stamp = iso(now())
        self.conn.execute(
            "UPDATE profiles SET version = ?, updated_at = ?, content_hash = ? WHERE id = ?",
            (version, stamp, digest, after.id),
        )
        self._record(after.id, after.username, action, actor, before, after, version, stamp)
        return self._load(self._q("SELECT * FROM profiles WHERE id = ?", (after.id,))[0])

    def _record(
        self,
        profile_id: str,
        username: str,
        action: str,
        actor: str | None,
        before: Profile | None,
        after: Profile | None,
        version: int | None,
        stamp: str,
    ) -> None:
        cursor = self.conn.execute(
            "INSERT INTO history (profile_id, username, at, actor, action, summary, before, "
            "version_after) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                profile_id,
                username,
                stamp,
                actor or self.actor,
                action,
                changes.summarize(before, after),
                before.model_dump_json() if before else None,
                version,
            ),
        )
        self.conn.execute(
            "INSERT INTO outbox (profile_id, username, version, deleted, queued_at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT(profile_id) DO UPDATE SET "
            "username = excluded.username, version = excluded.version, "
            "deleted = excluded.deleted, queued_at = excluded.queued_at",
            (profile_id, username, version or 0, int(after is None), stamp),
        )
        self.conn.execute(
            "INSERT OR REPLACE INTO build_queue (profile_id, token) VALUES (?, ?)",
            (profile_id, cursor.lastrowid),
        )

    def _check_theme(self, theme: str | None) -> None:
        if theme is not None and self.themes is not None and theme not in self.themes:
            known = ", ".join(sorted(self.themes))
            raise InvalidInput(f"theme: no theme '{theme}' (known: {known})")

    def _check_look(self, profile: Profile) -> None:
        """The profile's colours on its theme keep every text readable (WCAG AA)."""
        tokens = self.themes.get(profile.theme) if self.themes is not None else None
        if tokens is None:
            return
        failures = contrast_failures(tokens, profile.style.model_dump(exclude_none=True))
        if failures:
            raise InvalidInput(f"style: {'; '.join(failures)}")

    def _check_username_free(self, username: str, profile_id: str | None = None) -> None:
        rows = self._q("SELECT id FROM profiles WHERE username = ?", (username,))
        if rows and rows[0]["id"] != profile_id:
            raise Conflict(f"username: '{username}' is taken")

    # -- profiles -----------------------------------------------------------

    def create_profile(self, new: NewProfile, *, actor: str | None = None) -> Profile:
        theme = new.theme or self.default_theme
        self._check_theme(theme)
        moment = now()
        stamp = iso(moment)
        with self._writing():
            self._check_username_free(new.username)
            profile = Profile(
                id=self._issue_id("profile"),
                username=new.username,
                display_name=new.display_name or "",
                bio=new.bio or "",
                avatar=new.avatar,
                theme=theme,
                style=new.style or Style(),
                sensitive=new.sensitive,
                social_image=new.social_image,
                seo_title=new.seo_title,
                seo_description=new.seo_description,
                created_at=moment,
                updated_at=moment,
                version=1,
            )
            self._write_profile(profile)
            self._record(
                profile.id, profile.username, "profile.add", actor, None, profile, 1, stamp
            )
        return profile

    def _write_profile(self, profile: Profile) -> None:
        """Replace a profile row and all its links with ``profile``."""
        self._check_look(profile)
        conn = self.conn
        conn.execute(
            "INSERT INTO profiles (id, username, display_name, bio, avatar, theme, style, "
            "sensitive, social_image, seo_title, seo_description, created_at, updated_at, "
            "version, content_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT(id) DO UPDATE SET "
            "username = excluded.username, display_name = excluded.display_name, "
            "bio = excluded.bio, avatar = excluded.avatar, theme = excluded.theme, "
            "style = excluded.style, sensitive = excluded.sensitive, "
            "social_image = excluded.social_image, "
            "seo_title = excluded.seo_title, "
            "seo_description = excluded.seo_description, updated_at = excluded.updated_at, "
            "version = excluded.version, content_hash = excluded.content_hash",
            (
                profile.id,
                profile.username,
                profile.display_name,
                profile.bio,
                profile.avatar,
                profile.theme,
                profile.style.model_dump_json(exclude_none=True),
                profile.sensitive,
                profile.social_image,
                profile.seo_title,
                profile.seo_description,
                iso(profile.created_at),
                iso(profile.updated_at),
                profile.version,
                content_hash(profile),
            ),
        )
        self._write_links(profile.id, profile.links)

    def _write_links(self, profile_id: str, links: Sequence[Link]) -> None:
        """Replace a profile's links with ``links``, numbered in this order."""
        conn = self.conn
        conn.execute("DELETE FROM links WHERE profile_id = ?", (profile_id,))
        conn.executemany(
            "INSERT INTO links (id, profile_id, position, title, url, enabled, thumbnail, "
            "icon, social, sensitive, starts_at, ends_at, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    link.id,
                    profile_id,
                    position,
                    link.title,
                    link.url,
                    int(link.enabled),
                    link.thumbnail,
                    link.icon,
                    int(link.social),
                    link.sensitive,
                    iso(link.starts_at) if link.starts_at else None,
                    iso(link.ends_at) if link.ends_at else None,
                    iso(link.created_at),
                    iso(link.updated_at),
                )
                for position, link in enumerate(links, start=1)
            ],
        )

    def update_profile(
        self,
        username: str,
        fields: ProfileFields,
        *,
        actor: str | None = None,
        expected_version: int | None = None,
    ) -> Profile:
        self._check_theme(fields.theme)
        given = fields.model_fields_set

        def apply(before: Profile) -> None:
            values: dict[str, Any] = {}
            for name in given:
                value = getattr(fields, name)
                if name == "style":
                    value = (value or Style()).model_dump_json(exclude_none=True)
                elif name in ("display_name", "bio") and value is None:
                    value = ""
                elif name == "theme" and value is None:
                    value = self.default_theme
                values[name] = value
            if values:
                assignments = ", ".join(f"{name} = ?" for name in values)
                self.conn.execute(
                    f"UPDATE profiles SET {assignments} WHERE id = ?", [*values.values(), before.id]
                )

        return self._edit(
            username, apply, action="profile.set", actor=actor, expected_version=expected_version
        )

    def rename_profile(
        self,
        username: str,
        new_username: str,
        *,
        actor: str | None = None,
        expected_version: int | None = None,
    ) -> Profile:
        target = validate(NewProfile, {"username": new_username}).username

        def apply(before: Profile) -> None:
            self._check_username_free(target, before.id)
            self.conn.execute("UPDATE profiles SET username = ? WHERE id = ?", (target, before.id))

        return self._edit(
            username, apply, action="profile.rename", actor=actor, expected_version=expected_version
        )

    def delete_profile(
        self, username: str, *, actor: str | None = None, expected_version: int | None = None
    ) -> Profile:
        with self._writing():
            before = self.get(username)
            _check_version(before, expected_version)
            self.conn.execute("DELETE FROM links WHERE profile_id = ?", (before.id,))
            self.conn.execute("DELETE FROM profiles WHERE id = ?", (before.id,))
            self._record(
                before.id, before.username, "profile.rm", actor, before, None, None, iso(now())
            )
        return before

    # -- links --------------------------------------------------------------

    def _link(self, profile: Profile, link_id: str) -> Link:
        for link in profile.links:
            if link.id == link_id:
                return link
        raise NotFound(f"link '{link_id}' is not a link of @{profile.username}")

    def add_link(
        self,
        username: str,
        new: NewLink,
        *,
        position: int | None = None,
        actor: str | None = None,
        expected_version: int | None = None,
    ) -> tuple[Profile, Link]:
        created: list[str] = []

        def apply(before: Profile) -> None:
            count = len(before.links)
            if count >= self.max_links:
                raise LimitReached(
                    f"links: @{before.username} already has {count} links, the limit is "
                    f"{self.max_links}; remove one first"
                )
            at = count + 1 if position is None else position
            if not 1 <= at <= count + 1:
                raise InvalidInput(f"position: must be between 1 and {count + 1}")
            link_id = self._issue_id("link")
            created.append(link_id)
            moment = now()
            link = Link(id=link_id, position=at, created_at=moment, updated_at=moment, **dict(new))
            links = list(before.links)
            links.insert(at - 1, link)
            self._write_links(before.id, links)

        after = self._edit(
            username, apply, action="link.add", actor=actor, expected_version=expected_version
        )
        return after, self._link(after, created[0])

    def edit_link(
        self,
        username: str,
        link_id: str,
        edit: LinkChanges,
        *,
        actor: str | None = None,
        expected_version: int | None = None,
        action: str = "link.edit",
    ) -> tuple[Profile, Link]:
        def apply(before: Profile) -> None:
            current = self._link(before, link_id)
            merged = current.model_dump(include=set(NewLink.model_fields))
            merged.update({name: getattr(edit, name) for name in edit.model_fields_set})
            checked = validate(NewLink, merged, strict=False)
            self.conn.execute(
                "UPDATE links SET title = ?, url = ?, enabled = ?, thumbnail = ?, icon = ?, "
                "social = ?, sensitive = ?, starts_at = ?, ends_at = ?, updated_at = ? "
                "WHERE id = ?",
                (
                    checked.title,
                    checked.url,
                    int(checked.enabled),
                    checked.thumbnail,
                    checked.icon,
                    int(checked.social),
                    checked.sensitive,
                    iso(checked.starts_at) if checked.starts_at else None,
                    iso(checked.ends_at) if checked.ends_at else None,
                    iso(now()),
                    link_id,
                ),
            )

        after = self._edit(
            username, apply, action=action, actor=actor, expected_version=expected_version
        )
        return after, self._link(after, link_id)

    def move_link(
        self,
        username: str,
        link_id: str,
        to: int,
        *,
        actor: str | None = None,
        expected_version: int | None = None,
    ) -> Profile:
        def apply(before: Profile) -> None:
            link = self._link(before, link_id)
            if not 1 <= to <= len(before.links):
                raise InvalidInput(f"to: must be between 1 and {len(before.links)}")
            order = [item for item in before.links if item.id != link.id]
            order.insert(to - 1, link)
            self._write_links(before.id, order)

        return self._edit(
            username, apply, action="link.mv", actor=actor, expected_version=expected_version
        )

    def remove_link(
        self,
        username: str,
        link_id: str,
        *,
        actor: str | None = None,
        expected_version: int | None = None,
    ) -> Profile:
        def apply(before: Profile) -> None:
            self._link(before, link_id)
            self._write_links(before.id, [item for item in before.links if item.id != link_id])

        return self._edit(
            username, apply, action="link.rm", actor=actor, expected_version=expected_version
        )

    # -- history and undo ---------------------------------------------------

    def history(self, username: str, *, limit: int = 50) -> list[HistoryEntry]:
        try:
            where, key = "profile_id = ?", self._profile_row(username)["id"]
        except NotFound:
            where, key = "username = ?", _name(username)
        rows = self._q(
            f"SELECT seq, at, actor, action, summary, version_after, undone FROM history "
            f"WHERE {where} ORDER BY seq DESC LIMIT ?",
            (key, limit),
        )
        if not rows:
            raise NotFound(f"no profile '{username}' and no history for it")
        return [HistoryEntry.model_validate(dict(row), strict=False) for row in rows]

    def undo(self, username: str, *, actor: str | None = None) -> str:
        """Undo the latest change not yet undone; return what was undone."""
        with self._writing():
            try:
                row = self._profile_row(username)
            except NotFound:
                row = None
            if row is not None:
                entries = self._q(
                    "SELECT * FROM history WHERE profile_id = ? AND undone = 0 "
                    "AND action != 'undo' ORDER BY seq DESC LIMIT 1",
                    (row["id"],),
                )
            else:
                entries = self._q(
                    "SELECT * FROM history WHERE username = ? AND undone = 0 "
                    "AND action = 'profile.rm' ORDER BY seq DESC LIMIT 1",
                    (_name(username),),
                )
            if not entries:
                raise NothingToUndo(f"nothing to undo for @{username}")
            entry = dict(entries[0])
            current = self._load(row) if row is not None else None
            stamp = iso(now())
            if entry["before"] is None:  # undoing the creation
                assert current is not None
                self.conn.execute("DELETE FROM links WHERE profile_id = ?", (current.id,))
                self.conn.execute("DELETE FROM profiles WHERE id = ?", (current.id,))
                self._record(
                    current.id, current.username, "undo", actor, current, None, None, stamp
                )
            else:
                snapshot = Profile.model_validate_json(entry["before"])
                self._check_username_free(snapshot.username, snapshot.id)
                latest = self.conn.execute(
                    "SELECT max(coalesce(version_after, 0)) FROM history WHERE profile_id = ?",
                    (snapshot.id,),
                ).fetchone()[0]
                version = max(latest or 0, snapshot.version) + 1
                restored = snapshot.model_copy(update={"version": version, "updated_at": now()})
                self._write_profile(restored)
                self._record(
                    restored.id, restored.username, "undo", actor, current, restored, version, stamp
                )
            self.conn.execute("UPDATE history SET undone = 1 WHERE seq = ?", (entry["seq"],))
        return f"undid #{entry['seq']} {entry['action']}: {entry['summary']}"

    # -- export and import --------------------------------------------------

    def export_profile(self, username: str) -> ProfileExport:
        return ProfileExport(profile=self.get(username))

    def import_profile(self, export: ProfileExport, *, actor: str | None = None) -> Profile:
        incoming = export.profile
        self._check_theme(incoming.theme)
        if len(incoming.links) > self.max_links:
            raise LimitReached(
                f"links: the file has {len(incoming.links)} links, the limit is {self.max_links}"
            )
        with self._writing():
            self._check_username_free(incoming.username, incoming.id)
            self._claim_ids(incoming)
            existing = self._q("SELECT * FROM profiles WHERE id = ?", (incoming.id,))
            if not existing:
                self._write_profile(incoming)
                self._record(
                    incoming.id,
                    incoming.username,
                    "import",
                    actor,
                    None,
                    incoming,
                    incoming.version,
                    iso(now()),
                )
                return incoming
            before = self._load(existing[0])
            replaced = incoming.model_copy(
                update={"version": before.version, "created_at": before.created_at}
            )
            digest = content_hash(replaced)
            if digest == existing[0]["content_hash"]:
                return before
            self._write_profile(replaced)
            return self._commit_edit(before, replaced, digest, action="import", actor=actor)

    def _claim_ids(self, profile: Profile) -> None:
        """Imported ids must be new, or already belong to the same objects."""
        wanted = [(profile.id, "profile")] + [(link.id, "link") for link in profile.links]
        for object_id, kind in wanted:
            if not object_id or len(object_id) > 64 or not object_id.isascii():
                raise InvalidInput(f"id: '{object_id}' is not a valid {kind} id")
            known = self._q("SELECT kind FROM issued_ids WHERE id = ?", (object_id,))
            if known and known[0]["kind"] != kind:
                raise Conflict(f"id: '{object_id}' already names a {known[0]['kind']}")
        for link in profile.links:
            owner = self._q("SELECT profile_id FROM links WHERE id = ?", (link.id,))
            if owner and owner[0]["profile_id"] != profile.id:
                raise Conflict(f"id: link '{link.id}' belongs to another profile")
        self.conn.executemany("INSERT OR IGNORE INTO issued_ids (id, kind) VALUES (?, ?)", wanted)

    # -- outbox -------------------------------------------------------------

    def outbox(self) -> list[dict[str, Any]]:
        return [dict(row) for row in self._q("SELECT * FROM outbox ORDER BY queued_at")]

    def outbox_marks(self) -> list[tuple[str, int, int]]:
        """(profile id, version, deleted) of every profile waiting to be published."""
        rows = self.conn.execute("SELECT profile_id, version, deleted FROM outbox")
        return [(row[0], row[1], row[2]) for row in rows]

    def waiting_to_publish(self, profile_id: str) -> bool:
        """Whether an edit of this profile is still to be published (and purged)."""
        row = self.conn.execute("SELECT 1 FROM outbox WHERE profile_id = ?", (profile_id,))
        return row.fetchone() is not None

    def outbox_done(self, marks: Sequence[tuple[str, int, int]]) -> None:
        """Clear rows published as read; a row an edit changed since then stays."""
        with self._writing():
            self.conn.executemany(
                "DELETE FROM outbox WHERE profile_id = ? AND version = ? AND deleted = ?", marks
            )

    # -- build support ------------------------------------------------------

    _STALE = (
        "SELECT p.id, p.username, p.content_hash, p.theme, b.username, p.rowid "
        "FROM profiles p LEFT JOIN build_state b ON b.profile_id = p.id "
    )

    def all_pages(self) -> list[Stale]:
        """Every profile, without its previous username (see ``outdated_usernames``)."""
        rows = self.conn.execute(
            "SELECT id, username, content_hash, theme, NULL, rowid FROM profiles"
        )
        return [Stale(*row) for row in rows]

    def outdated_usernames(self) -> list[str]:
        """Usernames that have a built page but no profile any more."""
        rows = self.conn.execute(
            "SELECT username FROM build_state EXCEPT SELECT username FROM profiles"
        )
        return [row[0] for row in rows]

    def pages_of(self, ids: Sequence[str]) -> list[Stale]:
        result: list[Stale] = []
        for start in range(0, len(ids), _CHUNK):
            chunk = list(ids[start : start + _CHUNK])
            marks = ",".join("?" * len(chunk))
            query = self._STALE + f"WHERE p.id IN ({marks})"
            result += [Stale(*row) for row in self.conn.execute(query, chunk)]
        return result

    def queued_for_build(self) -> list[tuple[str, int]]:
        """(profile id, token) of every profile edited since it was last built."""
        return [(row[0], row[1]) for row in self.conn.execute("SELECT * FROM build_queue")]

    def reset_build_state(self) -> None:
        """Forget every built page (before a build that records them all again)."""
        with self._writing():
            self.conn.execute("DELETE FROM build_state")

    def pages_due(self, at: str) -> list[str]:
        """Built pages with a link schedule boundary at or before ``at`` (indexed)."""
        rows = self.conn.execute(
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
        rows = self.conn.execute(
            f"SELECT profile_id FROM build_state WHERE theme_fingerprint NOT IN ({marks})",
            list(fingerprints),
        )
        return [row[0] for row in rows]

    def fingerprints_built(self) -> set[str]:
        rows = self.conn.execute("SELECT DISTINCT theme_fingerprint FROM build_state")
        return {row[0] for row in rows}

    def themes_in_use(self) -> list[str]:
        return [row[0] for row in self.conn.execute("SELECT DISTINCT theme FROM profiles")]

    def usernames(self) -> list[str]:
        return [row[0] for row in self.conn.execute("SELECT username FROM profiles")]

    def orphaned_pages(self, ids: Sequence[str]) -> list[tuple[str, str, int]]:
        """(profile id, username, sitemap part) of pages among ``ids`` whose profile is gone."""
        found: list[tuple[str, str, int]] = []
        for start in range(0, len(ids), _CHUNK):
            chunk = list(ids[start : start + _CHUNK])
            marks = ",".join("?" * len(chunk))
            rows = self.conn.execute(
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
        conn = self.conn
        for start in range(0, len(ids), _CHUNK):
            chunk = list(ids[start : start + _CHUNK])
            marks = ",".join("?" * len(chunk))
            links: dict[str, list[PageLink]] = {}
            make_link = PageLink._make
            for row in conn.execute(
                f"SELECT profile_id, id, title, url, thumbnail, starts_at, ends_at, icon, social, "
                f"sensitive FROM links "
                f"WHERE enabled = 1 AND profile_id IN ({marks}) ORDER BY profile_id, position",
                chunk,
            ):
                links.setdefault(row[0], []).append(make_link(row[1:]))
            for row in conn.execute(
                f"SELECT id, username, display_name, bio, avatar, theme, style, seo_title, "
                f"seo_description, updated_at, sensitive, social_image FROM profiles "
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
                    )
                )
        return result

    def record_builds(
        self,
        pages: Sequence[BuiltPage],
        removed: Sequence[str] = (),
        queue: Sequence[tuple[str, int]] = (),
        pending: tuple[str, str] | None = None,
    ) -> None:
        """Record built pages, and take the queue entries a build covered off the queue.

        An entry re-queued by an edit made during the build has a new token
        and stays for the next build. ``pending`` is a build-meta (key, value)
        written in the same transaction (work still owed, like sitemap parts).
        """
        with self._writing():
            if pending is not None:
                self.conn.execute(
                    "INSERT OR REPLACE INTO build_meta (key, value) VALUES (?, ?)", pending
                )
            self.conn.executemany(
                "DELETE FROM build_state WHERE profile_id = ?", [(pid,) for pid in removed]
            )
            self.conn.executemany(
                "INSERT OR REPLACE INTO build_state (profile_id, username, content_hash, "
                "theme_fingerprint, next_change, built_at, sitemap_part) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                pages,
            )
            self.conn.executemany(
                "DELETE FROM build_queue WHERE profile_id = ? AND token = ?", queue
            )

    def sitemap_entries(self, part: int | None = None) -> list[tuple[str, str]]:
        """(username, last built) of the pages in one sitemap part, or all."""
        where, params = ("WHERE sitemap_part = ?", (part,)) if part is not None else ("", ())
        rows = self.conn.execute(
            f"SELECT username, built_at FROM build_state {where} ORDER BY sitemap_part, username",
            params,
        )
        return [(row[0], row[1]) for row in rows]

    def count_built(self) -> int:
        return int(self.conn.execute("SELECT count(*) FROM build_state").fetchone()[0])

    def sitemap_part_numbers(self) -> list[int]:
        """The non-empty sitemap parts (a skip-scan over a small index)."""
        parts: list[int] = []
        row = self.conn.execute("SELECT min(sitemap_part) FROM build_state").fetchone()
        while row is not None and row[0] is not None:
            parts.append(row[0])
            row = self.conn.execute(
                "SELECT min(sitemap_part) FROM build_state WHERE sitemap_part > ?", (row[0],)
            ).fetchone()
        return parts

    # -- publish manifest ----------------------------------------------------

    def manifest(self, target: str) -> dict[str, Published]:
        return {key: Published(*row) for key, row in self.manifest_rows(target).items()}

    def manifest_rows(self, target: str) -> dict[str, tuple[str, str, str, int, int, str]]:
        """The manifest as plain rows (the planner reads every one of them)."""
        rows = self.conn.execute(
            "SELECT key, body_hash, header_hash, size, mtime_ns, surrogate_keys "
            "FROM publish_manifest WHERE target = ?",
            (target,),
        )
        return {row[0]: row for row in rows}

    def record_published(
        self, target: str, objects: Sequence[Published], *, mirror: bool = True
    ) -> None:
        """Record objects as held by ``target``; their mirror shards become pending."""
        rows = [(target, *obj, manifest_shard(obj.key)) for obj in objects]
        with self._writing():
            self.conn.executemany(
                "INSERT OR REPLACE INTO publish_manifest (target, key, body_hash, header_hash, "
                "size, mtime_ns, surrogate_keys, shard) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
            if mirror:
                self._mirror_pending(target, {row[-1] for row in rows})

    def forget_published(self, target: str, keys: Sequence[str]) -> None:
        with self._writing():
            self.conn.executemany(
                "DELETE FROM publish_manifest WHERE target = ? AND key = ?",
                [(target, key) for key in keys],
            )
            self._mirror_pending(target, {manifest_shard(key) for key in keys})

    def _mirror_pending(self, target: str, shards: set[int]) -> None:
        self.conn.executemany(
            "INSERT OR IGNORE INTO publish_mirror_pending (target, shard) VALUES (?, ?)",
            [(target, shard) for shard in shards],
        )

    def mirror_pending(self, target: str) -> list[int]:
        rows = self.conn.execute(
            "SELECT shard FROM publish_mirror_pending WHERE target = ? ORDER BY shard", (target,)
        )
        return [row[0] for row in rows]

    def mirror_written(self, target: str, shards: Sequence[int]) -> None:
        with self._writing():
            self.conn.executemany(
                "DELETE FROM publish_mirror_pending WHERE target = ? AND shard = ?",
                [(target, shard) for shard in shards],
            )

    def manifest_shard(self, target: str, shard: int) -> list[Published]:
        rows = self.conn.execute(
            "SELECT key, body_hash, header_hash, size, mtime_ns, surrogate_keys "
            "FROM publish_manifest WHERE target = ? AND shard = ? ORDER BY key",
            (target, shard),
        )
        return [Published(*row) for row in rows]

    def has_manifest(self, target: str) -> bool:
        row = self.conn.execute(
            "SELECT 1 FROM publish_manifest WHERE target = ? LIMIT 1", (target,)
        ).fetchone()
        return row is not None

    def page_owners(self) -> dict[str, str]:
        """username -> profile id of every built page."""
        rows = self.conn.execute("SELECT username, profile_id FROM build_state")
        return {row[0]: row[1] for row in rows}

    def pending_purges(self, unit: str | None = None) -> list[str]:
        """Purges that failed before, in ``unit`` ('key' or 'path'; None: both)."""
        rows = self.conn.execute(
            "SELECT subject FROM purge_queue WHERE ? IS NULL OR unit = ? ORDER BY subject",
            (unit, unit),
        )
        return [row[0] for row in rows]

    def purges_failed(self, unit: str, subjects: Sequence[str], error: str) -> None:
        stamp = iso(now())
        with self._writing():
            self.conn.executemany(
                "INSERT INTO purge_queue (unit, subject, first_failed_at, attempts, last_error) "
                "VALUES (?, ?, ?, 1, ?) ON CONFLICT(unit, subject) DO UPDATE SET "
                "attempts = attempts + 1, last_error = excluded.last_error",
                [(unit, subject, stamp, error) for subject in subjects],
            )

    def purges_done(self, unit: str, subjects: Sequence[str]) -> None:
        with self._writing():
            self.conn.executemany(
                "DELETE FROM purge_queue WHERE unit = ? AND subject = ?",
                [(unit, subject) for subject in subjects],
            )

    # -- the redirector's view -------------------------------------------------

    def profile_hashes(self) -> dict[str, str]:
        """profile id -> content hash (changes with any edit of the profile or its links)."""
        return dict(self.conn.execute("SELECT id, content_hash FROM profiles").fetchall())

    def link_routes(self, profile_ids: Sequence[str]) -> list[LinkRoute]:
        """Where each link of these profiles sends a visitor, and when it may."""
        routes: list[LinkRoute] = []
        for start in range(0, len(profile_ids), 500):
            chunk = list(profile_ids[start : start + 500])
            rows = self.conn.execute(
                "SELECT l.id, l.profile_id, p.username, l.url, l.enabled, l.starts_at, l.ends_at "
                "FROM links l JOIN profiles p ON p.id = l.profile_id "
                f"WHERE l.profile_id IN ({', '.join('?' * len(chunk))})",
                chunk,
            )
            routes += [LinkRoute(r[0], r[1], r[2], r[3], bool(r[4]), r[5], r[6]) for r in rows]
        return routes

    # -- bulk loading (imports of many profiles, benchmarks) ----------------

    def bulk_create(self, profiles: Sequence[tuple[NewProfile, Sequence[NewLink]]]) -> int:
        """Create many profiles with their links in one transaction."""
        stamp = now()
        with self._writing():
            for new, new_links in profiles:
                if len(new_links) > self.max_links:
                    raise LimitReached(f"links: @{new.username} has more than {self.max_links}")
                self._check_theme(new.theme)
                self._check_username_free(new.username)
                profile = Profile(
                    id=self._issue_id("profile"),
                    username=new.username,
                    display_name=new.display_name or "",
                    bio=new.bio or "",
                    avatar=new.avatar,
                    theme=new.theme or self.default_theme,
                    style=new.style or Style(),
                    sensitive=new.sensitive,
                    social_image=new.social_image,
                    seo_title=new.seo_title,
                    seo_description=new.seo_description,
                    created_at=stamp,
                    updated_at=stamp,
                    version=1,
                    links=tuple(
                        Link(
                            id=self._issue_id("link"),
                            position=i,
                            created_at=stamp,
                            updated_at=stamp,
                            **link.model_dump(),
                        )
                        for i, link in enumerate(new_links, start=1)
                    ),
                )
                self._write_profile(profile)
                self._record(
                    profile.id,
                    profile.username,
                    "profile.add",
                    "bulk",
                    None,
                    profile,
                    1,
                    iso(stamp),
                )
        return len(profiles)

    def build_meta(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM build_meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_build_meta(self, key: str, value: str) -> None:
        with self._writing():
            self.conn.execute(
                "INSERT OR REPLACE INTO build_meta (key, value) VALUES (?, ?)", (key, value)
            )

    def next_scheduled_change(self) -> str | None:
        row = self.conn.execute(
            "SELECT min(next_change) FROM build_state WHERE next_change IS NOT NULL"
        ).fetchone()
        return None if row is None or row[0] is None else str(row[0])
