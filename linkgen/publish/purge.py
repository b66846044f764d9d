"""Dropping changed pages from the CDN by surrogate key."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from typing import Protocol

from ..config import CdnSettings
from ..errors import PublishError

MAX_HEADER = 8000  # bytes of keys per request: well inside every server's header limit


class Purger(Protocol):
    name: str

    def purge(self, keys: Sequence[str]) -> None:
        """Purge ``keys``; raise PublishError if any request failed."""
        ...


class NoPurger:
    name = "none"

    def purge(self, keys: Sequence[str]) -> None:
        return None


class VarnishPurger:
    """HTTP PURGE with the keys in an ``xkey`` header, to every edge node."""

    name = "varnish"

    def __init__(self, urls: Sequence[str], *, soft: bool = False, timeout: float = 5.0) -> None:
        import requests

        self.urls = list(urls)
        self.header = "xkey-soft" if soft else "xkey"
        self.timeout = timeout
        self.session = requests.Session()

    def purge(self, keys: Sequence[str]) -> None:
        import requests

        errors = []
        for batch in _batches(keys, MAX_HEADER):
            for url in self.urls:
                try:
                    response = self.session.request(
                        "PURGE",
                        url + "/",
                        headers={self.header: " ".join(batch)},
                        timeout=self.timeout,
                    )
                except requests.RequestException as exc:
                    errors.append(f"{url}: {type(exc).__name__}")
                    continue
                if response.status_code != 200:
                    errors.append(f"{url}: HTTP {response.status_code}")
        if errors:
            raise PublishError("purge failed at " + "; ".join(errors))


class FastlyPurger:
    """Fastly's batch purge by surrogate key: ≤ 256 keys, ≤ 16,384 header bytes a request."""

    name = "fastly"
    MAX_KEYS = 256
    MAX_HEADER = 16_384
    MAX_WAIT = 60.0  # the longest Retry-After honoured before giving up this run
    ATTEMPTS = 5

    def __init__(
        self,
        api_url: str,
        service_id: str,
        token: str,
        *,
        soft: bool = False,
        timeout: float = 10.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        import requests

        self.url = f"{api_url}/service/{service_id}/purge"
        self.headers = {"Fastly-Key": token, "Accept": "application/json"}
        if soft:
            self.headers["Fastly-Soft-Purge"] = "1"
        self.timeout = timeout
        self.sleep = sleep
        self.session = requests.Session()

    def purge(self, keys: Sequence[str]) -> None:
        for batch in _batches(keys, self.MAX_HEADER, self.MAX_KEYS):
            self._send(batch)

    def _send(self, batch: list[str]) -> None:
        import requests

        for _ in range(self.ATTEMPTS):
            try:
                response = self.session.post(
                    self.url,
                    headers={**self.headers, "Surrogate-Key": " ".join(batch)},
                    timeout=self.timeout,
                )
            except requests.RequestException as exc:
                raise PublishError(f"fastly: {type(exc).__name__}") from None
            if response.status_code == 200:
                return
            if response.status_code == 429:
                wait = _retry_after(response.headers.get("Retry-After"))
                if wait > self.MAX_WAIT:
                    break
                self.sleep(wait)
                continue
            raise PublishError(f"fastly: HTTP {response.status_code} {response.text[:200]}")
        raise PublishError("fastly: still rate-limited (429) after retrying")


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


def open_purger(settings: CdnSettings) -> Purger:
    if settings.provider == "fastly":
        token = os.environ.get("FASTLY_API_TOKEN")
        if not token or not settings.fastly_service_id:
            raise PublishError(
                "fastly needs cdn.fastly_service_id in linkgen.toml and $FASTLY_API_TOKEN"
            )
        return FastlyPurger(
            settings.fastly_api_url, settings.fastly_service_id, token, soft=settings.soft_purge
        )
    if settings.provider == "varnish":
        if not settings.varnish_urls:
            raise PublishError("cdn.varnish_urls: give at least one Varnish address")
        return VarnishPurger(settings.varnish_urls, soft=settings.soft_purge)
    return NoPurger()
