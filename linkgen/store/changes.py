"""Human summaries of what an edit changed, computed from before/after states.

Every write path (edit, import, undo) gets its history line from here, so the
history says what really changed, not what a command meant to change.
"""

from __future__ import annotations

from typing import Any

from linkgen.models import Link, Lock, Profile, Split

_PROFILE_FIELDS = (
    "username",
    "display_name",
    "bio",
    "avatar",
    "theme",
    "style",
    "sensitive",
    "social_image",
    "language",
    "domain",
    "utm",
    "seo_title",
    "seo_description",
)
_LINK_FIELDS = (
    "kind",
    "title",
    "url",
    "enabled",
    "thumbnail",
    "icon",
    "social",
    "sensitive",
    "embed",
    "body",
    "contact",
    "rules",
    "utm",
    "lock",
    "split",
    "starts_at",
    "ends_at",
)
_SHOWN_MAX = 40


def _show(value: Any) -> str:
    if value is None or value == "":
        return "(none)"
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, tuple):  # a link's rules
        return f"{len(value)} rule{'s' if len(value) != 1 else ''}" if value else "(none)"
    if isinstance(value, Split):  # an A/B test
        weights = "/".join(str(w) for w in (value.weight, *(v.weight for v in value.variants)))
        what = "titles" if value.titled else "URLs"
        return f"A/B test of {len(value.variants) + 1} {what} ({weights})"
    if isinstance(value, Lock):  # its hash is nobody's business
        return "a password" if value.kind == "password" else f"age {value.age}+"
    if hasattr(value, "model_dump"):
        shown = ", ".join(f"{k}={v}" for k, v in value.model_dump(exclude_none=True).items())
        return shown or "(none)"
    text = str(value)
    return repr(text if len(text) <= _SHOWN_MAX else text[: _SHOWN_MAX - 1] + "…")


def summarize(before: Profile | None, after: Profile | None) -> str:
    if before is None and after is not None:
        return f"created @{after.username}"
    if after is None and before is not None:
        return f"deleted @{before.username} ({len(before.links)} links)"
    assert before is not None and after is not None
    parts: list[str] = []
    for field in _PROFILE_FIELDS:
        old, new = getattr(before, field), getattr(after, field)
        if old != new:
            parts.append(f"{field}: {_show(old)} → {_show(new)}")
    parts.extend(_link_changes(before.links, after.links))
    return "; ".join(parts) or "no change"


def _named(link: Link) -> str:
    """An item as the history names it: ``link 'Shop'``, ``text 'New EP…'``, ``divider``."""
    if link.kind == "divider":
        return "divider"
    name = link.title or link.body or (link.contact.name if link.contact else "")
    return f"{'link' if link.kind == 'link' else link.kind} {_show(name)}"


def _link_changes(before: tuple[Link, ...], after: tuple[Link, ...]) -> list[str]:
    old = {link.id: link for link in before}
    new = {link.id: link for link in after}
    parts = [f"added {_named(link)} ({link.id})" for link in after if link.id not in old]
    parts += [f"removed {_named(link)} ({link.id})" for link in before if link.id not in new]
    for link in after:
        previous = old.get(link.id)
        if previous is None:
            continue
        fields = [
            f"{field} {_show(getattr(previous, field))} → {_show(getattr(link, field))}"
            for field in _LINK_FIELDS
            if getattr(previous, field) != getattr(link, field)
        ]
        if fields:
            parts.append(f"{_named(previous)}: " + ", ".join(fields))
    kept_old = [link.id for link in before if link.id in new]
    kept_new = [link.id for link in after if link.id in old]
    if kept_old != kept_new:
        moved = [i for i, (a, b) in enumerate(zip(kept_old, kept_new, strict=True)) if a != b]
        parts.append(f"reordered links ({len(moved)} moved)")
    return parts
