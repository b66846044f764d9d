"""A/B tests through the real redirector: a variant per visitor of the day, by weight."""

from __future__ import annotations

import glob
import json
import math
import signal
import sqlite3
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from linkgen import site as sites
from linkgen.clicks import variants
from linkgen.clicks.db import ClickStore, clicks_path, day_of
from linkgen.clicks.hits import Hit, to_events
from linkgen.clicks.split_stats import z_test
from linkgen.store.routes import Routes
from tests.support.cli import Cli
from tests.support.servers import free_port, start_linkgen

SHOP = "https://shop.example.com/a"
NEW_SHOP = "https://shop.example.com/b"
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148 Safari/604.1"
VISITORS = [f"198.51.100.{n}" for n in range(1, 161)]


@pytest.fixture
def ab_site(site: sites.Site, add_profile: Any, run: Cli) -> sites.Site:
    (site.root / "linkgen.toml").write_text(
        '[site]\nurl = "https://links.example.com"\n[redirector]\n'
        'base_url = "http://127.0.0.1:1"\nclient_ip_header = "X-Forwarded-For"\n'
        f"metrics_port = {free_port()}\n"
    )
    add_profile("alice", ("Shop", SHOP))
    result = run("link", "split", "add", "alice", "Shop", NEW_SHOP)
    assert "variant B added; A 50 %, B 50 %; the test starts now" in result.output
    return sites.Site.open(site.root)


class Redirector:
    def __init__(self, site: sites.Site, env: dict[str, str] | None = None) -> None:
        self.proc, port = start_linkgen(site, "redirector", env=env)
        self.url = f"http://127.0.0.1:{port}"

    def location(self, link_id: str, ip: str, agent: str = FIREFOX) -> str:
        headers = {"X-Forwarded-For": ip, "User-Agent": agent}
        answer = requests.get(
            f"{self.url}/r/{link_id}", headers=headers, allow_redirects=False, timeout=5
        )
        assert answer.status_code == 302
        assert answer.headers["Cache-Control"] == "private, no-store"
        assert "set-cookie" not in answer.headers  # nothing kept in the browser
        return str(answer.headers["Location"])

    def view(self, profile_id: str, ip: str) -> None:
        headers = {"X-Forwarded-For": ip, "User-Agent": FIREFOX}
        assert requests.get(f"{self.url}/v/{profile_id}", headers=headers, timeout=5).ok

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        assert self.proc.wait(timeout=30) == 0


@pytest.fixture
def redirector(ab_site: sites.Site) -> Iterator[Redirector]:
    running = Redirector(ab_site)
    yield running
    if running.proc.poll() is None:
        running.stop()


def _stored_visitor(site: sites.Site, profile_id: str, ip: str) -> str:
    """The visitor hash the click writer stores today for this address (its own code)."""
    hit: Hit = (time.time(), "view", profile_id, "", "", ip, FIREFOX, "", "")
    return to_events(ClickStore(clicks_path(site.root)), [hit], frozenset())[0].visitor


def _variants_of(site: sites.Site, profile_id: str, link_id: str) -> Any:
    """Where the redirector sends each visitor today, worked out from the stored hash."""

    def predicted(ip: str) -> str:
        visitor = _stored_visitor(site, profile_id, ip)
        return (SHOP, NEW_SHOP)[variants.variant_of(visitor, link_id, (50, 100))]

    return predicted


def _today_salt(root: Any) -> tuple[str, bytes]:
    rows = ClickStore(clicks_path(root)).conn.execute("SELECT day, salt FROM salts").fetchall()
    assert len(rows) == 1
    return rows[0][0], bytes(rows[0][1])


def test_a_visitor_keeps_one_variant_all_day_drawn_from_the_days_visitor_hash(
    ab_site: sites.Site, redirector: Redirector
) -> None:
    profile = ab_site.content.get("alice")
    shop = profile.links[0].id
    first = {ip: redirector.location(shop, ip) for ip in VISITORS}
    again = {ip: redirector.location(shop, ip) for ip in reversed(VISITORS)}
    assert first == again  # the same visitor, the same variant, every time that day
    shares = Counter(first.values())
    assert set(shares) == {SHOP, NEW_SHOP}
    assert 50 <= shares[NEW_SHOP] <= 110  # 50/50 of 160: mean 80, sd 6.3
    redirector.stop()
    # the variant is the one the stored visitor hash gives: the stats can count it
    day, _ = _today_salt(ab_site.root)
    assert day == day_of(int(time.time() * 1000))
    predicted = _variants_of(ab_site, profile.id, shop)
    assert {ip: predicted(ip) for ip in VISITORS} == first
    events = ClickStore(clicks_path(ab_site.root)).events()
    assert len(events) == 2 * len(VISITORS)
    assert {event.visitor for event in events} == {
        _stored_visitor(ab_site, profile.id, ip) for ip in VISITORS
    }


