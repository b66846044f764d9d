"""End to end: publish to S3 (moto) behind a real Varnish with xkey, purge by key."""

from __future__ import annotations

import gzip
import urllib.error
import urllib.request
from typing import Any

import pytest

from linkgen import site as sites
from linkgen.build import build
from linkgen.models import NewProfile, ProfileFields, validate
from linkgen.publish.run import publish
from tests.support.edge import answer, configure


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


def published(site: sites.Site, add_profile: Any, bucket: Any, s3_endpoint: str, edge: str) -> Any:
    live = alice_and_bob(site, add_profile, bucket, s3_endpoint, edge)
    build(live)
    assert publish(live).ok
    return live


def test_a_missing_or_forbidden_key_is_the_sites_own_404_page(
    site: sites.Site, add_profile: Any, bucket: Any, s3_endpoint: str, edge: str
) -> None:
    published(site, add_profile, bucket, s3_endpoint, edge)
    s3, name = bucket
    s3.put_object(Bucket=name, Key="links/private-thing", Body=b"x")  # no public-read: 403
    for path in ("/nope", "/private-thing", "/_linkgen/manifest/format.json"):
        status, headers, body = answer(f"{edge}{path}")
        assert status == 404, path
        assert headers["Content-Type"] == "text/html; charset=utf-8", path
        assert b"Page not found" in body and b"<Error>" not in body and name.encode() not in body
        leaked = [h for h in headers if h.lower().startswith("x-amz") or h.lower() == "server"]
        assert not leaked, (path, leaked)


def test_a_page_says_nothing_of_the_origin_or_the_edges_keys(
    site: sites.Site, add_profile: Any, bucket: Any, s3_endpoint: str, edge: str
) -> None:
    published(site, add_profile, bucket, s3_endpoint, edge)
    for attempt in ("MISS", "HIT"):  # stripped when stored, and so on every answer
        status, headers, _ = answer(f"{edge}/alice")
        assert (status, headers["X-Cache"]) == (200, attempt)
        private = ("x-amz", "server", "xkey", "surrogate-")
        leaked = [h for h in headers if h.lower().startswith(private)]
        assert not leaked, leaked
        assert "s-maxage" not in headers["Cache-Control"]


def test_one_address_per_page(
    site: sites.Site, add_profile: Any, bucket: Any, s3_endpoint: str, edge: str
) -> None:
    published(site, add_profile, bucket, s3_endpoint, edge)
    for path in ("/Alice", "/alice/", "/ALICE/", "/alice//"):
        status, headers, _ = answer(f"{edge}{path}")
        assert (status, headers.get("Location")) == (301, "/alice"), path
    assert answer(f"{edge}/alice")[0] == 200


def test_text_is_compressed_for_clients_that_accept_it(
    site: sites.Site, add_profile: Any, bucket: Any, s3_endpoint: str, edge: str
) -> None:
    published(site, add_profile, bucket, s3_endpoint, edge)
    plain = answer(f"{edge}/alice")
    zipped = answer(f"{edge}/alice", **{"Accept-Encoding": "gzip"})
    assert zipped[1]["Content-Encoding"] == "gzip" and "Content-Encoding" not in plain[1]
    assert gzip.decompress(zipped[2]) == plain[2] and len(zipped[2]) < len(plain[2]) / 2
    assert (
        answer(f"{edge}/sitemap.xml", **{"Accept-Encoding": "gzip"})[1].get("Content-Encoding")
        == "gzip"
    )


def test_downstream_caches_get_a_short_lifetime_the_edge_keeps_its_own(
    site: sites.Site, add_profile: Any, bucket: Any, s3_endpoint: str, edge: str
) -> None:
    published(site, add_profile, bucket, s3_endpoint, edge)
    for path in ("/alice", "/sitemap.xml", "/nope"):
        cache = answer(f"{edge}{path}")[1]["Cache-Control"]
        assert "s-maxage" not in cache, (path, cache)
        ages = [int(part.split("=")[1]) for part in cache.split(", ") if part.startswith("max-age")]
        assert ages and ages[0] <= 300, (path, cache)
    assert answer(f"{edge}/alice")[1]["X-Cache"] == "HIT"  # the edge still keeps it


def test_a_cached_404_goes_when_that_username_is_created(
    site: sites.Site, add_profile: Any, bucket: Any, s3_endpoint: str, edge: str
) -> None:
    live = published(site, add_profile, bucket, s3_endpoint, edge)
    assert answer(f"{edge}/carol")[0] == 404
    assert answer(f"{edge}/carol")[1]["X-Cache"] == "HIT"  # a scan does not reach the origin
    live.content.create_profile(validate(NewProfile, {"username": "carol", "display_name": "C"}))
    build(live)
    assert publish(live).ok
    status, _, body = answer(f"{edge}/carol")
    assert status == 200 and b"<h1" in body


def test_the_edge_command_prints_the_vcl_for_this_sites_bucket(
    site: sites.Site, bucket: Any, s3_endpoint: str, run: Any
) -> None:
    (site.root / "linkgen.toml").write_text(
        f'[publish]\ntarget = "s3://{bucket[1]}/links"\nendpoint_url = "{s3_endpoint}"\n'
    )
    vcl = run("edge", "vcl").stdout
    host, port = s3_endpoint.removeprefix("http://").split(":")
    assert f'.host = "{host}";' in vcl and f'.port = "{port}";' in vcl
    assert f'"/{bucket[1]}/links" + req.url' in vcl and "@" not in vcl.replace("@ORIGIN", "")
    given = run("edge", "vcl", "--origin", "10.0.0.5:9000", "--bucket-path", "/b/p").stdout
    assert '.host = "10.0.0.5";' in given and '"/b/p" + req.url' in given
    (site.root / "linkgen.toml").write_text("")
    assert "give --origin and --bucket-path" in run("edge", "vcl", code=1).stderr


def test_the_site_root_is_the_home_page(
    site: sites.Site, add_profile: Any, bucket: Any, s3_endpoint: str, edge: str
) -> None:
    published(site, add_profile, bucket, s3_endpoint, edge)
    status, headers, body = answer(f"{edge}/")
    assert status == 200 and headers["Content-Type"] == "text/html; charset=utf-8"
    assert b"/alice" in body and b"/bob" in body
