"""Smart links through the real redirector: rules by country, device, language and time."""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st

from linkgen import site as sites
from linkgen.clicks import smart
from linkgen.clicks.db import ClickStore, clicks_path
from linkgen.models import LinkChanges, NewLink, validate
from linkgen.store.routes import Routes
from tests.support.servers import free_port, start_linkgen, wait_for

IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148 Safari/604.1"
IPAD = "Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148"
PIXEL = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Mobile Safari/537.36"
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
SHOP = "https://shop.example.com/a?b=1"


def _at(hours: float) -> str:
    return (datetime.now(UTC) + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def smart_site(site: sites.Site, add_profile: Any) -> sites.Site:
    (site.root / "linkgen.toml").write_text(
        '[site]\nurl = "https://links.example.com"\n[redirector]\n'
        f'base_url = "http://127.0.0.1:1"\ncountry_header = "CF-IPCountry"\n'
        f"metrics_port = {free_port()}\n"
    )
    add_profile("alice", ("Shop", SHOP))
    rules = [
        {"url": "https://ended.example/", "country": ["DE"], "ends_at": _at(-1)},
        {"url": "https://apps.apple.com/app/id1", "device": ["ios"]},
        {"url": "https://play.google.com/store/apps/details?id=x", "device": ["android"]},
        {"url": "https://shop.example.de/", "country": ["DE", "AT"]},
        {"url": "https://shop.example.com/fr", "language": ["fr"]},
        {"url": "https://sale.example/", "starts_at": _at(-1), "ends_at": _at(1)},
    ]
    opened = sites.Site.open(site.root)
    shop = opened.content.get("alice").links[0].id
    opened.content.edit_link("alice", shop, validate(LinkChanges, {"rules": rules}, strict=False))
    return opened


class Redirector:
    def __init__(self, site: sites.Site) -> None:
        self.proc, port = start_linkgen(site, "redirector")
        self.url = f"http://127.0.0.1:{port}"

    def location(self, link_id: str, **headers: str) -> str:
        answer = requests.get(
            f"{self.url}/r/{link_id}", headers=headers, allow_redirects=False, timeout=5
        )
        assert answer.status_code == 302
        assert answer.headers["Cache-Control"] == "private, no-store"
        return str(answer.headers["Location"])

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=30)


@pytest.fixture
def redirector(smart_site: sites.Site) -> Iterator[Redirector]:
    running = Redirector(smart_site)
    yield running
    if running.proc.poll() is None:
        running.stop()


def test_the_first_rule_that_holds_sends_the_visitor(
    smart_site: sites.Site, redirector: Redirector
) -> None:
    shop = smart_site.content.get("alice").links[0].id
    # device from the user agent: iPhone and iPad are ios, Pixel android
    assert redirector.location(shop, **{"User-Agent": IPHONE}) == "https://apps.apple.com/app/id1"
    assert redirector.location(shop, **{"User-Agent": IPAD}) == "https://apps.apple.com/app/id1"
    assert redirector.location(shop, **{"User-Agent": PIXEL}).startswith("https://play.google")
    # an iPhone in Germany: the device rule comes first; the ended German rule never holds
    both = {"User-Agent": IPHONE, "CF-IPCountry": "DE"}
    assert redirector.location(shop, **both) == "https://apps.apple.com/app/id1"
    # country from the CDN's header, in any case
    desktop = {"User-Agent": FIREFOX}
    assert redirector.location(shop, **desktop, **{"CF-IPCountry": "at"}) == (
        "https://shop.example.de/"
    )
    # the first rule (Germany, ended an hour ago) no longer holds: the second German one does
    assert redirector.location(shop, **desktop, **{"CF-IPCountry": "DE"}) == (
        "https://shop.example.de/"
    )
    # the preferred language: the highest q, "fr" matching fr-CA
    french = {"Accept-Language": "en;q=0.5, fr-CA, de;q=0.8"}
    assert redirector.location(shop, **desktop, **french) == "https://shop.example.com/fr"
    # a time window that holds now: everyone else
    assert redirector.location(shop, **desktop) == "https://sale.example/"
    assert redirector.location(shop) == "https://sale.example/"  # no headers at all
    assert redirector.stop() == 0
    events = ClickStore(clicks_path(smart_site.root)).events()
    assert len(events) == 9 and {event.link_id for event in events} == {shop}