def test_the_next_day_draws_every_visitor_again(ab_site: sites.Site) -> None:
    shop = ab_site.content.get("alice").links[0].id
    today = Redirector(ab_site)
    drawn_today = {ip: today.location(shop, ip) for ip in VISITORS}
    today.stop()
    # the redirector and its writer a day ahead (libfaketime: Debian's faketime package)
    found = glob.glob("/usr/lib/*/faketime/libfaketimeMT.so.1")
    assert found, "faketime (Debian's package) is needed: ./scripts/test installs it"
    tomorrow = Redirector(ab_site, {"LD_PRELOAD": found[0], "FAKETIME": "+1d"})
    drawn_tomorrow = {ip: tomorrow.location(shop, ip) for ip in VISITORS}
    assert drawn_tomorrow == {ip: tomorrow.location(shop, ip) for ip in VISITORS}
    tomorrow.stop()
    moved = sum(drawn_today[ip] != drawn_tomorrow[ip] for ip in VISITORS)
    assert 40 <= moved <= 120  # a fresh draw: half of them move (mean 80, sd 6.3)
    with sqlite3.connect(clicks_path(ab_site.root)) as conn:
        salts = dict(conn.execute("SELECT day, salt FROM salts").fetchall())
    assert len(salts) == 2 and len(set(salts.values())) == 2  # a new salt for the new day


def test_rules_come_first_and_weights_share_the_rest(ab_site: sites.Site, run: Cli) -> None:
    run(
        "link",
        "rule",
        "add",
        "alice",
        "Shop",
        "--device",
        "ios",
        "--url",
        "https://apps.apple.com/x",
    )
    run("link", "split", "add", "alice", "Shop", "https://shop.example.com/c", "--weight", "100")
    result = run("link", "split", "weight", "alice", "Shop", "b", "0", code=2)
    assert "0 is not in the range 1<=x<=1000" in result.output
    result = run("link", "split", "weight", "alice", "Shop", "A", "50")
    assert "A 25 %, B 25 %, C 50 %; the test starts again" in result.output
    shop = ab_site.content.get("alice").links[0].id
    running = Redirector(ab_site)
    try:
        assert {running.location(shop, ip, IPHONE) for ip in VISITORS[:20]} == {
            "https://apps.apple.com/x"
        }
        shares = Counter(running.location(shop, ip) for ip in VISITORS)
    finally:
        running.stop()
    assert 55 <= shares["https://shop.example.com/c"] <= 105  # half of 160
    assert shares[SHOP] + shares[NEW_SHOP] + shares["https://shop.example.com/c"] == 160


def test_split_show_counts_viewers_and_clicks_per_variant_and_tells_significance(
    ab_site: sites.Site, redirector: Redirector, run: Cli
) -> None:
    profile = ab_site.content.get("alice")
    shop = profile.links[0].id
    drawn = {VISITORS[0]: redirector.location(shop, VISITORS[0])}  # today's salt exists now
    predicted = _variants_of(ab_site, profile.id, shop)
    # everyone views the page; seven B visitors in eight click, one A visitor in four
    for n, ip in enumerate(VISITORS):
        redirector.view(profile.id, ip)
        redirector.view(profile.id, ip)  # a reload is the same viewer
        if n and (n % 8 != 1 if predicted(ip) == NEW_SHOP else n % 4 == 0):
            drawn[ip] = redirector.location(shop, ip)
            assert drawn[ip] == predicted(ip)
    redirector.stop()
    report = json.loads(run("link", "split", "show", "alice", "Shop", "--json").output)
    a, b = report["variants"]
    assert (a["label"], a["url"], b["label"], b["url"]) == ("A", SHOP, "B", NEW_SHOP)
    assert a["viewers"] + b["viewers"] == len(VISITORS)
    clicked = Counter(drawn.values())
    assert (a["clickers"], b["clickers"]) == (clicked[SHOP], clicked[NEW_SHOP])
    assert b["clicks"] == b["clickers"] and a["clicks"] == a["clickers"]  # once each
    for variant in (a, b):
        assert variant["ctr"] == round(100 * variant["clickers"] / variant["viewers"], 2)
    assert a["verdict"] == "A" and b["verdict"] == "better than A" and b["p_value"] < 0.001
    assert report["test"].startswith("two-sided two-proportion z-test")
    text = run("link", "split", "show", "alice", "Shop").output
    assert "better than A (p = " in text and NEW_SHOP in text


def test_the_z_test_matches_the_textbook_figures() -> None:
    # 200 of 1,000 against 250 of 1,000: pooled 0.225, z = 2.68, p = 0.0074
    z, p = z_test(200, 1000, 250, 1000)
    assert math.isclose(z, 2.6774, abs_tol=1e-3) and math.isclose(p, 0.00742, abs_tol=1e-4)
    z, p = z_test(250, 1000, 200, 1000)
    assert z < 0 and math.isclose(p, 0.00742, abs_tol=1e-4)
    assert z_test(0, 10, 0, 10) == (0.0, 1.0)


