"""End to end: publish to S3 (moto) behind a real Varnish with xkey, purge by key."""

from __future__ import annotations

import urllib.error
import urllib.request
from typing import Any

import pytest

from linkgen import site as sites
from linkgen.build import build
from linkgen.models import ProfileFields
from linkgen.publish.run import publish
from tests.support.edge import configure


@pytest.fixture(autouse=True)
def _no_social_cards(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests count published objects; a profile's social card is published
    like any other media (tests/test_cards.py)."""
    monkeypatch.setenv("LINKGEN_BUILD__SOCIAL_CARDS", "false")


def alice_and_bob(
    site: sites.Site, add_profile: Any, bucket: Any, s3_endpoint: str, edge: str
) -> sites.Site:
    """Two profiles on a site publishing to the bucket behind the edge."""
    add_profile("alice", display_name="Alice v1")
    add_profile("bob", display_name="Bob")
    return configure(site, bucket[1], s3_endpoint, edge)


def get(url: str) -> tuple[str, str]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read().decode(), response.headers["X-Cache"]


def test_an_edit_goes_live_at_the_edge_while_other_pages_stay_cached(
    site: sites.Site, add_profile: Any, bucket: Any, s3_endpoint: str, edge: str
) -> None:
    live = alice_and_bob(site, add_profile, bucket, s3_endpoint, edge)
    build(live)
    assert publish(live).ok

    body, cache = get(f"{edge}/alice")
    assert "Alice v1" in body and cache == "MISS"
    assert get(f"{edge}/alice")[1] == "HIT"
    assert get(f"{edge}/bob")[1] == "MISS"
    assert get(f"{edge}/bob")[1] == "HIT"

    live.content.update_profile("alice", ProfileFields(display_name="Alice v2"))
    build(live)
    report = publish(live)
    alice = live.content.get("alice")
    assert report.ok and report.uploaded == ["links/alice"]
    assert report.purged == [f"p-{alice.id}"]

    body, cache = get(f"{edge}/alice")
    assert "Alice v2" in body and cache == "MISS"
    assert get(f"{edge}/bob")[1] == "HIT"  # untouched by the purge


def test_a_failed_purge_is_kept_and_retried_by_the_next_run(
    site: sites.Site, add_profile: Any, bucket: Any, s3_endpoint: str, edge: str
) -> None:
    _, name = bucket
    add_profile("alice", display_name="Alice v1")
    live = configure(site, name, s3_endpoint, edge)
    build(live)
    assert publish(live).ok
    assert "Alice v1" in get(f"{edge}/alice")[0]

    broken = configure(live, name, s3_endpoint, "http://127.0.0.1:9")  # nothing listens
    broken.content.update_profile("alice", ProfileFields(display_name="Alice v2"))
    build(broken)
    failed = publish(broken)
    key = f"p-{broken.content.get('alice').id}"
    assert not failed.ok and failed.uploaded == ["links/alice"]
    assert failed.purge_pending == [key] and "retried on the next run" in failed.failures[0]
    assert broken.manifest.pending_purges() == [key]
    body, cache = get(f"{edge}/alice")
    assert "Alice v1" in body and cache == "HIT"  # the edge still has the old page

    fixed = configure(broken, name, s3_endpoint, edge)
    retried = publish(fixed)
    assert retried.ok and retried.uploaded == [] and retried.purged == [key]
    assert fixed.manifest.pending_purges() == []
    assert "Alice v2" in get(f"{edge}/alice")[0]


def test_purge_requests_from_outside_the_acl_are_refused(edge: str) -> None:
    request = urllib.request.Request(f"{edge}/", method="PURGE", headers={"xkey": "all"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200  # loopback is allowed
    missing = urllib.request.Request(f"{edge}/", method="PURGE")
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(missing, timeout=10)
    assert error.value.code == 400


def test_with_the_worker_running_an_edit_reaches_the_edge_by_itself(
    site: sites.Site, add_profile: Any, bucket: Any, s3_endpoint: str, edge: str
) -> None:
    import threading

    from linkgen.publish.worker import run
    from tests.support.servers import wait_for

    live = alice_and_bob(site, add_profile, bucket, s3_endpoint, edge)
    stop = threading.Event()
    worker = threading.Thread(target=run, args=(live.root,), kwargs={"stop": stop}, daemon=True)
    worker.start()
    try:
        # The first cycle (both new profiles) ends with its purge: wait for it
        # before filling the edge's cache.
        wait_for(lambda: live.outbox.entries() == [])
        assert "Alice v1" in get(f"{edge}/alice")[0]
        get(f"{edge}/bob")
        assert get(f"{edge}/alice")[1] == "HIT" and get(f"{edge}/bob")[1] == "HIT"
        live.content.update_profile("alice", ProfileFields(display_name="Alice v2"))
        wait_for(lambda: "Alice v2" in get(f"{edge}/alice")[0])
        assert get(f"{edge}/bob")[1] == "HIT"
    finally:
        stop.set()
        worker.join(timeout=10)


def test_linkgens_own_files_are_never_served_to_a_visitor(
    site: sites.Site, add_profile: Any, bucket: Any, s3_endpoint: str, edge: str
) -> None:
    live = alice_and_bob(site, add_profile, bucket, s3_endpoint, edge)
    build(live)
    assert publish(live).ok
    for path in (
        "/_linkgen/manifest/format.json",
        "//_linkgen/manifest/format.json",
        "/_LINKGEN/manifest/format.json",
        "/%5flinkgen/manifest/format.json",
        "/_linkgen",
    ):
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"{edge}{path}", timeout=10)
        assert refused.value.code == 404, path
        assert b"linkgen.manifest" not in refused.value.read()
    assert "Alice v1" in get(f"{edge}/alice")[0]
