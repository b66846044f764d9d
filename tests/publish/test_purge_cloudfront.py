"""The CloudFront purger against moto's CloudFront over HTTP.

moto records invalidations but enforces none of CloudFront's limits, so a
relaying proxy in front of it enforces them the way CloudFront does: at most
3,000 paths and 15 wildcard paths in progress per distribution (400
TooManyInvalidationsInProgress), ``*`` only at the end of a path and every
path starting with ``/`` (400 InvalidArgument), Quantity matching the items
(400 InconsistentQuantities). An accepted invalidation stays in progress for
``complete_after`` seconds.
"""

from __future__ import annotations

import re
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any

import boto3
import pytest

from linkgen import site as sites
from linkgen.build import build
from linkgen.errors import PublishError
from linkgen.models import ProfileFields
from linkgen.publish.objects import public_path
from linkgen.publish.purge import CloudFrontPurger
from linkgen.publish.run import publish
from tests.support.relay import RelayProxy, answer

NS = "{http://cloudfront.amazonaws.com/doc/2020-05-31/}"
INVALIDATION = re.compile(r"^/2020-05-31/distribution/([A-Z0-9]+)/invalidation$")


class CloudFrontLimits:
    """The hook that makes moto refuse what CloudFront refuses."""

    def __init__(self, complete_after: float) -> None:
        self.complete_after = complete_after
        self.in_progress: list[tuple[float, list[str]]] = []
        self.refused: list[str] = []
        self.lock = threading.Lock()

    def __call__(self, handler: BaseHTTPRequestHandler, length: int) -> bool:
        if handler.command != "POST" or not INVALIDATION.match(handler.path):
            return False
        handler.body = handler.rfile.read(length)  # type: ignore[attr-defined]
        batch = ET.fromstring(handler.body)
        paths = [item.text or "" for item in batch.iter(f"{NS}Path")]
        quantity = int(batch.findtext(f"{NS}Paths/{NS}Quantity") or -1)
        with self.lock:
            now = time.monotonic()
            self.in_progress = [(t, p) for t, p in self.in_progress if t > now]
            busy = sum(len(p) for _, p in self.in_progress)
            wild = sum(path.endswith("*") for _, p in self.in_progress for path in p)
            if quantity != len(paths):
                return self._refuse(handler, "InconsistentQuantities", "Quantity mismatch")
            bad = [p for p in paths if not p.startswith("/") or "*" in p[:-1]]
            if bad:
                return self._refuse(handler, "InvalidArgument", f"Invalid path {bad[0]}")
            if busy + len(paths) > 3000 or wild + sum(p.endswith("*") for p in paths) > 15:
                return self._refuse(
                    handler,
                    "TooManyInvalidationsInProgress",
                    "Processing your request will cause you to exceed the maximum number of "
                    "in-progress wildcard invalidations or invalidations of individual files",
                )
            self.in_progress.append((now + self.complete_after, paths))
        return False

    def _refuse(self, handler: BaseHTTPRequestHandler, code: str, message: str) -> bool:
        self.refused.append(code)
        body = (
            f'<?xml version="1.0"?><ErrorResponse xmlns="{NS[1:-1]}"><Error><Type>Sender</Type>'
            f"<Code>{code}</Code><Message>{message}</Message></Error>"
            f"<RequestId>stand-in</RequestId></ErrorResponse>"
        ).encode()
        return answer(handler, 400, body, "text/xml")


class CloudFront:
    def __init__(self, s3_endpoint: str, complete_after: float) -> None:
        self.limits = CloudFrontLimits(complete_after)
        self.proxy = RelayProxy(s3_endpoint, self.limits)
        self.client = boto3.client(
            "cloudfront", endpoint_url=self.proxy.url, region_name="us-east-1"
        )
        origin = {"Id": "s3", "DomainName": "links.s3.amazonaws.com"}
        created = self.client.create_distribution(
            DistributionConfig={
                "CallerReference": f"linkgen-test-{time.monotonic_ns()}",
                "Comment": "linkgen test",
                "Enabled": True,
                "Origins": {
                    "Quantity": 1,
                    "Items": [{**origin, "S3OriginConfig": {"OriginAccessIdentity": ""}}],
                },
                "DefaultCacheBehavior": {
                    "TargetOriginId": "s3",
                    "ViewerProtocolPolicy": "redirect-to-https",
                    "MinTTL": 0,
                    "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}},
                    "TrustedSigners": {"Enabled": False, "Quantity": 0},
                },
            }
        )
        self.id = created["Distribution"]["Id"]

    def invalidated(self) -> list[list[str]]:
        """The paths of every invalidation moto recorded, oldest first."""
        listing = self.client.list_invalidations(DistributionId=self.id)["InvalidationList"]
        batches = []
        for item in listing.get("Items", []):
            got = self.client.get_invalidation(DistributionId=self.id, Id=item["Id"])
            batches.append(got["Invalidation"]["InvalidationBatch"]["Paths"]["Items"])
        return batches

    def purger(self, **options: Any) -> CloudFrontPurger:
        return CloudFrontPurger(self.id, endpoint_url=self.proxy.url, **options)


