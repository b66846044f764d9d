"""How results are shown: JSON or text, profiles and links as text, progress."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from linkgen.build import BuildReport
    from linkgen.models import Profile


def emit(as_json: bool, data: Any, human: str) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False) if as_json else human)


def profile_text(profile: dict[str, Any]) -> str:
    """A profile as ``public.profile`` reads it (its JSON), for a person."""
    lines = [
        f"@{profile['username']}  {profile['display_name']}".rstrip(),
        f"  id {profile['id']} · version {profile['version']} · theme {profile['theme']} · "
        + (f"language {profile['language']} · " if profile["language"] else "")
        + f"updated {_minute(profile['updated_at'])}",
    ]
    if profile["bio"]:
        lines += ["  " + line for line in profile["bio"].splitlines()]
    if profile["style"]:
        lines.append("  style " + " ".join(f"{k}={v}" for k, v in profile["style"].items()))
    if profile["utm"] is not None:
        lines.append("  utm " + _set(profile["utm"]))
    lines.append(links_text(profile["links"]))
    return "\n".join(lines)


def _minute(moment: str) -> str:
    """2026-12-01T09:30:00Z as 2026-12-01 09:30Z."""
    return f"{moment[:10]} {moment[11:16]}Z"


def _set(values: dict[str, Any], between: str = " ") -> str:
    return between.join(f"{k}={v}" for k, v in values.items() if v is not None)


def links_text(links: list[dict[str, Any]]) -> str:
    """A profile's items (their JSON), one line each."""
    if not links:
        return "  (no links)"
    rows = []
    for link in links:
        flags = "" if link["enabled"] else " [disabled]"
        flags += " [social row]" if link["social"] else ""
        flags += f" [{link['sensitive']}]" if link["sensitive"] else ""
        flags += f" [icon: {link['icon']}]" if link["icon"] else ""
        if link["starts_at"] or link["ends_at"]:
            start = _minute(link["starts_at"]) if link["starts_at"] else "…"
            end = _minute(link["ends_at"]) if link["ends_at"] else "…"
            flags += f" [{start} → {end}]"
        flags += " [embed]" if link["embed"] else ""
        if link["rules"]:
            flags += f" [{len(link['rules'])} rule{'s' if len(link['rules']) > 1 else ''}]"
        if link["lock"] is not None:
            lock = link["lock"]
            locked = "password" if lock["kind"] == "password" else f"{lock['age']}+"
            flags += f" [locked: {locked}]"
        if link["split"] is not None:
            variants = link["split"]["variants"]
            what = "titles" if any(variant["title"] for variant in variants) else "URLs"
            flags += f" [A/B: {len(variants) + 1} {what}]"
        if link["utm"] is not None:
            flags += " [utm " + _set(link["utm"], ",") + "]"
        rows.append(f"  {link['position']:>2}. {link['id']}  {_item_text(link)}{flags}")
    return "\n".join(rows)


def _item_text(link: dict[str, Any]) -> str:
    kind, title = link["kind"], link["title"]
    if kind == "link":
        return f"{title}  → {link['url']}"
    if kind == "featured":
        return f"[featured] {title}  → {link['url']}"
    if kind == "text":
        text = " ".join((link["body"] or "").split())
        return f"[text] {text[:60]}{'…' if len(text) > 60 else ''}"
    if kind == "contact" and link["contact"] is not None:
        return f"[contact] {link['contact']['name']}"
    return f"[{kind}] {title}".rstrip()


def profile_json(profile: Profile) -> dict[str, Any]:
    from linkgen.models import PUBLIC  # loaded already: there is a profile

    data = profile.model_dump(mode="json", context=PUBLIC)
    data["style"] = profile.style.model_dump(exclude_none=True)
    return data


LOG_PROGRESS_OVER = 1000  # jobs this long report progress in logs too


@contextmanager
def progress_bar(enabled: bool, label: str) -> Iterator[Callable[[int, int], None] | None]:
    """A bar on a terminal; in a log (CI), a line every tenth of a long job."""
    if not enabled:
        yield None
        return
    state: dict[str, Any] = {"shown": 0}

    def update(done: int, total: int) -> None:
        if not sys.stderr.isatty():
            tenth = done * 10 // total if total >= LOG_PROGRESS_OVER else 0
            if tenth > state["shown"]:
                state["shown"] = tenth
                click.echo(f"{label}: {done:,} of {total:,}", err=True)
            return
        bar = state.get("bar")
        if bar is None:
            bar = click.progressbar(length=total, label=label, file=sys.stderr)
            bar.__enter__()
            state["bar"] = bar
        bar.update(done - bar.pos)

    try:
        yield update
    finally:
        if "bar" in state:
            state["bar"].__exit__(None, None, None)


def build_report_text(report: BuildReport) -> str:
    line = (
        f"rendered {len(report.rendered)}, removed {len(report.removed)}, unchanged "
        f"{report.unchanged} of {report.total} profiles in {report.seconds:.2f}s"
    )
    if report.jobs > 1:
        line += f" ({report.jobs} processes)"
    if report.site_files:
        line += f"; updated {', '.join(report.site_files)}"
    if report.next_change:
        line += f"\nnext scheduled change: {report.next_change} (build again then)"
    return line
