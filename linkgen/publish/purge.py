"""Dropping changed pages from the CDN by surrogate key."""

from __future__ import annotations

from collections.abc import Sequence
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


def _batches(keys: Sequence[str], limit: int) -> list[list[str]]:
    batches: list[list[str]] = [[]]
    size = 0
    for key in keys:
        if batches[-1] and size + len(key) + 1 > limit:
            batches.append([])
            size = 0
        batches[-1].append(key)
        size += len(key) + 1
    return [batch for batch in batches if batch]


def open_purger(settings: CdnSettings) -> Purger:
    if settings.provider == "varnish":
        if not settings.varnish_urls:
            raise PublishError("cdn.varnish_urls: give at least one Varnish address")
        return VarnishPurger(settings.varnish_urls, soft=settings.soft_purge)
    return NoPurger()
