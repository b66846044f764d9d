"""Profiles and their links: the one edit path, history and undo.

Every edit runs in one ``BEGIN IMMEDIATE`` transaction that also writes the
history row (with the state before, for undo) and the outbox row (for the
publisher), so an edit is never half-applied and never forgotten.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, NamedTuple

from linkgen import rules
from linkgen.errors import InvalidInput, LimitReached, LinkgenError, NotFound, NothingToUndo
from linkgen.models import (
    HistoryEntry,
    Link,
    LinkChanges,
    NewLink,
    NewProfile,
    Profile,
    ProfileFields,
    Style,
    input_of,
    record_of,
    validate,
)
from linkgen.pages.themes import Tokens
from linkgen.records import iso, now
from linkgen.store import references
from linkgen.store.database import Database
from linkgen.store.profile_rows import (
    ProfileRows,
    check_version,
    content_hash,
    known_name,
    utm_json,
)


class ProfileSummary(NamedTuple):
    id: str
    username: str
    display_name: str
    theme: str
    links: int
    version: int
    updated_at: str


Apply = Callable[[Profile], None]


class LinkOperation(NamedTuple):
    """One step of a batch: add (``new``, optional ``position``), edit (``link_id``,
    ``changes``), move (``link_id`` to ``position``) or remove (``link_id``)."""

    op: Literal["add", "edit", "move", "remove"]
    link_id: str | None = None
    new: NewLink | None = None
    changes: LinkChanges | None = None
    position: int | None = None


class _Unchanged(Exception):
    """Raised inside an edit transaction that changed nothing, to roll it back."""


class Content:
    def __init__(self, rows: ProfileRows) -> None:
        self.rows = rows
        self.database = rows.database

    @classmethod
    def open(
        cls,
        path: Path,
        *,
        max_links: int = rules.MAX_LINKS,
        themes: Mapping[str, Tokens] | None = None,
        default_theme: str = "default",
    ) -> Content:
        """The content of the database at ``path``, over a connection of its own."""
        rows = ProfileRows(
            Database(path), max_links=max_links, themes=themes, default_theme=default_theme
        )
        return cls(rows)

    @property
    def actor(self) -> str:
        """Who edits, for the history, unless a call names someone."""
        return self.rows.actor

    @actor.setter
    def actor(self, name: str) -> None:
        self.rows.actor = name

    @property
    def max_links(self) -> int:
        return self.rows.max_links

    def close(self) -> None:
        self.database.close()

    def get(self, username: str) -> Profile:
        return self.rows.load(self.rows.row(username))

    def exists(self, username: str) -> bool:
        try:
            self.rows.row(username)
        except NotFound:
            return False
        return True

    def list_profiles(self) -> list[ProfileSummary]:
        rows = self.database.conn.execute(
            "SELECT p.id, p.username, p.display_name, p.theme, "
            "(SELECT count(*) FROM links l WHERE l.profile_id = p.id), p.version, p.updated_at "
            "FROM profiles p ORDER BY p.username"
        ).fetchall()
        return [ProfileSummary(*row) for row in rows]

    def count_profiles(self) -> int:
        return int(self.database.conn.execute("SELECT count(*) FROM profiles").fetchone()[0])

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
            with self.database.writing():
                row = self.rows.row(username)
                before = self.rows.load(row)
                check_version(before, expected_version)
                apply(before)
                after = self.rows.load(
                    self.database.query("SELECT * FROM profiles WHERE id = ?", (before.id,))[0]
                )
                self.rows.check_profile(after)
                digest = content_hash(after)
                if digest == row["content_hash"]:
                    raise _Unchanged
                return self.rows.commit_edit(before, after, digest, action=action, actor=actor)
        except _Unchanged:
            return before

    def create_profile(self, new: NewProfile, *, actor: str | None = None) -> Profile:
        self.rows.check_theme(new.theme or self.rows.default_theme)
        moment = now()
        with self.database.writing():
            self.rows.check_username_free(new.username)
            profile = self.rows.new_profile(new, moment)
            self.rows.write(profile)
            self.rows.record(
                profile.id, profile.username, "profile.add", actor, None, profile, 1, iso(moment)
            )
        return profile

    def update_profile(
        self,
        username: str,
        fields: ProfileFields,
        *,
        actor: str | None = None,
        expected_version: int | None = None,
    ) -> Profile:
        self.rows.check_theme(fields.theme)
        given = fields.model_fields_set

        def apply(before: Profile) -> None:
            if "domain" in given:
                self.rows.check_domain_free(fields.domain, before.id)
            values: dict[str, Any] = {}
            for name in given:
                value = getattr(fields, name)
                if name == "style":
                    value = (value or Style()).model_dump_json(exclude_none=True)
                elif name == "utm":
                    value = utm_json(value)
                elif name in ("display_name", "bio") and value is None:
                    value = ""
                elif name == "theme" and value is None:
                    value = self.rows.default_theme
                values[name] = value
            if values:
                assignments = ", ".join(f"{name} = ?" for name in values)
                self.database.conn.execute(
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
            self.rows.check_username_free(target, before.id)
            self.database.conn.execute(
                "UPDATE profiles SET username = ? WHERE id = ?", (target, before.id)
            )

        return self._edit(
            username, apply, action="profile.rename", actor=actor, expected_version=expected_version
        )

    def delete_profile(
        self, username: str, *, actor: str | None = None, expected_version: int | None = None
    ) -> Profile:
        with self.database.writing():
            before = self.rows.get(username)
            check_version(before, expected_version)
            self.database.conn.execute("DELETE FROM links WHERE profile_id = ?", (before.id,))
            self.database.conn.execute("DELETE FROM profiles WHERE id = ?", (before.id,))
            self.rows.record(
                before.id, before.username, "profile.rm", actor, before, None, None, iso(now())
            )
        return before

    def _link(self, profile: Profile, link_id: str) -> Link:
        for link in profile.links:
            if link.id == link_id:
                return link
        raise NotFound(f"link '{link_id}' is not a link of @{profile.username}")

    def link_id(self, username: str, reference: str) -> str:
        """The id of the link of @username that ``reference`` names: an id, a position
        (``#3``) or the start of a title that names one link only."""
        return references.resolve(self.get(username), reference).id

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
        after = self._edit(
            username,
            self._adding(new, position, created),
            action="link.add",
            actor=actor,
            expected_version=expected_version,
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
        after = self._edit(
            username,
            self._editing(link_id, edit),
            action=action,
            actor=actor,
            expected_version=expected_version,
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
        return self._edit(
            username,
            self._moving(link_id, to),
            action="link.mv",
            actor=actor,
            expected_version=expected_version,
        )

    def remove_link(
        self,
        username: str,
        link_id: str,
        *,
        actor: str | None = None,
        expected_version: int | None = None,
    ) -> Profile:
        return self._edit(
            username,
            self._removing(link_id),
            action="link.rm",
            actor=actor,
            expected_version=expected_version,
        )

    def batch(
        self,
        username: str,
        operations: Sequence[LinkOperation],
        *,
        actor: str | None = None,
        expected_version: int | None = None,
    ) -> tuple[Profile, list[str | None]]:
        """Apply every operation in order as one edit (one version, one history
        entry, one undo), or none of them: the first that fails names its index.
        Returns the profile and, per operation, the id of the link it added."""
        created: list[str | None] = []

        def apply(before: Profile) -> None:
            current = before
            for index, operation in enumerate(operations):
                added: list[str] = []
                try:
                    self._operation(operation, added)(current)
                except LinkgenError as exc:
                    raise type(exc)(_within(f"operations[{index}]", str(exc))) from None
                created.append(added[0] if added else None)
                current = self.rows.load(
                    self.database.query("SELECT * FROM profiles WHERE id = ?", (before.id,))[0]
                )

        after = self._edit(
            username, apply, action="link.batch", actor=actor, expected_version=expected_version
        )
        return after, created

    def _operation(self, operation: LinkOperation, created: list[str]) -> Apply:
        if operation.op == "add":
            assert operation.new is not None
            return self._adding(operation.new, operation.position, created)
        assert operation.link_id is not None
        if operation.op == "edit":
            return self._editing(operation.link_id, operation.changes or LinkChanges())
        if operation.op == "move":
            assert operation.position is not None
            return self._moving(operation.link_id, operation.position)
        return self._removing(operation.link_id)

    # -- what each link edit does inside its transaction ---------------------------

    def _adding(self, new: NewLink, position: int | None, created: list[str]) -> Apply:
        def apply(before: Profile) -> None:
            count = len(before.links)
            if count >= self.rows.max_links:
                raise LimitReached(
                    f"links: @{before.username} already has {count} links, the limit is "
                    f"{self.rows.max_links}; remove one first"
                )
            at = count + 1 if position is None else position
            if not 1 <= at <= count + 1:
                raise InvalidInput(f"position: must be between 1 and {count + 1}")
            link_id = self.database.issue_id("link")
            created.append(link_id)
            moment = now()
            fields = record_of(new)
            link = Link(id=link_id, position=at, created_at=moment, updated_at=moment, **fields)
            links = list(before.links)
            links.insert(at - 1, link)
            self.rows.write_links(before.id, links)

        return apply

    def _editing(self, link_id: str, edit: LinkChanges) -> Apply:
        def apply(before: Profile) -> None:
            current = self._link(before, link_id)
            merged = input_of(current)
            merged.update({name: getattr(edit, name) for name in edit.model_fields_set})
            checked = validate(NewLink, merged, strict=False)
            self.rows.update_link(link_id, checked)

        return apply

    def _moving(self, link_id: str, to: int) -> Apply:
        def apply(before: Profile) -> None:
            link = self._link(before, link_id)
            if not 1 <= to <= len(before.links):
                raise InvalidInput(f"position: must be between 1 and {len(before.links)}")
            order = [item for item in before.links if item.id != link.id]
            order.insert(to - 1, link)
            self.rows.write_links(before.id, order)

        return apply

    def _removing(self, link_id: str) -> Apply:
        def apply(before: Profile) -> None:
            self._link(before, link_id)
            self.rows.write_links(before.id, [item for item in before.links if item.id != link_id])

        return apply

    def history(self, username: str, *, limit: int = 50) -> list[HistoryEntry]:
        try:
            where, key = "profile_id = ?", self.rows.row(username)["id"]
        except NotFound:
            where, key = "username = ?", known_name(username)
        rows = self.database.query(
            f"SELECT seq, at, actor, action, summary, version_after, undone FROM history "
            f"WHERE {where} ORDER BY seq DESC LIMIT ?",
            (key, limit),
        )
        if not rows:
            raise NotFound(f"no profile '{username}' and no history for it")
        return [HistoryEntry.model_validate(dict(row), strict=False) for row in rows]

    def undo(self, username: str, *, actor: str | None = None) -> str:
        """Undo the latest change not yet undone; return what was undone."""
        with self.database.writing():
            try:
                row = self.rows.row(username)
            except NotFound:
                row = None
            if row is not None:
                entries = self.database.query(
                    "SELECT * FROM history WHERE profile_id = ? AND undone = 0 "
                    "AND action != 'undo' ORDER BY seq DESC LIMIT 1",
                    (row["id"],),
                )
            else:
                entries = self.database.query(
                    "SELECT * FROM history WHERE username = ? AND undone = 0 "
                    "AND action = 'profile.rm' ORDER BY seq DESC LIMIT 1",
                    (known_name(username),),
                )
            if not entries:
                raise NothingToUndo(f"nothing to undo for @{username}")
            entry = dict(entries[0])
            current = self.rows.load(row) if row is not None else None
            stamp = iso(now())
            if entry["before"] is None:  # undoing the creation
                assert current is not None
                self.database.conn.execute("DELETE FROM links WHERE profile_id = ?", (current.id,))
                self.database.conn.execute("DELETE FROM profiles WHERE id = ?", (current.id,))
                self.rows.record(
                    current.id, current.username, "undo", actor, current, None, None, stamp
                )
            else:
                snapshot = Profile.model_validate_json(entry["before"])
                self.rows.check_username_free(snapshot.username, snapshot.id)
                latest = self.database.conn.execute(
                    "SELECT max(coalesce(version_after, 0)) FROM history WHERE profile_id = ?",
                    (snapshot.id,),
                ).fetchone()[0]
                version = max(latest or 0, snapshot.version) + 1
                restored = snapshot.model_copy(update={"version": version, "updated_at": now()})
                self.rows.write(restored)
                self.rows.record(
                    restored.id, restored.username, "undo", actor, current, restored, version, stamp
                )
            self.database.conn.execute(
                "UPDATE history SET undone = 1 WHERE seq = ?", (entry["seq"],)
            )
        return f"undid #{entry['seq']} {entry['action']}: {entry['summary']}"


def _within(where: str, message: str) -> str:
    """``url: must be …`` said of ``operations[3]``: ``operations[3].url: must be …``."""
    field, sep, rest = message.partition(": ")
    if sep and field and " " not in field:
        return f"{where}.{field}: {rest}"
    return f"{where}: {message}"
