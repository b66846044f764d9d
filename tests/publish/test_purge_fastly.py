"""The Fastly purger against a local stand-in for Fastly's purge API.

The stand-in enforces what the real API does: POST /service/<id>/purge,
auth by the Fastly-Key header (401 otherwise), keys in a Surrogate-Key
header, at most 256 keys and 16,384 header bytes a request, each key at most
1,024 bytes (400 otherwise), and 429 with Retry-After when rate-limited.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from linkgen import site as sites
from linkgen.build import build
from linkgen.errors import PublishError
from linkgen.models import ProfileFields
from linkgen.publish.purge import FastlyPurger
from linkgen.publish.run import publish
from tests.support.standins import FastlyStandIn

SERVICE, TOKEN = "SU1Z0isxPaozGVKXdv0eY", "test-token"


@pytest.fixture
def fastly() -> Iterator[FastlyStandIn]:
    stand_in = FastlyStandIn(SERVICE, TOKEN)
    yield stand_in
    stand_in.close()


def test_keys_go_in_batches_of_at_most_256(fastly: FastlyStandIn) -> None:
    keys = [f"p-{n:012d}" for n in range(600)]
    FastlyPurger(fastly.url, SERVICE, TOKEN).purge(keys)
    assert [len(batch) for batch in fastly.purged] == [256, 256, 88]
    assert [key for batch in fastly.purged for key in batch] == keys


def test_a_429_is_honoured_with_its_retry_after() -> None:
    stand_in = FastlyStandIn(SERVICE, TOKEN, throttle_every=2, retry_after=1)
    try:
        FastlyPurger(stand_in.url, SERVICE, TOKEN).purge(["p-a", "site"])
        assert stand_in.purged == [["p-a", "site"]]
        assert len(stand_in.throttled_at) == 1
        assert stand_in.retried_at[0] - stand_in.throttled_at[0] >= 0.95
    finally:
        stand_in.close()


def test_a_bad_token_is_a_clear_failure(fastly: FastlyStandIn) -> None:
    with pytest.raises(PublishError, match="fastly: HTTP 401"):
        FastlyPurger(fastly.url, SERVICE, "wrong").purge(["p-a"])


def test_publish_purges_changed_profiles_at_fastly_and_retries_failures(
    site: sites.Site, add_profile: Any, fastly: FastlyStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_profile("alice")
    add_profile("bob")
    (site.root / "linkgen.toml").write_text(
        f'[cdn]\nprovider = "fastly"\nfastly_service_id = "{SERVICE}"\n'
        f'fastly_api_url = "{fastly.url}"\n'
    )
    live = sites.Site.open(site.root)
    monkeypatch.setenv("FASTLY_API_TOKEN", "wrong")
    build(live)
    failed = publish(live)
    assert not failed.ok and "HTTP 401" in failed.failures[0]
    assert len(live.manifest.pending_purges()) == 3  # both profiles and the site files

    monkeypatch.setenv("FASTLY_API_TOKEN", TOKEN)
    live.content.update_profile("alice", ProfileFields(bio="new"))
    build(live)
    done = publish(live)
    alice, bob = live.content.get("alice"), live.content.get("bob")
    assert done.ok and done.uploaded == ["alice"]
    assert sorted(fastly.purged[-1]) == sorted([f"p-{alice.id}", f"p-{bob.id}", "site"])
    assert live.manifest.pending_purges() == []


def test_fastly_needs_its_service_and_token(site: sites.Site, add_profile: Any) -> None:
    add_profile("alice")
    (site.root / "linkgen.toml").write_text('[cdn]\nprovider = "fastly"\n')
    live = sites.Site.open(site.root)
    build(live)
    with pytest.raises(PublishError, match="fastly_service_id"):
        publish(live)
    assert not (live.root / "published").exists()  # refused before uploading anything
