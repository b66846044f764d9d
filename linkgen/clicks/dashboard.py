"""The stats dashboard: one self-contained HTML page with SVG charts, no JavaScript.

Written by ``linkgen stats USER --html FILE`` (and served by the editor to the
signed-in creator); it is never part of the public build. Every value from
the data goes through Jinja2's autoescaping; the chart geometry is computed
here.
"""

from __future__ import annotations

from dataclasses import dataclass

import jinja2

from linkgen.clicks.stats import Stats
from linkgen.pages.resources import builtin

WIDTH, HEIGHT, PAD = 640, 200, 28


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    width: float  # percent of the widest bar
    note: str = ""


def _points(values: list[int], top: int) -> str:
    if not values:
        return ""
    step = (WIDTH - 2 * PAD) / max(1, len(values) - 1)
    return " ".join(
        f"{PAD + i * step:.1f},{HEIGHT - PAD - (HEIGHT - 2 * PAD) * v / top:.1f}"
        for i, v in enumerate(values)
    )


def _bars(items: list[tuple[str, int]], notes: list[str] | None = None) -> list[Bar]:
    top = max((value for _, value in items), default=0) or 1
    notes = notes or [""] * len(items)
    return [
        Bar(label or "(none)", value, round(100 * value / top, 1), note)
        for (label, value), note in zip(items, notes, strict=True)
    ]


def render(stats: Stats, *, note: str | None = None, back: str | None = None) -> str:
    """The page; ``note`` says why there may be nothing to count, ``back`` links to
    the page it was opened from (the editor's)."""
    top = max([*stats.daily_views, *stats.daily_clicks, 1])
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(builtin("templates")),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    links = [(link.title, link.clicks) for link in stats.links]
    notes = ["-" if link.ctr is None else f"{link.ctr:.1f}% CTR" for link in stats.links]
    return env.get_template("dashboard.html").render(
        stats=stats,
        width=WIDTH,
        height=HEIGHT,
        pad=PAD,
        top=top,
        views_line=_points(stats.daily_views, top),
        clicks_line=_points(stats.daily_clicks, top),
        links=_bars(links, notes),
        referrers=_bars(stats.referrers),
        countries=_bars(stats.countries),
        devices=_bars(stats.devices),
        note=note,
        back=back,
    )
