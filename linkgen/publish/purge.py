"""Dropping changed pages from the CDN by surrogate key."""

from __future__ import annotations

import logging
import os
import random
import time
import uuid
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

from linkgen.errors import PublishError

if TYPE_CHECKING:
    import requests

    from linkgen.config import CdnSettings

log = logging.getLogger(__name__)

MAX_HEADER = 8000  # bytes of keys per request: well inside every server's header limit


class Purger(Protocol):
    name: str
    unit: str  # what purge() takes: "key" (surrogate keys, tags) or "path" (URL paths)

    def purge(self, subjects: Sequence[str]) -> None:
        """Purge ``subjects``; raise PublishError if any request failed."""
        ...


class NoPurger:
    name = "none"
    unit = "key"

    def purge(self, keys: Sequence[str]) -> None:
        return None


class VarnishPurger:
    """HTTP PURGE with the keys in an ``xkey`` header, to every edge node.

    Sent with urllib3 (already loaded for S3 by botocore) rather than
    requests: a one-edit publish would otherwise spend a tenth of its time
    importing requests for one request.
    """

    name = "varnish"
    unit = "key"

    def __init__(self, urls: Sequence[str], *, soft: bool = False, timeout: float = 5.0) -> None:
        import urllib3

        self.urls = list(urls)
        self.header = "xkey-soft" if soft else "xkey"
        self.pool = urllib3.PoolManager(
            timeout=urllib3.Timeout(connect=timeout, read=timeout), retries=False
        )

    def purge(self, keys: Sequence[str]) -> None:
        import urllib3

        errors = []
        for batch in _batches(keys, MAX_HEADER):
            for url in self.urls:
                try:
                    response = self.pool.request(
                        "PURGE", url + "/", headers={self.header: " ".join(batch)}
                    )
                except urllib3.exceptions.HTTPError as exc:
                    errors.append(f"{url}: {type(exc).__name__}")
                    continue
                if response.status != 200:
                    errors.append(f"{url}: HTTP {response.status}")
        if errors:
            raise PublishError("purge failed at " + "; ".join(errors))


