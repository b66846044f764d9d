"""The redirector as a real process on loopback: redirects, views, bad input, shutdown."""

from __future__ import annotations

import asyncio
import datetime as dt
import signal
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from linkgen import site as sites
from linkgen.clicks.db import ClickStore, clicks_path
from linkgen.clicks.link_index import LinkIndex
from linkgen.clicks.recorder import Recorder, WriterSettings
from linkgen.clicks.redirector import Redirector, RedirectorOptions
from linkgen.models import LinkChanges, NewLink, validate
from tests.support.servers import free_port, start_linkgen

SITE_URL = "https://links.example.com"
IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148 Safari/604.1"


class Running:
    def __init__(self, site: sites.Site) -> None:
        self.site = site
        self.proc, self.port = start_linkgen(site, "redirector")
        self.url = f"http://127.0.0.1:{self.port}"

    def get(self, path: str, **headers: str) -> requests.Response:
        return requests.get(self.url + path, headers=headers, allow_redirects=False, timeout=5)

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=30)


@pytest.fixture
def linked(site: sites.Site, add_profile: Any) -> sites.Site:
    (site.root / "linkgen.toml").write_text(
        f'[site]\nurl = "{SITE_URL}"\n[redirector]\nbase_url = "http://127.0.0.1:1"\n'
        f'country_header = "CF-IPCountry"\nmetrics_port = {free_port()}\n'
    )
    add_profile(
        "alice", ("Shop", "https://shop.example.com/a?b=1"), ("Blog", "https://blog.example.com")
    )
    add_profile("bob", ("Music", "https://music.example.com"))
    return sites.Site.open(site.root)


@pytest.fixture
def redirector(linked: sites.Site) -> Iterator[Running]:
    running = Running(linked)
    yield running
    if running.proc.poll() is None:
        running.stop()


def link_ids(site: sites.Site, username: str) -> list[str]:
    return [link.id for link in site.content.get(username).links]


def clicks(site: sites.Site) -> ClickStore:
    return ClickStore(clicks_path(site.root))


def test_a_click_is_a_302_to_the_stored_target_never_cached(
    linked: sites.Site, redirector: Running
) -> None:
    shop, _ = link_ids(linked, "alice")
    answer = redirector.get(f"/r/{shop}", **{"User-Agent": IPHONE, "CF-IPCountry": "NL"})
    assert answer.status_code == 302
    assert answer.headers["Location"] == "https://shop.example.com/a?b=1"
    assert answer.headers["Cache-Control"] == "private, no-store"
    head = requests.head(f"{redirector.url}/r/{shop}", allow_redirects=False, timeout=5)
    assert head.status_code == 302  # answered, not counted
    assert redirector.stop() == 0
    (event,) = clicks(linked).events()
    assert (event.kind, event.link_id, event.country, event.device) == (
        "click",
        shop,
        "NL",
        "mobile",
    )


def test_the_target_comes_only_from_the_store(linked: sites.Site, redirector: Running) -> None:
    shop, _ = link_ids(linked, "alice")
    tricks = [
        f"/r/{shop}?url=https://evil.example",
        f"/r/{shop}/https://evil.example",
        "/r//evil.example",
        "/r/https:%2F%2Fevil.example",
    ]
    for path in tricks:
        answer = redirector.get(path)
        location = answer.headers.get("Location", "")
        assert "evil" not in location, path
        assert answer.status_code in (302, 404), path


def test_unknown_garbage_and_other_methods(linked: sites.Site, redirector: Running) -> None:
    assert redirector.get("/r/nope").status_code == 404
    assert "Link not found" in redirector.get("/r/nope").text
    assert redirector.get("/r/" + "a" * 5000).status_code in (404, 414)
    assert redirector.get("/../../etc/passwd").status_code == 404
    assert redirector.get("/r/%00%ff").status_code == 404
    assert redirector.get("/v/nope").status_code == 404
    assert requests.post(f"{redirector.url}/r/x", timeout=5).status_code == 405
    assert requests.delete(f"{redirector.url}/r/x", timeout=5).status_code == 405
    huge = redirector.get(f"/r/{link_ids(linked, 'alice')[0]}", **{"User-Agent": "x" * 60_000})
    assert huge.status_code in (302, 431, 400)
    with socket.create_connection(("127.0.0.1", redirector.port), timeout=5) as raw:
        raw.sendall(b"GET /r/\xff\xfe\x00 HTTP/1.1\r\nHost: x\r\nUser-Agent: \xc3\x28\r\n\r\n")
        assert raw.recv(100).split(b" ")[1] in (b"400", b"404")
    assert redirector.get("/healthz").status_code == 200  # still serving
    assert redirector.stop() == 0
    stored = clicks(linked).events()  # only the one well-formed click, with clean fields
    assert len(stored) == (huge.status_code == 302)
    assert all(e.device == "desktop" and e.referrer_host == "" for e in stored)


