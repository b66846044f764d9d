"""`linkgen stats`: figures from the rollups, as text, JSON, CSV and a dashboard page."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import html5lib

from linkgen import site as sites
from linkgen.clicks.db import ClickStore, Event, clicks_path
from tests.support.hostile import XSS

DAY_MS = 86_400_000


def record(site: sites.Site, username: str) -> None:
    """Two days of traffic: yesterday 4 views by 2 visitors, today 6 by 3 and 3 clicks."""
    profile = site.content.get(username)
    first, second = (link.id for link in profile.links[:2])
    now = int(time.time() * 1000)

    def view(at: int, who: str, referrer: str = "instagram.com") -> Event:
        return Event(at, "view", profile.id, "", who, referrer, "DE", "mobile", False)

    def click(at: int, who: str, link: str) -> Event:
        return Event(at, "click", profile.id, link, who, "", "DE", "mobile", False)

    store = ClickStore(clicks_path(site.root))
    yesterday = now - DAY_MS
    store.write(
        [view(yesterday, "a"), view(yesterday, "a"), view(yesterday, "b"), view(yesterday, "b")]
    )
    store.write(
        [
            *[view(now, who) for who in "aabbcc"],
            click(now, "a", first),
            click(now, "a", first),
            click(now, "b", second),
            Event(now, "click", profile.id, first, "bot", "", "", "desktop", True),
        ]
    )
    store.close()


def test_stats_add_up(site: sites.Site, add_profile: Any, run: Any) -> None:
    add_profile(
        "alice",
        ("Shop", "https://shop.example"),
        ("Blog", "https://blog.example"),
        ("Old", "https://old.example"),
    )
    record(site, "alice")
    data = run.json("stats", "alice", "--days", "2")
    assert data["range"] == {
        "views": 10,
        "unique_views": 5,  # 2 yesterday + 3 today: a sum of daily uniques
        "clicks": 3,
        "unique_clickers": 2,
        "ctr": 30.0,
    }
    assert [(link["title"], link["clicks"], link["unique_clickers"]) for link in data["links"]] == [
        ("Shop", 2, 1),
        ("Blog", 1, 1),
        ("Old", 0, 0),  # a link nobody clicked is listed too
    ]
    assert data["daily_views"] == [4, 6] and data["daily_clicks"] == [0, 3]
    assert data["referrers"] == [["instagram.com", 10]]
    today = run.json("stats", "alice", "--days", "1")
    assert today["range"]["views"] == 6 and today["lifetime"]["views"] == 10
    csv = run("stats", "alice", "--days", "2", "--csv").stdout.splitlines()
    assert csv[0] == "day,views,clicks" and csv[1].endswith(",4,0") and csv[2].endswith(",6,3")
    text = run("stats", "alice", "--days", "2").stdout
    assert "30.0%" in text and "instagram.com 10" in text and "sums of daily uniques" in text


def test_the_dashboard_is_one_page_of_svg_without_script(
    site: sites.Site, add_profile: Any, run: Any, tmp_path: Path
) -> None:
    add_profile(
        "alice", (XSS[1][:100], "https://shop.example"), (XSS[0][:100], "https://blog.example")
    )
    record(site, "alice")
    out = tmp_path / "stats" / "alice.html"
    run("stats", "alice", "--days", "7", "--html", str(out))
    html = out.read_text(encoding="utf-8")
    tree = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False).parse(html)
    assert not list(tree.iter("script")) and "<script>alert" not in html
    assert not any(name.startswith("on") for el in tree.iter() for name in el.attrib)
    assert len(list(tree.iter("{http://www.w3.org/2000/svg}polyline"))) == 2  # views, clicks
    names = [el.text for el in tree.iter("span") if el.get("class") == "name"]
    assert XSS[1][:100] in names  # shown as text, escaped in the source
    assert "http" not in "".join(el.get("src", "") + el.get("href", "") for el in tree.iter())
