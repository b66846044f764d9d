"""A creator's numbers, read from the daily rollups (never from raw events).

Views are page loads (the view beacon), clicks are every click on a link,
CTR = clicks ÷ views. Unique views and unique clickers are counted per day
from a visitor hash whose salt changes daily, so over several days they are
sums of daily uniques — a person who comes back tomorrow counts again.
Bots and link-preview fetchers are left out unless asked for.
"""

from __future__ import annotations

import datetime as dt
import io
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from linkgen.clicks.db import ALL_LINKS, Dimension, Row
from linkgen.store import public
from linkgen.store.database import Database

UNIQUES_NOTE = (
    "Unique counts over several days are sums of daily uniques "
    "(visitors are not tracked from one day to the next)."
)
SPARKS = "▁▂▃▄▅▆▇█"


class ClickSource(Protocol):
    """Where the daily figures come from: clicks.db's rollups, or the shipped files."""

    def daily(self, profile_id: str, first: str, last: str, *, bots: bool = False) -> list[Row]: ...

    def dimensions(self, profile_id: str, first: str, last: str) -> list[Dimension]: ...

    def first_day(self, profile_id: str) -> str | None: ...


@dataclass
class Totals:
    views: int = 0
    unique_views: int = 0
    clicks: int = 0
    unique_clickers: int = 0

    @property
    def ctr(self) -> float | None:
        """Clicks ÷ views, in percent; None without views."""
        return round(100 * self.clicks / self.views, 1) if self.views else None


@dataclass
class LinkStats:
    link_id: str
    title: str
    url: str
    clicks: int
    unique_clickers: int
    ctr: float | None


@dataclass
class Stats:
    username: str
    profile_id: str
    first_day: str
    last_day: str
    range: Totals
    lifetime: Totals
    days: list[str]
    daily_views: list[int]
    daily_clicks: list[int]
    links: list[LinkStats]
    referrers: list[tuple[str, int]] = field(default_factory=list)
    countries: list[tuple[str, int]] = field(default_factory=list)
    devices: list[tuple[str, int]] = field(default_factory=list)
    bots_included: bool = False
    note: str = UNIQUES_NOTE


def compute(
    database: Database,
    clicks: ClickSource,
    username: str,
    *,
    days: int = 30,
    today: dt.date | None = None,
    bots: bool = False,
) -> Stats:
    profile = public.profile(database, username)
    profile_id = profile["id"]
    last = today or dt.datetime.now(dt.UTC).date()
    first = last - dt.timedelta(days=days - 1)
    span = [(first + dt.timedelta(days=n)).isoformat() for n in range(days)]
    rows = clicks.daily(profile_id, span[0], span[-1], bots=bots)
    since = clicks.first_day(profile_id) or span[0]
    lifetime = _totals(clicks.daily(profile_id, since, span[-1], bots=bots))
    views: dict[str, int] = defaultdict(int)
    link_clicks: dict[str, int] = defaultdict(int)
    per_link: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for row in rows:
        if row.kind == "view":
            views[row.day] += row.total
        elif row.link_id == ALL_LINKS:
            link_clicks[row.day] += row.total
        else:
            per_link[row.link_id][0] += row.total
            per_link[row.link_id][1] += row.uniques
    range_totals = _totals(rows)
    known = {link["id"]: link for link in profile["links"]}
    links = [
        LinkStats(
            link_id,
            known[link_id]["title"] if link_id in known else "(removed link)",
            known[link_id]["url"] if link_id in known else "",
            total,
            uniques,
            round(100 * total / range_totals.views, 1) if range_totals.views else None,
        )
        for link_id, (total, uniques) in per_link.items()
    ]
    links += [
        LinkStats(link["id"], link["title"], link["url"], 0, 0, 0.0 if range_totals.views else None)
        for link in profile["links"]
        if link["id"] not in per_link
    ]
    links.sort(key=lambda item: (-item.clicks, item.title))
    dimensions = clicks.dimensions(profile_id, span[0], span[-1])
    return Stats(
        username=profile["username"],
        profile_id=profile_id,
        first_day=span[0],
        last_day=span[-1],
        range=range_totals,
        lifetime=lifetime,
        days=span,
        daily_views=[views[day] for day in span],
        daily_clicks=[link_clicks[day] for day in span],
        links=links,
        referrers=_top(dimensions, "view", "referrer"),
        countries=_top(dimensions, "view", "country"),
        devices=_top(dimensions, "view", "device"),
        bots_included=bots,
    )