def test_a_rule_edit_reaches_the_running_redirector(
    smart_site: sites.Site, redirector: Redirector
) -> None:
    content = smart_site.content
    shop = content.get("alice").links[0].id
    assert redirector.location(shop, **{"User-Agent": FIREFOX}) == "https://sale.example/"
    content.edit_link("alice", shop, validate(LinkChanges, {"rules": []}, strict=False))
    wait_for(lambda: redirector.location(shop, **{"User-Agent": FIREFOX}) == SHOP, timeout=10)
    assert redirector.location(shop, **{"User-Agent": IPHONE}) == SHOP


def test_a_disabled_link_with_rules_goes_to_the_profile_page(
    smart_site: sites.Site, redirector: Redirector
) -> None:
    content = smart_site.content
    shop = content.get("alice").links[0].id
    content.edit_link("alice", shop, validate(LinkChanges, {"enabled": False}))
    deadline = time.monotonic() + 10
    while redirector.location(shop, **{"User-Agent": IPHONE}) != (
        "https://links.example.com/alice"
    ):
        assert time.monotonic() < deadline, "the disabled link still redirects"
        time.sleep(0.05)


@pytest.mark.parametrize(
    ("rule", "error"),
    [
        ({"url": "https://x.example/"}, "a rule needs a condition"),
        ({"url": "javascript:alert(1)", "device": ["ios"]}, "scheme 'javascript:'"),
        ({"url": "https://x.example/", "country": ["ZZ"]}, "not a country code"),
        ({"url": "https://x.example/", "country": ["Germany"]}, "not a country code"),
        ({"url": "https://x.example/", "device": ["windows"]}, "'ios', 'android' or 'desktop'"),
        ({"url": "https://x.example/", "language": ["xx-!!"]}, "language"),
        (
            {
                "url": "https://x.example/",
                "starts_at": "2026-02-01T00:00Z",
                "ends_at": "2026-01-01T00:00Z",
            },
            "ends_at must be later",
        ),
    ],
)
def test_a_bad_rule_is_refused_with_its_field_named(rule: dict[str, Any], error: str) -> None:
    with pytest.raises(Exception, match="rules") as refused:
        validate(NewLink, {"title": "Shop", "url": SHOP, "rules": [rule]}, strict=False)
    assert error in str(refused.value)


def test_blocks_and_too_many_rules_are_refused() -> None:
    rule = {"url": "https://x.example/", "device": ["ios"]}
    with pytest.raises(Exception, match="rules: a header block is not a link"):
        validate(NewLink, {"kind": "header", "title": "Shop", "rules": [rule]}, strict=False)
    with pytest.raises(Exception, match="at most 10"):
        validate(NewLink, {"title": "Shop", "url": SHOP, "rules": [rule] * 11}, strict=False)


def test_preferred_language_and_device_read_hostile_headers_calmly() -> None:
    assert smart.preferred_language("de-AT,de;q=0.9,en;q=0.8") == "de-at"
    assert smart.preferred_language("en;q=0.1, *;q=0.9") == "en"
    assert smart.preferred_language("fr;q=abc, it;q=0.3") == "it"
    assert smart.preferred_language("") == ""
    assert smart.device(IPHONE) == "ios" and smart.device(PIXEL) == "android"
    assert smart.device("") == "desktop" and smart.device(FIREFOX) == "desktop"


@given(st.text(max_size=300))
def test_any_accept_language_header_gives_a_tag_or_nothing(header: str) -> None:
    found = smart.preferred_language(header)
    assert found == "" or (found == found.lower() and " " not in found and "," not in found)