@pytest.fixture
def cloudfront(s3_endpoint: str) -> Iterator[CloudFront]:
    stand_in = CloudFront(s3_endpoint, complete_after=1.5)
    yield stand_in
    stand_in.proxy.close()


def configure(site: sites.Site, cloudfront: CloudFront, extra: str = "") -> sites.Site:
    (site.root / "linkgen.toml").write_text(
        '[site]\nurl = "https://d111111abcdef8.cloudfront.net"\n'
        f'[cdn]\nprovider = "cloudfront"\ncloudfront_distribution_id = "{cloudfront.id}"\n'
        f'cloudfront_endpoint_url = "{cloudfront.proxy.url}"\n{extra}'
    )
    return sites.Site.open(site.root)


def test_paths_are_the_public_forms_of_each_object() -> None:
    assert public_path("https://x.example", "alice") == ["/alice"]
    assert public_path("https://x.example/links/", "alice") == ["/links/alice"]
    assert public_path("https://x.example", "index.html") == ["/", "/index.html"]


def test_publish_invalidates_exactly_the_changed_paths(
    site: sites.Site, add_profile: Any, cloudfront: CloudFront
) -> None:
    add_profile("alice")
    add_profile("bob")
    live = configure(site, cloudfront)
    build(live)
    assert publish(live).ok
    assert cloudfront.invalidated() == [
        ["/", "/404.html", "/alice", "/bob", "/index.html", "/robots.txt", "/sitemap.xml"]
    ]
    live.content.update_profile("alice", ProfileFields(bio="v2"))
    build(live)
    report = publish(live)
    assert report.ok and report.purged == ["/alice"]
    assert cloudfront.invalidated()[-1] == ["/alice"]


def test_many_changed_paths_fold_into_one_wildcard(
    site: sites.Site, add_profile: Any, cloudfront: CloudFront
) -> None:
    for name in ("ana", "ben", "cy", "dee"):
        add_profile(name)
    live = configure(site, cloudfront, "cloudfront_wildcard_over = 3\n")
    build(live)
    assert publish(live).ok
    assert cloudfront.invalidated() == [["/*"]]


def test_too_many_invalidations_in_progress_is_waited_out(cloudfront: CloudFront) -> None:
    cloudfront.purger(wildcard_over=3000).purge(
        [f"/u{n}" for n in range(2999)]
    )  # 2,999 of 3,000 in progress
    started = time.monotonic()
    cloudfront.purger().purge(["/alice", "/bob"])
    assert "TooManyInvalidationsInProgress" in cloudfront.limits.refused
    assert time.monotonic() - started >= 1.0  # held back until the first one completed
    assert cloudfront.invalidated()[-1] == ["/alice", "/bob"]


def test_wildcards_in_progress_are_limited_to_15(cloudfront: CloudFront) -> None:
    cloudfront.limits.complete_after = 60
    for n in range(15):
        cloudfront.purger().purge([f"/d{n}/*"])
    with pytest.raises(PublishError, match="cloudfront: TooManyInvalidationsInProgress"):
        cloudfront.purger(max_wait=2).purge(["/d15/*"])


def test_a_purge_that_cannot_wait_is_kept_and_retried_next_run(
    site: sites.Site, add_profile: Any, cloudfront: CloudFront
) -> None:
    add_profile("alice")
    live = configure(site, cloudfront, "purge_wait = 1\n")
    cloudfront.limits.complete_after = 60
    cloudfront.purger(wildcard_over=3000).purge(
        [f"/u{n}" for n in range(3000)]
    )  # the distribution is full
    build(live)
    failed = publish(live)
    assert not failed.ok and "TooManyInvalidationsInProgress" in failed.failures[0]
    assert "retried on the next run" in failed.failures[0]
    assert live.manifest.pending_purges("path") == [
        "/",
        "/404.html",
        "/alice",
        "/index.html",
        "/robots.txt",
        "/sitemap.xml",
    ]

    cloudfront.limits.in_progress.clear()  # the earlier invalidation completed
    retried = publish(live)
    assert retried.ok and retried.uploaded == []
    assert cloudfront.invalidated()[-1] == [
        "/", "/404.html", "/alice", "/index.html", "/robots.txt", "/sitemap.xml"
    ]  # fmt: skip
    assert live.manifest.pending_purges() == []


def test_a_malformed_path_is_refused_clearly(cloudfront: CloudFront) -> None:
    with pytest.raises(PublishError, match="InvalidArgument"):
        cloudfront.purger().purge(["/a*b"])