def test_disabled_and_expired_links_send_the_visitor_to_the_profile(
    linked: sites.Site, redirector: Running
) -> None:
    shop, blog = link_ids(linked, "alice")
    linked.content.edit_link("alice", shop, LinkChanges(enabled=False))
    past = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    linked.content.edit_link("alice", blog, LinkChanges(ends_at=past))
    deadline = time.monotonic() + 1.0
    while time.monotonic() < deadline:
        answers = [redirector.get(f"/r/{i}").headers.get("Location") for i in (shop, blog)]
        if answers == [f"{SITE_URL}/alice", f"{SITE_URL}/alice"]:
            break
        time.sleep(0.02)
    assert answers == [f"{SITE_URL}/alice", f"{SITE_URL}/alice"]


def test_edits_reach_the_redirector_within_a_second(
    linked: sites.Site, redirector: Running
) -> None:
    _, added = linked.content.add_link(
        "bob", validate(NewLink, {"title": "New", "url": "https://new.example"})
    )
    started = time.monotonic()
    while redirector.get(f"/r/{added.id}").status_code != 302:
        assert time.monotonic() - started < 1.0, "a new link was not live within 1 s"
        time.sleep(0.01)
    linked.content.delete_profile("bob")
    started = time.monotonic()
    while redirector.get(f"/r/{added.id}").status_code != 404:
        assert time.monotonic() - started < 1.0, (
            "a deleted profile's link still redirected after 1 s"
        )
        time.sleep(0.01)


def test_the_view_beacon_is_an_uncached_image(linked: sites.Site, redirector: Running) -> None:
    alice = linked.content.get("alice").id
    answer = redirector.get(f"/v/{alice}", Referer="https://www.instagram.com/")
    assert answer.status_code == 200 and answer.headers["Content-Type"] == "image/gif"
    assert answer.headers["Cache-Control"] == "private, no-store" and answer.content.startswith(
        b"GIF89a"
    )
    redirector.get(f"/v/{alice}", Referer=f"{SITE_URL}/alice")  # our own page is not a referrer
    assert redirector.stop() == 0
    views = clicks(linked).events(["view"])
    assert [v.referrer_host for v in views] == ["instagram.com", ""]


def test_sigterm_writes_every_queued_click_first(linked: sites.Site, redirector: Running) -> None:
    shop, blog = link_ids(linked, "alice")
    session = requests.Session()
    for n in range(600):
        session.get(f"{redirector.url}/r/{(shop, blog)[n % 2]}", allow_redirects=False, timeout=5)
    assert redirector.stop() == 0  # no wait: whatever is queued must still land
    assert len(clicks(linked).events(["click"])) == 600


def test_link_preview_bots_are_flagged_and_left_out_of_stats(
    linked: sites.Site, redirector: Running, run: Any
) -> None:
    shop, _ = link_ids(linked, "alice")
    alice = linked.content.get("alice").id
    redirector.get(f"/v/{alice}", **{"User-Agent": IPHONE})
    redirector.get(f"/r/{shop}", **{"User-Agent": IPHONE})
    redirector.get(f"/r/{shop}", **{"User-Agent": "facebookexternalhit/1.1"})
    redirector.get(f"/r/{shop}", **{"User-Agent": "WhatsApp/2.23.20.0 A"})
    assert redirector.stop() == 0
    data = run.json("stats", "alice", "--days", "1")
    assert (data["range"]["views"], data["range"]["clicks"], data["range"]["ctr"]) == (1, 1, 100.0)
    with_bots = run.json("stats", "alice", "--days", "1", "--bots")
    assert with_bots["range"]["clicks"] == 3
    text = run("stats", "alice", "--days", "1").stdout
    assert "Shop" in text and "sums of daily uniques" in text
    assert (
        run("stats", "alice", "--days", "2", "--csv").stdout.splitlines()[0] == "day,views,clicks"
    )
    assert "Error" in run("stats", "nobody", code=1).stderr


def test_metrics_are_served_on_their_own_local_port(
    linked: sites.Site, redirector: Running
) -> None:
    shop, _ = link_ids(linked, "alice")
    for _ in range(5):
        redirector.get(f"/r/{shop}")
    redirector.get("/r/nope")
    assert redirector.get("/metrics").status_code == 404  # never on the public port
    port = linked.config.redirector.metrics_port
    deadline = time.monotonic() + 5
    while True:
        text = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
        if "linkgen_click_events_written_total 5.0" in text or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert 'linkgen_redirector_requests_total{status="302"} 5.0' in text
    assert 'linkgen_redirector_requests_total{status="404"} 2.0' in text
    assert "linkgen_redirect_seconds_count 5.0" in text
    assert "linkgen_click_events_written_total 5.0" in text
    assert "linkgen_click_queue_depth 0.0" in text
    assert "linkgen_click_events_dropped_total 0.0" in text
    assert "linkgen_click_batch_commit_seconds_count" in text


