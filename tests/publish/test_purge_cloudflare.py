"""The Cloudflare purger against a local stand-in enforcing the real API's limits."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from linkgen import site as sites
from linkgen.build import build
from linkgen.errors import PublishError
from linkgen.models import ProfileFields
from linkgen.publish.purge import CloudflarePurger
from linkgen.publish.run import publish
from tests.support.standins import CloudflareStandIn

ZONE, TOKEN = "023e105f4ecef8ad9ca31a8372d0c353", "cf-test-token"
SITE_URL = "https://links.example.com"


@pytest.fixture
def cloudflare() -> Iterator[CloudflareStandIn]:
    stand_in = CloudflareStandIn(ZONE, TOKEN, "links.example.com")
    yield stand_in
    stand_in.close()


def purger(stand_in: CloudflareStandIn, **options: Any) -> CloudflarePurger:
    api = f"{stand_in.url}/client/v4"
    return CloudflarePurger(api, ZONE, options.pop("token", TOKEN), site_url=SITE_URL, **options)


def test_urls_go_in_batches_of_at_most_100(cloudflare: CloudflareStandIn) -> None:
    paths = [f"/user{n}" for n in range(250)]
    purger(cloudflare).purge(paths)
    assert [len(request["files"]) for request in cloudflare.purged] == [100, 100, 50]
    sent = [url for request in cloudflare.purged for url in request["files"]]
    assert sent == [f"{SITE_URL}/user{n}" for n in range(250)]


def test_the_enterprise_batch_of_500_is_a_setting(cloudflare: CloudflareStandIn) -> None:
    cloudflare.max_items = 500
    purger(cloudflare, batch=500).purge([f"/u{n}" for n in range(600)])
    assert [len(request["files"]) for request in cloudflare.purged] == [500, 100]


def test_by_tag_sends_the_surrogate_keys_as_tags(cloudflare: CloudflareStandIn) -> None:
    purger(cloudflare, by="tag").purge(["p-abc", "site"])
    assert cloudflare.purged == [{"tags": ["p-abc", "site"]}]


def test_a_429_is_honoured_with_its_retry_after() -> None:
    slow = CloudflareStandIn(ZONE, TOKEN, "links.example.com", bucket_size=1, per_second=1.0)
    slept: list[float] = []
    try:
        purger(slow, sleep=lambda s: (slept.append(s), __import__("time").sleep(s))).purge(
            [f"/u{n}" for n in range(150)]
        )
        assert [len(request["files"]) for request in slow.purged] == [100, 50]
        assert slow.throttled >= 1 and slept and all(s >= 1 for s in slept)
    finally:
        slow.close()


def test_a_rate_limit_longer_than_the_budget_fails_clearly() -> None:
    slow = CloudflareStandIn(ZONE, TOKEN, "links.example.com", bucket_size=1, per_second=0.01)
    try:
        with pytest.raises(PublishError, match=r"cloudflare: rate-limited \(429\)"):
            purger(slow, max_wait=5).purge([f"/u{n}" for n in range(150)])
        assert len(slow.purged) == 1
    finally:
        slow.close()


def test_a_bad_token_is_a_clear_failure(cloudflare: CloudflareStandIn) -> None:
    with pytest.raises(PublishError, match="cloudflare: HTTP 403 10000 Authentication error"):
        purger(cloudflare, token="wrong").purge(["/alice"])


def test_publish_purges_the_changed_urls_and_retries_failures(
    site: sites.Site,
    add_profile: Any,
    cloudflare: CloudflareStandIn,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    add_profile("alice")
    add_profile("bob")
    (site.root / "linkgen.toml").write_text(
        f'[site]\nurl = "{SITE_URL}"\n'
        f'[cdn]\nprovider = "cloudflare"\ncloudflare_zone_id = "{ZONE}"\n'
        f'cloudflare_api_url = "{cloudflare.url}/client/v4"\n'
    )
    live = sites.Site.open(site.root)
    build(live)
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", TOKEN)
    assert publish(live).ok
    first = cloudflare.purged[-1]["files"]
    assert f"{SITE_URL}/alice" in first and f"{SITE_URL}/bob" in first
    assert f"{SITE_URL}/sitemap.xml" in first and not any("/_m/" in url for url in first)

    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", "revoked")
    live.content.update_profile("alice", ProfileFields(bio="new"))
    build(live)
    failed = publish(live)
    assert not failed.ok and "Authentication error" in failed.failures[0]
    assert live.manifest.pending_purges("path") == ["/alice"]

    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", TOKEN)
    live.content.rename_profile("bob", "robert")
    build(live)
    done = publish(live)
    assert done.ok
    assert sorted(cloudflare.purged[-1]["files"]) == [
        f"{SITE_URL}/",  # the home page lists usernames: a rename changes it
        f"{SITE_URL}/alice",  # the purge that failed, retried
        f"{SITE_URL}/bob",  # the old address of a renamed profile
        f"{SITE_URL}/index.html",
        f"{SITE_URL}/robert",
        f"{SITE_URL}/sitemap.xml",
    ]
    assert live.manifest.pending_purges() == []


def test_cloudflare_needs_its_zone_and_token(
    site: sites.Site, add_profile: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_profile("alice")
    (site.root / "linkgen.toml").write_text('[cdn]\nprovider = "cloudflare"\n')
    monkeypatch.delenv("CLOUDFLARE_API_TOKEN", raising=False)
    live = sites.Site.open(site.root)
    build(live)
    with pytest.raises(PublishError, match="CLOUDFLARE_API_TOKEN"):
        publish(live)
    assert not (live.root / "published").exists()  # refused before uploading anything