def test_utm_tags_are_added_as_visitors_follow_links_and_never_written_into_the_page(
    site: sites.Site, add_profile: Any, run: Any
) -> None:
    (site.root / "linkgen.toml").write_text(
        '[site]\nurl = "https://links.example.com"\n[redirector]\n'
        f'base_url = "http://127.0.0.1:1"\nmetrics_port = {free_port()}\n'
    )
    run("profile", "add", "alice", "--utm", "source=linkgen", "--utm", "medium=social")
    run("link", "add", "alice", "Shop now!", "https://shop.example.com/a?b=1&utm_medium=bio#top")
    run("link", "add", "alice", "Blog", "https://blog.example.com/")
    run("link", "edit", "alice", "Blog", "--utm", "campaign=spring")
    run("link", "rule", "add", "alice", "Blog", "--device", "ios", "--url", "https://app.example/")
    run("build")
    opened = sites.Site.open(site.root)
    shop, blog = (link.id for link in opened.content.get("alice").links)
    assert "utm_" not in (opened.build_dir / "alice").read_text()
    running = Redirector(opened)
    try:
        # the profile's tags and the link's title as utm_content; its own utm_medium kept
        assert running.location(shop) == (
            "https://shop.example.com/a?b=1&utm_medium=bio&utm_source=linkgen"
            "&utm_content=shop-now#top"
        )
        # a link's own tags over its profile's, on its rules' URLs too
        tags = "utm_source=linkgen&utm_medium=social&utm_campaign=spring&utm_content=blog"
        assert running.location(blog) == f"https://blog.example.com/?{tags}"
        assert running.location(blog, **{"User-Agent": IPHONE}) == f"https://app.example/?{tags}"
    finally:
        running.stop()
    run("profile", "set", "alice", "--utm", "source=", "--utm", "medium=")
    opened = sites.Site.open(site.root)
    routes = {route.link_id: route.url for route in Routes(opened.content.database).link_routes(
        [opened.content.get("alice").id])}  # fmt: skip
    assert routes[shop] == "https://shop.example.com/a?b=1&utm_medium=bio#top"  # off again
    assert routes[blog] == "https://blog.example.com/?utm_campaign=spring&utm_content=blog"


def test_in_edge_mode_the_edge_objects_carry_the_tags_and_smart_links_go_to_the_redirector(
    site: sites.Site, run: Any
) -> None:
    (site.root / "linkgen.toml").write_text(
        '[site]\nurl = "https://links.example.com"\n[redirector]\nmode = "edge"\n'
        'base_url = "https://go.example.com"\n'
    )
    run("profile", "add", "alice", "--utm", "source=linkgen")
    run("link", "add", "alice", "Shop", "https://shop.example.com/")
    run("link", "add", "alice", "App", "https://app.example.com/")
    run(
        "link",
        "rule",
        "add",
        "alice",
        "App",
        "--device",
        "android",
        "--url",
        "https://play.example/",
    )
    run("link", "add", "alice", "Sale", "https://sale.example.com/")
    run("link", "split", "add", "alice", "Sale", "https://sale.example.com/b")
    run("build")
    opened = sites.Site.open(site.root)
    shop, app, sale = (link.id for link in opened.content.get("alice").links)
    page = (opened.build_dir / "alice").read_text()
    assert f'href="https://links.example.com/r/{shop}"' in page  # the edge answers it
    assert f'href="https://go.example.com/r/{app}"' in page  # only the redirector can choose
    assert f'href="https://go.example.com/r/{sale}"' in page  # an A/B test: the redirector
    assert "utm_" not in page
    tagged = "https://shop.example.com/?utm_source=linkgen&utm_content=shop"
    assert (opened.build_dir / "r" / shop).read_text() == tagged


def test_rules_and_tags_travel_in_an_export_and_a_hostile_one_is_refused(run: Any) -> None:
    run("profile", "add", "alice", "--utm", "source=linkgen")
    run("link", "add", "alice", "Shop", "https://shop.example.com/")
    run("link", "rule", "add", "alice", "Shop", "--country", "DE", "--url", "https://x.example/de")
    shown = run("profile", "show", "alice").stdout
    assert "  utm source=linkgen" in shown and "[1 rule]" in shown
    exported = json.loads(run("export", "alice").stdout)
    run("profile", "rm", "alice", "--yes")
    for path, value, error in (
        (("links", 0, "rules", 0, "url"), "javascript:alert(1)", "scheme 'javascript:'"),
        (("links", 0, "rules", 0, "device"), ["ios", "toaster"], "'ios', 'android' or 'desktop'"),
        (("utm", "source"), "a b", "cannot be a UTM value"),
    ):
        hostile = json.loads(json.dumps(exported))
        where = hostile["profile"]
        for step in path[:-1]:
            where = where[step]
        where[path[-1]] = value
        refused = run("import", "-", stdin=json.dumps(hostile), code=1)
        assert error in refused.stderr
    run("import", "-", stdin=json.dumps(exported))
    back = run.json("profile", "show", "alice")
    assert back["utm"] == {"source": "linkgen", "medium": None, "campaign": None}
    assert back["links"][0]["rules"][0]["country"] == ["DE"]