def test_weights_share_visitors_in_proportion() -> None:
    bounds = variants.bounds_of((20, 80))
    drawn = Counter(variants.variant_of(f"{n:016x}", "abcdefabcdef", bounds) for n in range(20_000))
    assert 3_700 <= drawn[0] <= 4_300  # 20 % of 20,000: mean 4,000, sd 57


def test_too_few_viewers_are_too_few_to_tell(
    ab_site: sites.Site, redirector: Redirector, run: Cli
) -> None:
    profile = ab_site.content.get("alice")
    for ip in VISITORS[:6]:
        redirector.view(profile.id, ip)
        redirector.location(profile.links[0].id, ip)
    redirector.stop()
    report = json.loads(run("link", "split", "show", "alice", "Shop", "--json").output)
    assert report["variants"][1]["verdict"] == "too few to tell"
    assert report["variants"][1]["p_value"] is None


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (("add", "alice", "Shop", "javascript:alert(1)"), "split.variants.1.url: the scheme"),
        (("add", "alice", "Shop", "https://x.example/", "--weight", "1001"), "1001 is not in"),
        (("rm", "alice", "Shop", "A"), "A is the link's own URL"),
        (("rm", "alice", "Shop", "F"), "the link has variants A to B"),
        (("weight", "alice", "Shop", "C", "10"), "the link has variants A to B"),
    ],
)
def test_bad_variants_are_refused_with_the_reason(
    ab_site: sites.Site, run: Cli, args: tuple[str, ...], error: str
) -> None:
    before = ab_site.content.get("alice")
    result = run("link", "split", *args, code=1 if args[3].startswith("javascript") else 2)
    assert error in result.output
    assert ab_site.content.get("alice") == before  # nothing changed


def test_a_fifth_variant_a_block_and_an_embed_cannot_be_split(
    ab_site: sites.Site, run: Cli
) -> None:
    for n in range(3):
        run("link", "split", "add", "alice", "Shop", f"https://shop.example.com/{n}")
    result = run("link", "split", "add", "alice", "Shop", "https://shop.example.com/9", code=1)
    assert "split.variants: Tuple should have at most 4 items" in result.output
    run("block", "add", "alice", "header", "Music")
    result = run("link", "split", "add", "alice", "Music", NEW_SHOP, code=1)
    assert "split: a header block is not a link" in result.output
    run("link", "add", "alice", "Video", "https://www.youtube.com/watch?v=dQw4w9WgXcQ", "--embed")
    result = run("link", "split", "add", "alice", "Video", NEW_SHOP, code=1)
    assert "split: an embed plays on the page's player" in result.output


def test_ending_a_test_can_keep_the_winner_and_undo_brings_the_test_back(
    ab_site: sites.Site, run: Cli
) -> None:
    result = run("link", "split", "end", "alice", "Shop", "--keep", "B")
    assert f"A/B test ended; it goes to {NEW_SHOP}" in result.output
    link = ab_site.content.get("alice").links[0]
    assert link.url == NEW_SHOP and link.split is None
    history = run("history", "alice").output
    assert "A/B test of 2 URLs (50/50) → (none)" in history
    run("undo", "alice")
    link = ab_site.content.get("alice").links[0]
    assert link.url == SHOP and link.split is not None and link.split.variants[0].url == NEW_SHOP
    result = run("link", "split", "end", "alice", "Shop")
    assert f"it goes to {SHOP}" in result.output
    result = run("link", "split", "show", "alice", "Shop", code=2)
    assert "has no A/B test" in result.output


def test_variants_are_tagged_exported_and_imported(
    ab_site: sites.Site, run: Cli, tmp_path: Any
) -> None:
    run("profile", "set", "alice", "--utm", "source=linkgen")
    test = ab_site.content.get("alice").links[0].split
    # the redirector's own view of the link: every variant tagged
    (route,) = Routes(ab_site.content.database).link_routes([ab_site.content.get("alice").id])
    stored = json.loads(route.split or "{}")
    assert stored["variants"][0]["url"] == f"{NEW_SHOP}?utm_source=linkgen&utm_content=shop"
    assert route.url == f"{SHOP}?utm_source=linkgen&utm_content=shop"
    exported = tmp_path / "alice.json"
    exported.write_text(run("export", "alice").output)
    run("profile", "rm", "alice", "--yes")
    run("import", str(exported))
    assert ab_site.content.get("alice").links[0].split == test
    # an export file is hostile: a javascript: variant is refused there too
    data = json.loads(exported.read_text())
    data["profile"]["links"][0]["split"]["variants"][0]["url"] = "javascript:alert(1)"
    exported.write_text(json.dumps(data))
    run("profile", "rm", "alice", "--yes")
    result = run("import", str(exported), code=1)
    assert "profile.links[0].split.variants[0].url: the scheme 'javascript:'" in result.output
