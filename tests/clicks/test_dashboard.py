"""The dashboard page: its charts drawn to scale from the figures, no script."""

from __future__ import annotations

import html5lib

from linkgen.clicks.dashboard import HEIGHT, PAD, WIDTH, render
from linkgen.clicks.stats import LinkStats, Stats, Totals
from tests.support.hostile import XSS

SVG = "{http://www.w3.org/2000/svg}"


def stats(views: list[int], clicks: list[int], **fields: object) -> Stats:
    days = [f"2026-01-{n:02d}" for n in range(1, len(views) + 1)]
    values: dict[str, object] = {
        "username": "ada",
        "profile_id": "p1",
        "first_day": days[0] if days else "2026-01-01",
        "last_day": days[-1] if days else "2026-01-01",
        "range": Totals(views=sum(views), clicks=sum(clicks)),
        "lifetime": Totals(views=sum(views), clicks=sum(clicks)),
        "days": days,
        "daily_views": views,
        "daily_clicks": clicks,
        "links": [],
    }
    return Stats(**{**values, **fields})  # type: ignore[arg-type]


def lines(html: str) -> dict[str, list[tuple[float, float]]]:
    tree = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False).parse(html)
    assert not list(tree.iter("script"))
    found = {}
    for line in tree.iter(f"{SVG}polyline"):
        pairs = [point.split(",") for point in line.get("points", "").split()]
        found[line.get("class", "")] = [(float(x), float(y)) for x, y in pairs]
    return found


def test_the_busiest_day_reaches_the_top_and_an_empty_day_the_axis() -> None:
    drawn = lines(render(stats([0, 5, 10], [0, 2, 4])))
    views, clicks = drawn["views"], drawn["clicks"]
    assert [x for x, _ in views] == [PAD, WIDTH / 2, WIDTH - PAD]  # days spread evenly
    assert views[0][1] == HEIGHT - PAD  # no views: on the axis
    assert views[2][1] == PAD  # the top of the chart is the busiest day
    assert views[1][1] == (HEIGHT - PAD + PAD) / 2
    assert clicks[2][1] == HEIGHT - PAD - (HEIGHT - 2 * PAD) * 4 / 10  # same scale as views


def test_a_profile_with_no_traffic_draws_flat_lines() -> None:
    drawn = lines(render(stats([0, 0], [0, 0])))
    assert {y for _, y in drawn["views"] + drawn["clicks"]} == {HEIGHT - PAD}


def test_bars_are_in_proportion_and_names_are_text() -> None:
    links = [
        LinkStats("l1", XSS[0][:100], "https://a.example", 8, 5, 40.0),
        LinkStats("l2", "Blog", "https://b.example", 2, 2, None),
    ]
    page = render(stats([10], [10], links=links, referrers=[("", 3), ("example.org", 6)]))
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)" in page
    assert "width:100.0%" in page and "width:25.0%" in page  # 8 and 2 of 8
    assert "width:50.0%" in page  # 3 of 6 referrers
    assert "(none)" in page  # a visit with no referrer is named so
    assert "40.0% CTR" in page
