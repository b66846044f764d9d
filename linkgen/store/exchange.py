"""A profile out as JSON and back in (an exact round trip), and bulk loading.

An imported file is hostile until checked: every field goes through the same
rules (and normalisation) as the CLI's and the editor's input, its ids must be
ids of the shape linkgen issues and new or already name the same objects, its
links are within the limit and its theme exists. A file never replaces a
profile that differs from it unless the caller says so (``replace``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from linkgen.errors import Conflict, InvalidInput, LimitReached
from linkgen.models import (
    NewLink,
    NewProfile,
    Profile,
    ProfileExport,
    input_of,
    record_of,
    validate,
)
from linkgen.records import iso, now
from linkgen.store.profile_rows import ProfileRows, content_hash

ID = re.compile(r"[A-Za-z0-9]{12}")  # what Database.issue_id hands out


def checked(profile: Profile) -> Profile:
    """``profile`` with every field through the input rules, as a new one would be."""
    ids = [(profile.id, "profile")] + [(link.id, "link") for link in profile.links]
    for object_id, kind in ids:
        if not ID.fullmatch(object_id):
            raise InvalidInput(f"id: '{object_id[:40]}' is not a {kind} id (12 letters, digits)")
    fields = validate(
        NewProfile,
        {
            "username": profile.username,
            "display_name": profile.display_name or None,
            "bio": profile.bio or None,
            "avatar": profile.avatar,
            "theme": profile.theme,
            "style": profile.style,
            "sensitive": profile.sensitive,
            "social_image": profile.social_image,
            "language": profile.language,
            "domain": profile.domain,
            "utm": profile.utm,
            "seo_title": profile.seo_title,
            "seo_description": profile.seo_description,
        },
        strict=False,
    )
    links = []
    for position, link in enumerate(profile.links, start=1):
        new = validate(NewLink, input_of(link), strict=False)
        links.append(link.model_copy(update={**record_of(new), "position": position}))
    return profile.model_copy(
        update={
            **{name: getattr(fields, name) for name in NewProfile.model_fields},
            "display_name": fields.display_name or "",
            "bio": fields.bio or "",
            "links": tuple(links),
        }
    )


class Exchange:
    def __init__(self, rows: ProfileRows) -> None:
        self.rows = rows
        self.database = rows.database

    def export_profile(self, username: str) -> ProfileExport:
        return ProfileExport(profile=self.rows.get(username))

    def import_profile(
        self, export: ProfileExport, *, actor: str | None = None, replace: bool = False
    ) -> Profile:
        """Create the profile of ``export``, or, with ``replace``, overwrite the one
        with its id; an identical profile is left as it is."""
        incoming = checked(export.profile)
        self.rows.check_theme(incoming.theme)
        limit = self.rows.max_links
        if len(incoming.links) > limit:
            raise LimitReached(
                f"links: the file has {len(incoming.links)} links, the limit is {limit}"
            )
        with self.database.writing():
            self.rows.check_username_free(incoming.username, incoming.id)
            self._claim_ids(incoming)
            existing = self.database.query("SELECT * FROM profiles WHERE id = ?", (incoming.id,))
            if not existing:
                self.rows.write(incoming)
                self.rows.record(
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
            before = self.rows.load(existing[0])
            replaced = incoming.model_copy(
                update={"version": before.version, "created_at": before.created_at}
            )
            digest = content_hash(replaced)
            if digest == existing[0]["content_hash"]:
                return before
            if not replace:
                raise Conflict(
                    f"id: the file is profile {incoming.id}, which is @{before.username} here "
                    f"and differs from it; nothing was changed (replace it with --replace)"
                )
            self.rows.write(replaced)
            return self.rows.commit_edit(before, replaced, digest, action="import", actor=actor)

    def _claim_ids(self, profile: Profile) -> None:
        """Imported ids must be new, or already belong to the same objects."""
        wanted = [(profile.id, "profile")] + [(link.id, "link") for link in profile.links]
        for object_id, kind in wanted:
            known = self.database.query("SELECT kind FROM issued_ids WHERE id = ?", (object_id,))
            if known and known[0]["kind"] != kind:
                raise Conflict(f"id: '{object_id}' already names a {known[0]['kind']}")
        for link in profile.links:
            owner = self.database.query("SELECT profile_id FROM links WHERE id = ?", (link.id,))
            if owner and owner[0]["profile_id"] != profile.id:
                raise Conflict(f"id: link '{link.id}' belongs to another profile")
        self.database.conn.executemany(
            "INSERT OR IGNORE INTO issued_ids (id, kind) VALUES (?, ?)", wanted
        )

    def bulk_create(self, profiles: Sequence[tuple[NewProfile, Sequence[NewLink]]]) -> int:
        """Create many profiles with their links in one transaction."""
        stamp = now()
        with self.database.writing():
            for new, new_links in profiles:
                if len(new_links) > self.rows.max_links:
                    raise LimitReached(
                        f"links: @{new.username} has more than {self.rows.max_links}"
                    )
                self.rows.check_theme(new.theme)
                self.rows.check_username_free(new.username)
                profile = self.rows.new_profile(new, stamp, new_links)
                self.rows.write(profile)
                self.rows.record(
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
