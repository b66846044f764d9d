"""A profile's rows: reading them, writing them, and recording each change.

What every write of a profile goes through, whichever part of the store makes
it (an edit, an undo, an import, a bulk load): the theme and contrast checks,
the unique username, and the history, outbox and build-queue rows written in
the same transaction as the change.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel, TypeAdapter

from linkgen import rules
from linkgen.errors import Conflict, InvalidInput, NotFound, StaleEdit
from linkgen.models import (
    Contact,
    Link,
    Lock,
    NewLink,
    NewProfile,
    Profile,
    Rule,
    Split,
    Style,
    Utm,
    record_of,
)
from linkgen.pages.themes import Tokens, contrast_failures
from linkgen.records import iso, now
from linkgen.store import changes
from linkgen.store.database import Database
from linkgen.store.public import LINK_NAMES
from linkgen.store.webhooks import Webhooks

# Link fields added after schema version 4 (icons, warnings), 10 (blocks, embeds), 12 (rules),
# 14 (A/B tests)
_ADDED_LATER = (
    "icon", "social", "sensitive", "embed", "body", "contact", "rules", "utm", "lock", "split",
)  # fmt: skip


def content_hash(profile: Profile) -> str:
    """Hash of everything about a profile that can change its page."""
    data = profile.model_dump(mode="json", exclude={"created_at", "updated_at", "version"})
    for link in data["links"]:
        del link["created_at"], link["updated_at"]
        for name in _ADDED_LATER:  # unset: hashed as before they existed, so an upgrade
            if not link[name]:  # does not rebuild and republish every page
                del link[name]
        if link["kind"] == "link":
            del link["kind"]
    for name in ("sensitive", "social_image", "language", "domain", "utm"):  # unset: as before
        if not data[name]:
            del data[name]
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def contact_json(card: Contact | None) -> str | None:
    return card.model_dump_json(exclude_none=True) if card is not None else None


# An item's own columns, as ``item_values`` gives them.
ITEM_COLUMNS = (
    "kind", "title", "url", "enabled", "thumbnail", "icon", "social", "sensitive", "embed",
    "body", "contact", "rules", "utm", "lock", "split", "starts_at", "ends_at",
)  # fmt: skip


def item_values(item: Link | NewLink) -> tuple[Any, ...]:
    """An item's fields as its row stores them, in the order of ITEM_COLUMNS."""
    return (
        item.kind,
        item.title,
        item.url or "",
        int(item.enabled),
        item.thumbnail,
        item.icon,
        int(item.social),
        item.sensitive,
        int(item.embed),
        item.body,
        contact_json(item.contact),
        rules_json(item.rules),
        utm_json(item.utm),
        item.lock.model_dump_json(exclude_none=True) if item.lock is not None else None,
        item.split.model_dump_json(exclude_none=True) if item.split is not None else None,
        iso(item.starts_at) if item.starts_at else None,
        iso(item.ends_at) if item.ends_at else None,
    )


def utm_json(utm: Utm | None) -> str | None:
    """UTM tags as stored: JSON of the tags set; None: none."""
    data = utm.model_dump(exclude_none=True) if utm is not None else {}
    return json.dumps(data, sort_keys=True) if data else None


def _utm(stored: str | None) -> Utm | None:
    if not stored:
        return None
    tags = json.loads(stored)
    return _built(Utm, {name: tags.get(name) for name in UTM_FIELDS}, set(tags))


def rules_json(rules: Sequence[Rule]) -> str | None:
    """A link's rules as stored: JSON, the unset conditions left out; None: none."""
    if not rules:
        return None
    return json.dumps([rule.model_dump(mode="json", exclude_defaults=True) for rule in rules])


def check_version(profile: Profile, expected: int | None) -> None:
    """Optimistic concurrency: refuse an edit based on a version that is not current."""
    if expected is not None and expected != profile.version:
        raise StaleEdit(
            f"@{profile.username} changed since version {expected} "
            f"(now version {profile.version}); reload it and try again"
        )


