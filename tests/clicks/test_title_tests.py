"""Title tests: a page per variant, the edge (Varnish with linkgen's VCL, in front
of moto) serving each visitor theirs, and the numbers counted by the variant
each beacon and click says its page showed (through the real redirector)."""

from __future__ import annotations

import http.client
import json
import re
import signal
from collections import Counter
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from linkgen import site as sites
from linkgen.build import build
from linkgen.clicks.db import ClickStore, clicks_path
from linkgen.publish.run import publish
from tests.support.cli import Cli
from tests.support.servers import start_linkgen

SHOP = "https://shop.example.com/a"
SALE = "https://shop.example.com/sale"
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
# Visitors are loopback addresses of their own: the edge sees each as a client.
VISITORS = [f"127.0.0.{n}" for n in range(2, 82)]


@pytest.fixture(autouse=True)
def _no_social_cards(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LINKGEN_BUILD__SOCIAL_CARDS", "false")


def fetch(edge: str, path: str, source: str) -> tuple[int, dict[str, str], str]:
    """GET ``path`` from the edge, connecting from the visitor's own address."""
    parts = urlsplit(edge)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10,
                                      source_address=(source, 0))  # fmt: skip
    try:
        conn.request("GET", path, headers={"User-Agent": FIREFOX})
        answer = conn.getresponse()
        return answer.status, dict(answer.getheaders()), answer.read().decode()
    finally:
        conn.close()


def shown(page: str, link_id: str) -> tuple[str, str, str]:
    """(the label, the link's path on the redirector, the beacon's path) of a page."""
    href = re.search(rf'href="https://go\.example\.com(/r/{link_id}\?x=([a-e]))"', page)
    beacon = re.search(r'src="https://go\.example\.com(/v/\w+\?x=([a-e]))"', page)
    assert href and beacon, "a title test's page labels its link and beacon"
    assert href.group(2) == beacon.group(2)
    return href.group(2), href.group(1), beacon.group(1)


@pytest.fixture
def tested(
    site: sites.Site, add_profile: Any, run: Cli, bucket: Any, s3_endpoint: str, edge: str
) -> tuple[sites.Site, Any]:
    (site.root / "linkgen.toml").write_text(
        '[site]\nurl = "https://links.example.com"\n'
        '[redirector]\nbase_url = "https://go.example.com"\n'
        'client_ip_header = "X-Forwarded-For"\nmetrics_port = 0\n'
        f'[publish]\ntarget = "s3://{bucket[1]}/links"\nendpoint_url = "{s3_endpoint}"\n'
        'region = "us-east-1"\nacl = "public-read"\n'
        f'[cdn]\nprovider = "varnish"\nvarnish_urls = ["{edge}"]\n'
    )
    alice = add_profile("alice", ("Shop", SHOP), ("Blog", "https://blog.example.com/"))
    added = run("link", "split", "add", "alice", "Shop", SALE, "--title", "Spring sale")
    assert "variant B added; A 50 %, B 50 %" in added.output
    live = sites.Site.open(site.root)
    go(live)
    return live, alice


def go(site: sites.Site) -> None:
    build(site)
    report = publish(site)
    assert report.ok, report.failures


