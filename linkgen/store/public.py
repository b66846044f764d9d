"""A profile as it leaves linkgen, read straight from its rows without the models.

The same JSON as ``Profile.model_dump(mode="json", context=PUBLIC)`` (a test
holds the two equal on profiles using every field): what ``linkgen profile
show`` and ``linkgen link list`` print, and what ``linkgen stats`` reads,
without loading pydantic. Every value was checked by the input models before it
was written; the password hash of a locked link never leaves.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from linkgen import rules
from linkgen.errors import NotFound
from linkgen.records import iso
from linkgen.store.database import Database

# The models' fields, in their order (a test holds them equal to linkgen.models).
PROFILE_FIELDS = (
    "id", "username", "display_name", "bio", "avatar", "theme", "style", "sensitive",
    "social_image", "language", "seo_title", "seo_description", "domain", "utm",
    "created_at", "updated_at", "version", "links",
)  # fmt: skip
LINK_NAMES = (
    "id", "position", "kind", "title", "url", "enabled", "thumbnail", "icon", "social",
    "sensitive", "embed", "body", "contact", "rules", "utm", "lock", "split", "starts_at",
    "ends_at", "created_at", "updated_at",
)  # fmt: skip
STYLE_FIELDS = (
    "background", "text", "button", "button_text", "font", "button_shape", "button_style",
    "background_image",
)  # fmt: skip
UTM_FIELDS = ("source", "medium", "campaign")
CONTACT_FIELDS = ("name", "email", "phone", "organisation", "url")
LOCK_FIELDS = ("kind", "password_hash", "age")
RULE_DEFAULTS: dict[str, Any] = {
    "starts_at": None, "ends_at": None, "url": None, "country": [], "device": [], "language": [],
}  # fmt: skip
SPLIT_FIELDS = ("weight", "variants", "since")
VARIANT_DEFAULTS: dict[str, Any] = {"url": None, "title": None, "weight": 50}
_TIMES = ("starts_at", "ends_at", "created_at", "updated_at")
_FLAGS = ("enabled", "social", "embed")


def profile(database: Database, username: str) -> dict[str, Any]:
    """The profile ``username`` and its items, as a command's JSON shows them."""
    try:
        name = rules.username(username)
    except ValueError:
        name = username
    found = database.query("SELECT * FROM profiles WHERE username = ?", (name,))
    if not found:
        raise NotFound(f"no profile '{username}'")
    row = dict(found[0])
    fields: dict[str, Any] = {name: row.get(name) for name in PROFILE_FIELDS}
    style = json.loads(row["style"])
    fields["style"] = {name: style[name] for name in STYLE_FIELDS if style.get(name) is not None}
    fields["utm"] = _filled(row["utm"], UTM_FIELDS)
    fields["created_at"] = _time(row["created_at"])
    fields["updated_at"] = _time(row["updated_at"])
    items = database.conn.execute(
        f"SELECT {', '.join(LINK_NAMES)} FROM links WHERE profile_id = ? ORDER BY position",
        (row["id"],),
    ).fetchall()
    fields["links"] = [_item(values) for values in items]
    return fields


def _item(values: tuple[Any, ...]) -> dict[str, Any]:
    item = dict(zip(LINK_NAMES, values, strict=True))
    for name in _FLAGS:
        item[name] = bool(item[name])
    for name in _TIMES:
        item[name] = _time(item[name])
    item["contact"] = _filled(item["contact"], CONTACT_FIELDS)
    item["utm"] = _filled(item["utm"], UTM_FIELDS)
    item["rules"] = [{**RULE_DEFAULTS, **rule} for rule in json.loads(item["rules"] or "[]")]
    lock = _filled(item["lock"], LOCK_FIELDS)
    item["lock"] = None if lock is None else {**lock, "password_hash": None}  # never shown
    split = _filled(item["split"], SPLIT_FIELDS)
    if split is not None:
        split["variants"] = [{**VARIANT_DEFAULTS, **one} for one in split["variants"]]
    item["split"] = split
    return item


def _filled(stored: str | None, names: tuple[str, ...]) -> dict[str, Any] | None:
    """A stored JSON object with every field of its model, those left out as None."""
    if not stored:
        return None
    values = json.loads(stored)
    return {name: values.get(name) for name in names}


def _time(stored: str | None) -> str | None:
    """A stored moment as the models write it in JSON (UTC, to the second, with Z)."""
    if stored is None or (len(stored) == 20 and stored.endswith("Z")):
        return stored
    return iso(datetime.fromisoformat(stored))