def known_name(username: str) -> str:
    """``username`` as stored, or NotFound if it cannot be one."""
    try:
        return rules.username(username)
    except ValueError:
        raise NotFound(f"no profile '{username}'") from None


CONTACT_FIELDS = tuple(Contact.model_fields)
LINK_COLUMNS = ", ".join(LINK_NAMES)
PROFILE_FIELDS = frozenset(Profile.model_fields) - {"links", "style", "created_at", "updated_at"}
STYLE_FIELDS = tuple(Style.model_fields)
UTM_FIELDS = tuple(Utm.model_fields)
LOCK_FIELDS = tuple(Lock.model_fields)
PROFILE_ORDER = tuple(Profile.model_fields)  # a model's fields in their order: its JSON's


@functools.cache
def _stored_rules() -> TypeAdapter[tuple[Rule, ...]]:
    return TypeAdapter(tuple[Rule, ...])  # built on first use: most sites have no rules


def stored_split(value: str | None) -> Split | None:
    """A link's A/B test as stored (JSON); None: none."""
    return Split.model_validate_json(value, strict=False) if value else None


def _moment(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _link(values: Sequence[Any]) -> Link:
    fields = dict(zip(LINK_NAMES, values, strict=True))
    for name in ("enabled", "social", "embed"):
        fields[name] = bool(fields[name])
    if fields["contact"] is not None:
        card = json.loads(fields["contact"])
        fields["contact"] = _built(
            Contact, {name: card.get(name) for name in CONTACT_FIELDS}, set(card)
        )
    fields["rules"] = _stored_rules().validate_json(fields["rules"]) if fields["rules"] else ()
    fields["utm"] = _utm(fields["utm"])
    fields["split"] = stored_split(fields["split"])
    if fields["lock"] is not None:
        lock = json.loads(fields["lock"])
        fields["lock"] = _built(Lock, {name: lock.get(name) for name in LOCK_FIELDS}, set(lock))
    for name in ("starts_at", "ends_at", "created_at", "updated_at"):
        fields[name] = _moment(fields[name])
    return _built(Link, fields)


M = TypeVar("M", bound=BaseModel)


def _built(cls: type[M], fields: dict[str, Any], given: set[str] | None = None) -> M:
    """A model from values already checked, every field given: what ``model_construct``
    makes, without its per-field pass (a few µs a field, 50 links a profile)."""
    made = cls.__new__(cls)
    object.__setattr__(made, "__dict__", fields)
    object.__setattr__(made, "__pydantic_fields_set__", set(fields) if given is None else given)
    object.__setattr__(made, "__pydantic_extra__", None)
    object.__setattr__(made, "__pydantic_private__", None)
    return made


class ProfileRows:
    def __init__(
        self,
        database: Database,
        *,
        max_links: int = rules.MAX_LINKS,
        themes: Mapping[str, Tokens] | None = None,
        default_theme: str = "default",
        actor: str = "linkgen",
        broken_themes: Mapping[str, str] | None = None,
        reserved_hosts: frozenset[str] = frozenset(),
    ) -> None:
        self.database = database
        self.actor = actor  # who edits, for the history, unless a call names someone
        self.max_links = max_links
        self.themes = themes
        self.default_theme = default_theme
        self.broken_themes = broken_themes or {}
        self.reserved_hosts = reserved_hosts  # the site's own hosts: no profile's domain

    def new_profile(
        self, new: NewProfile, stamp: datetime, links: Sequence[NewLink] = ()
    ) -> Profile:
        """A new profile (version 1) with fresh ids, not yet written."""
        return Profile(
            id=self.database.issue_id("profile"),
            username=new.username,
            display_name=new.display_name or "",
            bio=new.bio or "",
            avatar=new.avatar,
            theme=new.theme or self.default_theme,
            style=new.style or Style(),
            sensitive=new.sensitive,
            social_image=new.social_image,
            language=new.language,
            domain=new.domain,
            utm=new.utm,
            seo_title=new.seo_title,
            seo_description=new.seo_description,
            created_at=stamp,
            updated_at=stamp,
            version=1,
            links=tuple(
                Link(
                    id=self.database.issue_id("link"),
                    position=i,
                    created_at=stamp,
                    updated_at=stamp,
                    **record_of(link),
                )
                for i, link in enumerate(links, start=1)
            ),
        )

    def row(self, username: str) -> dict[str, Any]:
        try:
            name = rules.username(username)
        except ValueError:
            name = username
        rows = self.database.query("SELECT * FROM profiles WHERE username = ?", (name,))
        if not rows:
            raise NotFound(f"no profile '{username}'")
        return dict(rows[0])

    def load(self, row: dict[str, Any]) -> Profile:
        """The profile of ``row`` and its links, as stored.

        Every value was checked by the input models before it was written, so the
        rows are built into models without running the rules again (a tenth of the
        time of validating 50 links; a test holds the two equal).
        """
        links = self.database.conn.execute(
            f"SELECT {LINK_COLUMNS} FROM links WHERE profile_id = ? ORDER BY position",
            (row["id"],),
        ).fetchall()
        fields = {k: v for k, v in row.items() if k in PROFILE_FIELDS}
        fields["created_at"] = _moment(row["created_at"])
        fields["updated_at"] = _moment(row["updated_at"])
        style = json.loads(row["style"])
        fields["style"] = _built(
            Style, {name: style.get(name) for name in STYLE_FIELDS}, set(style)
        )
        fields["utm"] = _utm(row["utm"])
        fields["links"] = tuple(_link(values) for values in links)
        return _built(Profile, {name: fields[name] for name in PROFILE_ORDER})

    def get(self, username: str) -> Profile:
        return self.load(self.row(username))

    def commit_edit(
        self, before: Profile | None, after: Profile, digest: str, *, action: str, actor: str | None
    ) -> Profile:
        version = (before.version if before else after.version - 1) + 1
        stamp = iso(now())
        self.database.conn.execute(
            "UPDATE profiles SET version = ?, updated_at = ?, content_hash = ? WHERE id = ?",
            (version, stamp, digest, after.id),
        )
        self.record(after.id, after.username, action, actor, before, after, version, stamp)
        return after.model_copy(update={"version": version, "updated_at": _moment(stamp)})

    def record(
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
        cursor = self.database.conn.execute(
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
        self.database.conn.execute(
            "INSERT INTO outbox (profile_id, username, version, deleted, queued_at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT(profile_id) DO UPDATE SET "
            "username = excluded.username, version = excluded.version, "
            "deleted = excluded.deleted, queued_at = excluded.queued_at",
            (profile_id, username, version or 0, int(after is None), stamp),
        )
        self.database.conn.execute(
            "INSERT OR REPLACE INTO build_queue (profile_id, token) VALUES (?, ?)",
            (profile_id, cursor.lastrowid),
        )
        event = {"profile_id": profile_id, "username": username, "version": version,
                 "action": action, "deleted": after is None}  # fmt: skip
        Webhooks(self.database).enqueue("profile.updated", profile_id, event)
        self.database.ring_after_commit()

    def check_theme(self, theme: str | None) -> None:
        if theme is not None and theme in self.broken_themes:
            raise InvalidInput(f"theme: '{theme}' cannot be used: {self.broken_themes[theme]}")
        if theme is not None and self.themes is not None and theme not in self.themes:
            known = ", ".join(sorted(self.themes))
            raise InvalidInput(f"theme: no theme '{theme}' (known: {known})")

    def check_profile(self, profile: Profile) -> None:
        """At most one featured link, and the profile's colours on its theme keep
        every text readable (WCAG AA)."""
        featured = [link for link in profile.links if link.kind == "featured"]
        if len(featured) > 1:
            raise InvalidInput(
                f"kind: @{profile.username} can feature one link only "
                f"({featured[0].title!r} is featured already); make that one a plain link first"
            )
        tested = [link for link in profile.links if link.split is not None and link.split.titled]
        if len(tested) > 1:
            raise InvalidInput(
                f"split: @{profile.username} can test the titles of one link at a time "
                f"({tested[0].title!r} has a title test); end that test first"
            )
        for kind, what in (("contact", "contact card"), ("signup", "sign-up form")):
            if sum(link.kind == kind for link in profile.links) > 1:
                raise InvalidInput(
                    f"kind: @{profile.username} can have one {what} only; edit the one it has"
                )
        tokens = self.themes.get(profile.theme) if self.themes is not None else None
        if tokens is None:
            return
        failures = contrast_failures(tokens, profile.style.model_dump(exclude_none=True))
        if failures:
            raise InvalidInput(f"style: {'; '.join(failures)}")

    def check_domain_free(self, domain: str | None, profile_id: str | None = None) -> None:
        """A domain serves one profile, and is never the site's own host."""
        if domain is None:
            return
        if domain in self.reserved_hosts:
            raise Conflict(f"domain: '{domain}' is this site's own host")
        rows = self.database.query("SELECT id, username FROM profiles WHERE domain = ?", (domain,))
        if rows and rows[0]["id"] != profile_id:
            raise Conflict(f"domain: '{domain}' is @{rows[0]['username']}'s")

    def check_username_free(self, username: str, profile_id: str | None = None) -> None:
        rows = self.database.query("SELECT id FROM profiles WHERE username = ?", (username,))
        if rows and rows[0]["id"] != profile_id:
            raise Conflict(f"username: '{username}' is taken")

    def write(self, profile: Profile) -> None:
        """Replace a profile row and all its links with ``profile``."""
        self.check_profile(profile)
        self.check_domain_free(profile.domain, profile.id)
        conn = self.database.conn
        conn.execute(
            "INSERT INTO profiles (id, username, display_name, bio, avatar, theme, style, "
            "sensitive, social_image, language, domain, seo_title, seo_description, created_at, "
            "updated_at, version, content_hash, utm) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT(id) DO UPDATE SET "
            "username = excluded.username, display_name = excluded.display_name, "
            "bio = excluded.bio, avatar = excluded.avatar, theme = excluded.theme, "
            "style = excluded.style, sensitive = excluded.sensitive, "
            "social_image = excluded.social_image, language = excluded.language, "
            "domain = excluded.domain, utm = excluded.utm, "
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
                profile.language,
                profile.domain,
                profile.seo_title,
                profile.seo_description,
                iso(profile.created_at),
                iso(profile.updated_at),
                profile.version,
                content_hash(profile),
                utm_json(profile.utm),
            ),
        )
        self.write_links(profile.id, profile.links)

    def write_links(self, profile_id: str, links: Sequence[Link]) -> None:
        """Replace a profile's links with ``links``, numbered in this order."""
        conn = self.database.conn
        conn.execute("DELETE FROM links WHERE profile_id = ?", (profile_id,))
        columns = ("id", "profile_id", "position", *ITEM_COLUMNS, "created_at", "updated_at")
        conn.executemany(
            f"INSERT INTO links ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
            [
                (
                    link.id,
                    profile_id,
                    position,
                    *item_values(link),
                    iso(link.created_at),
                    iso(link.updated_at),
                )
                for position, link in enumerate(links, start=1)
            ],
        )

    def update_link(self, link_id: str, item: NewLink) -> None:
        """Store ``item`` (checked) as the link ``link_id`` now is."""
        sets = ", ".join(f"{column} = ?" for column in ITEM_COLUMNS)
        self.database.conn.execute(
            f"UPDATE links SET {sets}, updated_at = ? WHERE id = ?",
            (*item_values(item), iso(now()), link_id),
        )