def test_the_edge_serves_each_visitor_their_titles_page_all_day_and_counts_follow_the_label(
    tested: tuple[sites.Site, Any], edge: str, run: Cli, bucket: Any
) -> None:
    live, alice = tested
    shop = alice.links[0].id
    s3, name = bucket
    head = s3.head_object(Bucket=name, Key="links/alice")
    assert head["Metadata"]["ab"] == f"{alice.id} a:50 b:100"  # the draw the edge makes
    seen: dict[str, tuple[str, str, str]] = {}
    for visitor in VISITORS:
        status, headers, page = fetch(edge, "/alice", visitor)
        assert status == 200
        assert headers["Cache-Control"] == "private, max-age=60"  # one visitor's variant
        assert not [h for h in headers if h.lower().startswith("x-amz")]
        label, click, beacon = seen[visitor] = shown(page, shop)
        title = "Spring sale" if label == "b" else "Shop"
        assert f">{title}<" in page and (">Shop<" in page) == (label == "a")
        assert '<link rel="canonical" href="https://links.example.com/alice">' in page
    for visitor in VISITORS[::4]:  # the same visitor, the same variant all day
        assert shown(fetch(edge, "/alice", visitor)[2], shop) == seen[visitor]
    shares = Counter(label for label, _, _ in seen.values())
    assert set(shares) == {"a", "b"} and min(shares.values()) >= 20, shares  # 80 at 50/50

    proc, port = start_linkgen(live, "redirector")
    redirector = f"http://127.0.0.1:{port}"
    clicked: Counter[str] = Counter()
    try:
        for n, (visitor, (label, click, beacon)) in enumerate(seen.items()):
            who = {"X-Forwarded-For": visitor, "User-Agent": FIREFOX}
            assert requests.get(redirector + beacon, headers=who, timeout=5).ok
            if (label == "b") != (n % 4 == 0):  # three in four B visitors click, one in four A's
                answer = requests.get(redirector + click, headers=who, allow_redirects=False,
                                      timeout=5)  # fmt: skip
                assert answer.headers["Location"] == (SALE if label == "b" else SHOP)
                clicked[label] += 1
        # a label typed by hand that the test has not: A's URL, counted unlabelled
        typed = requests.get(f"{redirector}/r/{shop}?x=e", allow_redirects=False, timeout=5)
        assert typed.headers["Location"] in (SHOP, SALE)  # drawn, as an unlabelled click is
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    labels = Counter(
        (event.kind, event.variant) for event in ClickStore(clicks_path(live.root)).events()
    )
    assert labels == {
        ("view", "a"): shares["a"],
        ("view", "b"): shares["b"],
        ("click", "a"): clicked["a"],
        ("click", "b"): clicked["b"],
        ("click", ""): 1,
    }
    numbers = json.loads(run("link", "split", "show", "alice", "Shop", "--json").stdout)
    a, b = numbers["variants"]
    assert (a["title"], b["title"], b["url"]) == ("Shop", "Spring sale", SALE)
    assert (a["viewers"], a["clicks"], a["clickers"]) == (shares["a"], clicked["a"], clicked["a"])
    assert (b["viewers"], b["clicks"], b["clickers"]) == (shares["b"], clicked["b"], clicked["b"])
    assert b["verdict"] == "better than A" and b["p_value"] < 0.001
    for path in live.root.rglob("*"):  # the letter is kept; nothing of the visitor
        if path.is_file():
            data = path.read_bytes()
            assert VISITORS[55].encode() not in data and b"Firefox/128" not in data, path


def test_ending_a_title_test_keeps_the_winner_and_takes_its_pages_away(
    tested: tuple[sites.Site, Any], edge: str, run: Cli, bucket: Any
) -> None:
    live, alice = tested
    s3, name = bucket
    variant_key = f"links/_t/{alice.id}/b"
    assert "Spring sale" in s3.get_object(Bucket=name, Key=variant_key)["Body"].read().decode()
    ended = run("link", "split", "end", "alice", "Shop", "--keep", "B")
    assert f"A/B test ended; it goes to {SALE}" in ended.output
    assert "A/B test of 2 titles (50/50) → (none)" in run("history", "alice").stdout
    go(sites.Site.open(live.root))
    held = [item["Key"] for item in s3.list_objects_v2(Bucket=name)["Contents"]]
    assert variant_key not in held  # nothing of the test is left in the bucket
    assert "ab" not in s3.head_object(Bucket=name, Key="links/alice")["Metadata"]
    for visitor in VISITORS[:6]:  # every visitor the winner, and shared caches may keep it
        status, headers, page = fetch(edge, "/alice", visitor)
        assert status == 200 and headers["Cache-Control"] == "public, max-age=60"
        assert ">Spring sale<" in page and "?x=" not in page


@pytest.mark.parametrize(
    ("arguments", "code", "error"),
    [
        ((), 2, "give the variant a URL, a title (--title), or both"),
        (("--title", ""), 1, "a variant needs a URL or a title of its own"),
        (("--title", "x" * 101), 1, "title"),
    ],
)
def test_a_variant_without_anything_of_its_own_is_refused(
    add_profile: Any, run: Cli, arguments: tuple[str, ...], code: int, error: str
) -> None:
    add_profile("alice", ("Shop", SHOP))
    result = run("link", "split", "add", "alice", "Shop", *arguments, code=code)
    assert error in result.output


def test_one_link_per_profile_tests_its_titles(
    site: sites.Site, add_profile: Any, run: Cli
) -> None:
    (site.root / "linkgen.toml").write_text('[cdn]\nprovider = "fastly"\n')
    add_profile("alice", ("Shop", SHOP), ("Blog", "https://blog.example.com/"))
    added = run("link", "split", "add", "alice", "Shop", "--title", "Spring sale")
    assert "the fastly edge does not draw title tests: its visitors all see A" in added.stderr
    refused = run("link", "split", "add", "alice", "Blog", "--title", "Read me", code=1)
    assert "can test the titles of one link at a time ('Shop' has a title test)" in refused.output
    run("link", "split", "add", "alice", "Blog", "https://blog.example.com/new")  # a URL test: yes
    assert "[A/B: 2 titles]" in run("link", "list", "alice").stdout
