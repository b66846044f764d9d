"""Webhooks against a real receiver on loopback: signed deliveries, retried after
failures with one id per event, dead letters kept and sent again, the hour's
clicks; and an edit never waits for any of it."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from itertools import pairwise
from pathlib import Path

from linkgen import site as sites
from linkgen.clicks.db import ClickStore, Event, clicks_path
from linkgen.publish.deliveries import HOURLY, announce_hourly_clicks
from linkgen.records import iso, now
from tests.support.api import ApiServer
from tests.support.cli import Cli
from tests.support.webhooks import receiver


def _quick_retries(site: sites.Site, give_up_hours: float = 1.0) -> None:
    with (site.root / "linkgen.toml").open("a") as out:
        out.write('\n[fetch]\nallow_networks = ["127.0.0.0/8"]\n'  # the receiver's network
                  f"\n[webhooks]\nretry_seconds = 0.2\nmax_retry_seconds = 0.4\n"
                  f"give_up_hours = {give_up_hours}\n")  # fmt: skip


@contextmanager
def worker(site: sites.Site, log: Path) -> Iterator[None]:
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "linkgen", "--site", str(site.root), "worker"],
            stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            yield
        finally:
            proc.terminate()
            proc.wait(timeout=30)


def test_an_api_edit_reaches_a_failing_receiver_signed_retried_and_once(
    site: sites.Site, creators: None, tmp_path: Path, run: Cli
) -> None:
    _quick_retries(site)
    with receiver(fail_first=2) as box:
        made = run("webhook", "add", box.url, "--events", "profile.updated,profile.published",
                   "--profile", "alice")  # fmt: skip
        box.secret = made.stdout.strip()
        assert box.secret.startswith("whsec_")
        server = ApiServer(site, tmp_path / "editor.log")
        try:
            with worker(site, tmp_path / "worker.log"):
                alice = server.client(server.token("alice"))
                bob = server.client(server.token("bob"))
                shop = site.content.get("alice").links[0].id
                saved = alice.patch(f"/profiles/alice/links/{shop}", {"title": "Store"},
                                    if_match=alice.etag("alice"))  # fmt: skip
                answered = time.time()
                assert saved.status_code == 200
                music = site.content.get("bob").links[0].id
                assert bob.post(f"/profiles/bob/links/{music}/disable",
                                if_match=bob.etag("bob")).status_code == 200  # fmt: skip
                version = int(saved.headers["ETag"].strip('"v'))
                box.wait_for(lambda got: any(  # the edit's own publish, after earlier ones
                    r.answered == 200 and r.event["type"] == "profile.published"
                    and r.event["data"]["version"] == version for r in got
                ) and any(r.answered == 200 and r.event["data"].get("action") == "link.edit"
                          for r in got))  # fmt: skip
        finally:
            server.stop()
    assert all(r.verified for r in box.received)
    updated = [r for r in box.received if r.event["data"].get("action") == "link.edit"]
    assert [r.answered for r in updated] == [500, 500, 200]
    assert len({r.headers["webhook-id"] for r in updated}) == 1  # one id for every try
    assert updated[-1].at > answered  # taken after the edit had its answer
    gaps = [later.at - earlier.at for earlier, later in pairwise(updated)]
    assert all(gap >= 0.09 for gap in gaps), gaps
    data = updated[-1].event["data"]
    assert data["username"] == "alice" and data["action"] == "link.edit"
    published = [r for r in box.received if r.event["type"] == "profile.published"]
    # Events are delivered each on its own: an earlier publish retried may arrive last.
    assert max(r.event["data"]["version"] for r in published) == site.content.get("alice").version
    assert all(r.event["data"]["username"] == "alice" for r in box.received)  # not bob's
    tries: dict[str, set[str]] = {}  # each event's one id, the same on every try
    for r in box.received:
        tries.setdefault(r.headers["webhook-id"], set()).add(r.body.decode())
    assert all(len(bodies) == 1 for bodies in tries.values())
    delivered = site.database.conn.execute(
        "SELECT event, state, attempts FROM webhook_deliveries ORDER BY event"
    ).fetchall()
    assert ("profile.updated", "delivered", 3) in delivered


def test_a_receiver_that_never_takes_it_leaves_a_dead_letter_to_send_again(
    site: sites.Site, creators: None, tmp_path: Path, run: Cli
) -> None:
    _quick_retries(site, give_up_hours=0.0005)  # 1.8 s of tries
    with receiver(always=503) as box:
        box.secret = run("webhook", "add", box.url, "--events", "profile.updated").stdout.strip()
        with worker(site, tmp_path / "worker.log"):
            run("link", "add", "bob", "Tour", "https://tour.example.com")
            deadline = time.monotonic() + 20
            while not site.webhooks.dead_letters() and time.monotonic() < deadline:
                time.sleep(0.05)
            (dead,) = run.json("webhook", "failed")
            # tried until 1.8 s after the edit (on a slow machine the worker may start later)
            assert dead["event"] == "profile.updated" and dead["attempts"] >= 1
            assert dead["last_error"] == "the receiver answered 503"
            box.always = None
            assert "1 deliveries queued again" in run("webhook", "retry", "--all").stdout
            box.wait_for(lambda got: any(r.answered == 200 for r in got))
    taken = box.taken()
    assert [r.headers["webhook-id"] for r in taken] == [dead["id"]]
    assert taken[0].event["data"]["username"] == "bob"
    assert run("webhook", "failed").stdout.strip() == "(no failed deliveries)"


def test_a_webhook_to_a_private_address_is_refused_unless_allowed(run: Cli) -> None:
    refused = run("webhook", "add", "http://127.0.0.1:9/in", "--events", "profile.updated", code=1)
    assert "private or local address" in refused.output
    unknown = run("webhook", "add", "https://hooks.example.com/in", "--events", "profile.deleted",
                  code=1)  # fmt: skip
    assert "events: profile.deleted; the events are profile.updated" in unknown.output
    assert run("webhook", "list").stdout.strip() == "(no webhooks)"


def test_each_closed_hour_of_clicks_is_one_event_per_profile(
    site: sites.Site, creators: None
) -> None:
    alice = site.content.get("alice")
    hooks = site.webhooks
    hooks.add("https://hooks.example.com/in", frozenset({HOURLY}), alice.id)
    hour = now().replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    with site.database.writing():
        hooks.set_mark(HOURLY, iso(hour))
    start_ms = int(hour.timestamp() * 1000)
    shop, blog = (link.id for link in alice.links)
    bob = site.content.get("bob")
    events = [
        Event(start_ms + 1000, "click", alice.id, shop, "v1", "", "DE", "mobile", False),
        Event(start_ms + 2000, "click", alice.id, shop, "v1", "", "DE", "mobile", False),
        Event(start_ms + 3000, "click", alice.id, shop, "v2", "", "FR", "desktop", False),
        Event(start_ms + 4000, "click", alice.id, blog, "v2", "", "FR", "desktop", False),
        Event(start_ms + 5000, "click", alice.id, blog, "bot", "", "US", "unknown", True),
        Event(start_ms + 6000, "click", bob.id, bob.links[0].id, "v3", "", "US", "mobile", False),
        Event(start_ms + 3_600_000, "click", alice.id, shop, "v4", "", "", "mobile", False),
    ]
    clicks = ClickStore(clicks_path(site.root))
    clicks.write(events)
    clicks.close()
    assert announce_hourly_clicks(site) == 1
    assert announce_hourly_clicks(site) == 0  # an hour is announced once
    (payload,) = site.database.conn.execute("SELECT payload FROM webhook_deliveries").fetchone()
    import json

    event = json.loads(payload)
    assert event["type"] == HOURLY
    assert event["data"] == {
        "profile_id": alice.id,
        "hour": iso(hour),
        "links": sorted([
            {"link_id": shop, "clicks": 3, "unique_clickers": 2},
            {"link_id": blog, "clicks": 1, "unique_clickers": 1},
        ], key=lambda item: item["link_id"]),
    }  # fmt: skip