def test_a_second_redirector_on_the_same_port_is_a_clear_error(
    linked: sites.Site, redirector: Running, run: Any
) -> None:
    result = run("redirector", "--port", str(redirector.port), code=1)
    assert "cannot listen" in result.stderr and "Traceback" not in result.stderr


def test_a_metrics_port_in_use_is_a_clear_error_not_a_hang(
    linked: sites.Site, redirector: Running, run: Any
) -> None:
    taken = linked.config.redirector.metrics_port  # the running redirector's
    result = run("redirector", "--port", str(free_port(redirector.port, taken)), code=1)
    assert f"cannot listen on 127.0.0.1:{taken}" in result.stderr
    assert "metrics_port" in result.stderr and "Traceback" not in result.stderr


# -- the application itself, fuzzed in-process ----------------------------------------


@pytest.fixture
def app(linked: sites.Site, tmp_path: Path) -> Iterator[Redirector]:
    links = LinkIndex(linked.db_path, SITE_URL)
    links.start()
    recorder = Recorder(WriterSettings(tmp_path / "fuzz.db"))
    yield Redirector(links, recorder, RedirectorOptions())
    links.stop()


async def call(app: Redirector, method: str, path: str, headers: list[tuple[bytes, bytes]]) -> int:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Any) -> None:
        sent.append(message)

    scope = {"type": "http", "method": method, "path": path, "headers": headers, "client": None}
    await app(scope, receive, send)
    assert sent[0]["type"] == "http.response.start" and sent[1]["type"] == "http.response.body"
    return int(sent[0]["status"])


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    method=st.sampled_from(["GET", "HEAD", "POST", "PUT", "OPTIONS", "TRACE", "BREW"]),
    path=st.text(max_size=300).map(lambda s: "/" + s) | st.sampled_from(["/r/", "/v/", "/r/x/y"]),
    headers=st.lists(st.tuples(st.binary(max_size=40), st.binary(max_size=400)), max_size=8),
)
def test_any_request_gets_an_answer_and_queues_only_clean_hits(
    app: Redirector, method: str, path: str, headers: list[tuple[bytes, bytes]]
) -> None:
    status = asyncio.run(call(app, method, path, headers))
    assert status in (200, 302, 404, 405)
    for hit in app.recorder.queue:
        assert (
            hit.kind in ("click", "view")
            and len(hit.user_agent) <= 512
            and len(hit.referrer) <= 2048
        )


def test_ipv6_no_user_agent_and_odd_referrers_are_recorded_cleanly(
    app: Redirector, linked: sites.Site, tmp_path: Path
) -> None:
    shop, _ = link_ids(linked, "alice")
    odd = [b"", b"\xff\xfe", b"https://exa mple.com/", b"x" * 5000, b"android-app://org.telegram/"]

    async def clicks_from_v6() -> None:
        for referrer in odd:
            sent: list[Any] = []

            async def send(message: Any, sent: list[Any] = sent) -> None:
                sent.append(message)

            scope = {
                "type": "http",
                "method": "GET",
                "path": f"/r/{shop}",
                "headers": [(b"referer", referrer)],
                "client": ("2001:db8::7", 50000),
            }
            await app(scope, lambda: None, send)  # type: ignore[arg-type]
            assert sent[0]["status"] == 302

    asyncio.run(clicks_from_v6())
    app.recorder.start()
    app.recorder.stop()
    stored = ClickStore(tmp_path / "fuzz.db").events()
    assert len(stored) == len(odd)
    assert [e.referrer_host for e in stored] == ["", "", "", "", "org.telegram"]
    assert all(e.bot and e.device == "unknown" for e in stored)  # no user agent: a bot
    assert len({e.visitor for e in stored}) == 1  # the same visitor, by a hash of the day


def test_no_server_worker_serves_on_after_the_redirector_is_killed(linked: sites.Site) -> None:
    from tests.support.processes import alive, descendants
    from tests.support.servers import wait_for

    running = Running(linked)
    family = descendants(running.proc.pid)
    assert family, "granian serves from a worker process, and it writes clicks from another"
    running.proc.kill()  # kill -9 of the PID a self-hoster sees
    running.proc.wait(timeout=10)
    wait_for(lambda: not [pid for pid in family if alive(pid)], 30)
    with pytest.raises(requests.ConnectionError):
        running.get("/healthz")