def clicks_per_link(
    clicks: ClickSource, profile_id: str, *, days: int = 30, today: dt.date | None = None
) -> dict[str, int]:
    """Each link's clicks by people (no bots) over the last ``days`` days: what the
    editor shows on every link."""
    last = today or dt.datetime.now(dt.UTC).date()
    first = last - dt.timedelta(days=days - 1)
    found: dict[str, int] = defaultdict(int)
    for row in clicks.daily(profile_id, first.isoformat(), last.isoformat()):
        if row.kind == "click" and row.link_id != ALL_LINKS:
            found[row.link_id] += row.total
    return dict(found)


def counting_note(mode: str, base_url: str | None) -> str | None:
    """Why nothing is counted, when the site's pages cannot count anything
    (``[redirector] mode`` and ``base_url``)."""
    if mode == "edge" or base_url:
        return None
    return (
        "Nothing is counted yet: pages link straight to their targets. Set [redirector] "
        'base_url and run the redirector (linkgen up does), or mode = "edge" with '
        "linkgen clicks ingest, to count views and clicks."
    )


def _totals(rows: list[Row]) -> Totals:
    totals = Totals()
    for row in rows:
        if row.kind == "view":
            totals.views += row.total
            totals.unique_views += row.uniques
        elif row.link_id == ALL_LINKS:
            totals.clicks += row.total
            totals.unique_clickers += row.uniques
    return totals


def _top(
    rows: list[Dimension], kind: str, dimension: str, limit: int = 10
) -> list[tuple[str, int]]:
    found = [
        (row.value, row.total) for row in rows if (row.kind, row.dimension) == (kind, dimension)
    ]
    return found[:limit]


def sparkline(values: list[int]) -> str:
    top = max(values, default=0)
    if top == 0:
        return SPARKS[0] * len(values)
    return "".join(SPARKS[min(7, round(7 * value / top))] for value in values)


def as_dict(stats: Stats) -> dict[str, Any]:
    data = asdict(stats)
    data["range"]["ctr"] = stats.range.ctr
    data["lifetime"]["ctr"] = stats.lifetime.ctr
    return data


def as_csv(stats: Stats) -> str:
    """One row per day: day, views, clicks."""
    out = io.StringIO()
    import csv

    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["day", "views", "clicks"])
    for day, views, link_clicks in zip(
        stats.days, stats.daily_views, stats.daily_clicks, strict=True
    ):
        writer.writerow([day, views, link_clicks])
    return out.getvalue()


def as_text(stats: Stats) -> str:
    def ctr(value: float | None) -> str:
        return "-" if value is None else f"{value:.1f}%"

    r, life = stats.range, stats.lifetime
    lines = [
        f"@{stats.username}: {stats.first_day} to {stats.last_day} (UTC)"
        + (" — bots included" if stats.bots_included else ""),
        "",
        f"{'':16}{'views':>10}{'unique':>10}{'clicks':>10}{'unique':>10}{'CTR':>8}",
        f"{'this range':16}{r.views:>10,}{r.unique_views:>10,}{r.clicks:>10,}"
        f"{r.unique_clickers:>10,}{ctr(r.ctr):>8}",
        f"{'lifetime':16}{life.views:>10,}{life.unique_views:>10,}{life.clicks:>10,}"
        f"{life.unique_clickers:>10,}{ctr(life.ctr):>8}",
        "",
        f"views  {sparkline(stats.daily_views)}",
        f"clicks {sparkline(stats.daily_clicks)}",
        "",
        f"{'link':40}{'clicks':>10}{'unique':>10}{'CTR':>8}",
    ]
    for link in stats.links:
        title = link.title if len(link.title) <= 38 else link.title[:37] + "…"
        lines.append(f"{title:40}{link.clicks:>10,}{link.unique_clickers:>10,}{ctr(link.ctr):>8}")
    for label, items in (
        ("referrers", stats.referrers),
        ("countries", stats.countries),
        ("devices", stats.devices),
    ):
        shown = ", ".join(f"{value or '(none)'} {count:,}" for value, count in items)
        lines.append(f"top {label}: {shown or '-'}")
    lines += ["", stats.note]
    return "\n".join(lines)