class FastlyPurger:
    """Fastly's batch purge by surrogate key: ≤ 256 keys, ≤ 16,384 header bytes a request."""

    name = "fastly"
    unit = "key"
    MAX_KEYS = 256
    MAX_HEADER = 16_384

    def __init__(
        self,
        api_url: str,
        service_id: str,
        token: str,
        *,
        soft: bool = False,
        timeout: float = 10.0,
        max_wait: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        import requests

        self.url = f"{api_url}/service/{service_id}/purge"
        self.headers = {"Fastly-Key": token, "Accept": "application/json"}
        if soft:
            self.headers["Fastly-Soft-Purge"] = "1"
        self.timeout = timeout
        self.throttle = Throttle("fastly", max_wait, sleep)
        self.session = requests.Session()

    def purge(self, subjects: Sequence[str]) -> None:
        for batch in _batches(subjects, self.MAX_HEADER, self.MAX_KEYS):
            headers = {**self.headers, "Surrogate-Key": " ".join(batch)}
            self.throttle.send(self.session.post, self.url, headers=headers, timeout=self.timeout)


class CloudflarePurger:
    """Cloudflare's purge_cache: by URL (``files``) or by cache tag, ≤ 100 a request.

    Purging by URL is what Cloudflare recommends and needs nothing at the
    origin; by tag needs the origin to send a ``Cache-Tag`` header.
    """

    name = "cloudflare"

    def __init__(
        self,
        api_url: str,
        zone_id: str,
        token: str,
        *,
        site_url: str,
        by: str = "url",
        batch: int = 100,
        timeout: float = 10.0,
        max_wait: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        import requests

        self.url = f"{api_url}/zones/{zone_id}/purge_cache"
        self.headers = {"Authorization": f"Bearer {token}"}
        self.origin = _origin(site_url)
        self.unit = "key" if by == "tag" else "path"
        self.batch = batch if by == "url" else min(batch, 100)
        self.timeout = timeout
        self.throttle = Throttle("cloudflare", max_wait, sleep)
        self.session = requests.Session()

    def purge(self, subjects: Sequence[str]) -> None:
        field = "tags" if self.unit == "key" else "files"
        items = list(subjects) if field == "tags" else [self.origin + p for p in subjects]
        for start in range(0, len(items), self.batch):
            body = {field: items[start : start + self.batch]}
            self.throttle.send(
                self.session.post,
                self.url,
                json=body,
                headers=self.headers,
                timeout=self.timeout,
                check=_cloudflare_ok,
            )


class CloudFrontPurger:
    """CloudFront invalidations of the exact public paths that changed.

    One request a run. Past ``wildcard_over`` paths the run invalidates
    ``/*`` instead: billed as one path, and far inside the limits of 3,000
    paths and 15 wildcards in progress per distribution. A distribution
    with too many invalidations in progress is waited for with backoff.
    """

    name = "cloudfront"
    unit = "path"
    MAX_PATHS = 3000

    def __init__(
        self,
        distribution_id: str,
        *,
        endpoint_url: str | None = None,
        wildcard_over: int = 1000,
        max_wait: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
        client: Any = None,
    ) -> None:
        self.distribution_id = distribution_id
        self.wildcard_over = min(wildcard_over, self.MAX_PATHS)
        self.max_wait = max_wait
        self.sleep = sleep
        self.client = client or _cloudfront_client(endpoint_url)

    def paths(self, subjects: Sequence[str]) -> list[str]:
        paths = sorted(set(subjects))
        return ["/*"] if len(paths) > self.wildcard_over else paths

    def purge(self, subjects: Sequence[str]) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        paths = self.paths(subjects)
        batch = {
            "Paths": {"Quantity": len(paths), "Items": paths},
            # One reference per run: a retry after a lost answer is not a second invalidation.
            "CallerReference": f"linkgen-{uuid.uuid4().hex}",
        }
        waited, delay = 0.0, 1.0
        while True:
            try:
                self.client.create_invalidation(
                    DistributionId=self.distribution_id, InvalidationBatch=batch
                )
                return
            except ClientError as exc:
                code = exc.response.get("Error", {}).get("Code", "")
                if code != "TooManyInvalidationsInProgress" or waited + delay > self.max_wait:
                    message = exc.response.get("Error", {}).get("Message", "")
                    raise PublishError(f"cloudfront: {code} {message}".strip()) from None
            except BotoCoreError as exc:
                raise PublishError(f"cloudfront: {type(exc).__name__}: {exc}") from None
            wait = delay * random.uniform(0.5, 1.0)
            log.info("cloudfront: too many invalidations in progress; retrying in %.1f s", wait)
            self.sleep(wait)
            waited += wait
            delay = min(delay * 2, 30.0)


class Throttle:
    """Send a request; on 429 wait as long as Retry-After says, within a budget."""

    def __init__(self, name: str, max_wait: float, sleep: Callable[[float], None]) -> None:
        self.name = name
        self.budget = max_wait
        self.sleep = sleep

    def send(
        self,
        request: Callable[..., requests.Response],
        *args: Any,
        check: Callable[[requests.Response], str | None] | None = None,
        **kwargs: Any,
    ) -> None:
        import requests

        while True:
            try:
                response = request(*args, **kwargs)
            except requests.RequestException as exc:
                raise PublishError(f"{self.name}: {type(exc).__name__}") from None
            if response.status_code == 429:
                wait = _retry_after(response.headers.get("Retry-After"))
                if wait > self.budget:
                    raise PublishError(
                        f"{self.name}: rate-limited (429); waiting {wait:.0f} s more would pass "
                        f"cdn.purge_wait"
                    )
                self.budget -= wait
                self.sleep(wait)
                continue
            problem = (check or _http_ok)(response)
            if problem:
                raise PublishError(f"{self.name}: {problem}")
            return


def _http_ok(response: requests.Response) -> str | None:
    if response.status_code == 200:
        return None
    return f"HTTP {response.status_code} {response.text[:200]}"


def _cloudflare_ok(response: requests.Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        body = {}
    if response.status_code == 200 and isinstance(body, dict) and body.get("success") is True:
        return None
    errors = body.get("errors") if isinstance(body, dict) else None
    detail = "; ".join(
        f"{e.get('code')} {e.get('message')}" for e in errors or [] if isinstance(e, dict)
    )
    return f"HTTP {response.status_code} {detail or response.text[:200]}"


def _origin(site_url: str) -> str:
    """``https://host/base`` -> the prefix every public path is appended to."""
    parts = urlsplit(site_url)
    return f"{parts.scheme}://{parts.netloc}"


def _cloudfront_client(endpoint_url: str | None) -> Any:
    import boto3
    from botocore.config import Config as BotoConfig

    retries = BotoConfig(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=10)
    # CloudFront is global: its API is signed for us-east-1 whatever the default region.
    return boto3.client(
        "cloudfront", endpoint_url=endpoint_url, region_name="us-east-1", config=retries
    )


def _retry_after(value: str | None) -> float:
    try:
        return max(0.0, float(value)) if value is not None else 1.0
    except ValueError:
        return 1.0


def _batches(keys: Sequence[str], limit: int, max_keys: int = 10_000) -> list[list[str]]:
    batches: list[list[str]] = [[]]
    size = 0
    for key in keys:
        if batches[-1] and (size + len(key) + 1 > limit or len(batches[-1]) >= max_keys):
            batches.append([])
            size = 0
        batches[-1].append(key)
        size += len(key) + 1
    return [batch for batch in batches if batch]


def open_purger(settings: CdnSettings, site_url: str) -> Purger:
    """The configured purger; credentials only from the environment (or boto3's chain)."""
    wait = settings.purge_wait
    if settings.provider == "fastly":
        service, token = _account("fastly_service_id", settings.fastly_service_id, "FASTLY")
        return FastlyPurger(
            settings.fastly_api_url,
            service,
            token,
            soft=settings.soft_purge,
            max_wait=wait,
        )
    if settings.provider == "cloudflare":
        zone, token = _account("cloudflare_zone_id", settings.cloudflare_zone_id, "CLOUDFLARE")
        return CloudflarePurger(
            settings.cloudflare_api_url,
            zone,
            token,
            site_url=site_url,
            by=settings.cloudflare_purge_by,
            batch=settings.cloudflare_batch,
            max_wait=wait,
        )
    if settings.provider == "cloudfront":
        if not settings.cloudfront_distribution_id:
            raise PublishError("cloudfront needs cdn.cloudfront_distribution_id in linkgen.toml")
        return CloudFrontPurger(
            settings.cloudfront_distribution_id,
            endpoint_url=settings.cloudfront_endpoint_url,
            wildcard_over=settings.cloudfront_wildcard_over,
            max_wait=wait,
        )
    if settings.provider == "varnish":
        if not settings.varnish_urls:
            raise PublishError("cdn.varnish_urls: give at least one Varnish address")
        return VarnishPurger(settings.varnish_urls, soft=settings.soft_purge)
    return NoPurger()


def _account(setting: str, value: str | None, vendor: str) -> tuple[str, str]:
    """The account id from linkgen.toml and the API token from the environment only."""
    variable = f"{vendor}_API_TOKEN"
    token = os.environ.get(variable)
    if not token or not value:
        raise PublishError(f"{vendor.lower()} needs cdn.{setting} in linkgen.toml and ${variable}")
    return value, token


def purge_unit(settings: CdnSettings) -> str:
    """What the configured CDN purges by: "path" for URL purges, else "key"."""
    if settings.provider == "cloudfront":
        return "path"
    if settings.provider == "cloudflare" and settings.cloudflare_purge_by == "url":
        return "path"
    return "key"
