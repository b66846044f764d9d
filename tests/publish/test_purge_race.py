"""A purge that meets a miss in flight: the page that miss fetched is never kept.

A slow origin (a proxy in front of moto that reads the object at once and
answers it DELAY later) lets a visitor's miss carry the old page past the
publish of the new one. Over 30 trials, nobody sees the old page once the
in-flight answer is out, and never more than 2 s after the publish returns.
"""

from __future__ import annotations

import threading
import time
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest

from linkgen import site as sites
from linkgen.build import build
from linkgen.models import ProfileFields
from linkgen.publish.run import publish
from tests.support.edge import configure, start_varnish
from tests.support.relay import RelayProxy

DELAY = 0.3  # how long the origin takes to answer a page
TRIALS = 30


class SlowOrigin(RelayProxy):
    """Relays to S3; a GET of ``page`` is read from S3 at once and answered DELAY later."""

    def __init__(self, upstream: str, page: str) -> None:
        self.fetched = threading.Event()

        def slow(handler: BaseHTTPRequestHandler) -> None:
            if handler.command == "GET" and handler.path == page:
                self.fetched.set()  # read: the page as it is now, the old one
                time.sleep(DELAY)

        super().__init__(upstream, lambda handler, length: False, answered=slow)


@pytest.fixture
def slow_edge(
    site: sites.Site,
    add_profile: Any,
    bucket: Any,
    s3_endpoint: str,
    tmp_path: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[tuple[sites.Site, str, SlowOrigin]]:
    monkeypatch.setenv("LINKGEN_BUILD__SOCIAL_CARDS", "false")  # one object a publish
    monkeypatch.setenv("LINKGEN_BUILD__QR_CODES", "false")
    _, name = bucket
    origin = SlowOrigin(s3_endpoint, f"/{name}/links/alice")
    proc, edge = start_varnish(origin.url, f"/{name}/links", tmp_path)
    add_profile("alice", display_name="Version 0")
    live = configure(site, name, s3_endpoint, edge)
    build(live)
    assert publish(live).ok
    yield live, edge, origin
    proc.terminate()
    proc.wait(timeout=10)
    origin.close()


def page(edge: str) -> str:
    with urllib.request.urlopen(f"{edge}/alice", timeout=10) as response:
        return response.read().decode()


def purge(edge: str, key: str) -> None:
    request = urllib.request.Request(f"{edge}/", method="PURGE", headers={"xkey": key})
    urllib.request.urlopen(request, timeout=10).close()


def test_a_miss_in_flight_during_a_purge_is_never_kept(
    slow_edge: tuple[sites.Site, str, SlowOrigin],
) -> None:
    live, edge, origin = slow_edge
    key = f"p-{live.content.get('alice').id}"
    stale_for: list[float] = []
    for trial in range(1, TRIALS + 1):
        purge(edge, key)  # the next visitor misses
        origin.fetched.clear()
        seen: list[str] = []
        visitor = threading.Thread(target=lambda out=seen: out.append(page(edge)))
        visitor.start()  # a miss: the edge holds no page since the last purge
        assert origin.fetched.wait(10), "the miss never reached the origin"
        live.content.update_profile("alice", ProfileFields(display_name=f"Version {trial}"))
        build(live)
        assert publish(live).ok  # uploaded and purged while the miss is in flight
        published = time.monotonic()
        visitor.join(10)
        assert seen and f"Version {trial - 1}" in seen[0]  # it did carry the old page
        while f"Version {trial}" not in page(edge):
            assert time.monotonic() - published < 2, f"trial {trial}: old page after 2 s"
            time.sleep(0.05)
        stale_for.append(time.monotonic() - published)
    assert len(stale_for) == TRIALS and max(stale_for) < 2
