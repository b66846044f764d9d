"""Shipping closed hours of events to S3, and stats computed from the shipped files."""

from __future__ import annotations

import gzip
import json
import time
from typing import Any

from linkgen import site as sites
from linkgen.clicks.db import HOUR_MS, ClickStore, Event, clicks_path


def test_closed_hours_ship_once_and_s3_stats_agree_with_the_rollups(
    site: sites.Site, add_profile: Any, run: Any, bucket: Any, s3_endpoint: str
) -> None:
    s3, name = bucket
    (site.root / "linkgen.toml").write_text(
        f'[clicks]\nship_to = "s3://{name}/analytics"\nendpoint_url = "{s3_endpoint}"\n'
        'region = "us-east-1"\ninstance = "edge-1"\n'
    )
    add_profile("alice", ("Shop", "https://shop.example"), ("Blog", "https://blog.example"))
    profile = site.content.get("alice")
    shop, blog = (link.id for link in profile.links)
    now = int(time.time() * 1000)
    store = ClickStore(clicks_path(site.root))
    events = []
    for hours_ago in (4, 3, 3, 2):  # three hours closed at least an hour ago
        at = (now // HOUR_MS - hours_ago) * HOUR_MS + 60_000
        for n, who in enumerate("aabc"):
            events.append(Event(at + n, "view", profile.id, "", who, "t.co", "US", "mobile", False))
        events.append(Event(at + 9, "click", profile.id, shop, "a", "", "US", "mobile", False))
        events.append(Event(at + 9, "click", profile.id, blog, "b", "", "FR", "desktop", False))
        events.append(Event(at + 9, "click", profile.id, shop, "x", "", "", "desktop", True))
    store.write(events)

    shipped = run.json("clicks", "ship")["shipped"]
    assert len(shipped) == 3 and all("/edge-1.ndjson.gz" in item["key"] for item in shipped)
    assert [item["events"] for item in shipped] == [7, 14, 7]
    key = shipped[0]["key"]
    assert key.startswith("analytics/clicks/dt=") and "/hour=" in key
    lines = gzip.decompress(s3.get_object(Bucket=name, Key=key)["Body"].read()).splitlines()
    first = json.loads(lines[0])
    assert set(first) == {"at_ms", "day", "kind", "profile_id", "link_id", "visitor",
                          "referrer_host", "country", "device", "bot"}  # fmt: skip
    assert run.json("clicks", "ship")["shipped"] == []  # a re-run ships nothing twice
    listed = s3.list_objects_v2(Bucket=name, Prefix="analytics/clicks/")["KeyCount"]
    assert listed == 3

    for bots in ([], ["--bots"]):
        local = run.json("stats", "alice", "--days", "2", *bots)
        remote = run.json("stats", "alice", "--days", "2", "--from-s3", *bots)
        assert remote == local  # every figure, both paths
    assert local["range"]["clicks"] == 12 and remote["range"]["views"] == 16
    assert run.json("stats", "alice", "--days", "2", "--from-s3")["range"]["clicks"] == 8

    store.write([Event(now, "view", profile.id, "", "d", "", "", "mobile", False)])
    store.close()
    assert run.json("clicks", "ship")["shipped"] == []  # the current hour is not closed yet


def test_shipping_needs_a_destination(site: sites.Site, run: Any) -> None:
    assert "clicks.ship_to" in run("clicks", "ship", code=1).stderr
