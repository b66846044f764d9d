"""Downloading what a creator points linkgen at (an image, a saved page).

Timeouts on connect and read, a size cap enforced while reading, retries
with exponential backoff (honouring Retry-After) on 429 and 5xx, and one
clear error otherwise — never a traceback.
"""

from __future__ import annotations

import time

from linkgen.errors import LinkgenError

TIMEOUT = (5, 20)  # connect, read (seconds)
ATTEMPTS = 3
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_WAIT = 30.0


class FetchFailed(LinkgenError):
    """A URL could not be downloaded."""


class TooLarge(FetchFailed):
    """The answer was bigger than the caller accepts."""


def get(url: str, *, max_bytes: int, backoff: float = 1.0) -> bytes:
    import requests

    delay = backoff
    for attempt in range(1, ATTEMPTS + 1):
        last = attempt == ATTEMPTS
        try:
            with requests.get(url, timeout=TIMEOUT, stream=True) as response:
                if response.status_code in RETRY_STATUSES and not last:
                    time.sleep(_retry_after(response.headers.get("Retry-After"), delay))
                    delay *= 2
                    continue
                if response.status_code != 200:
                    raise FetchFailed(f"{url}: the server answered {response.status_code}")
                data = bytearray()
                for chunk in response.iter_content(64 * 1024):
                    data += chunk
                    if len(data) > max_bytes:
                        raise TooLarge(f"{url}: larger than {max_bytes:,} bytes")
                return bytes(data)
        except requests.RequestException as exc:
            if last:
                raise FetchFailed(f"{url}: could not download it ({type(exc).__name__})") from None
            time.sleep(delay)
            delay *= 2
    raise FetchFailed(f"{url}: the server kept answering with errors")  # pragma: no cover


def _retry_after(header: str | None, default: float) -> float:
    try:
        return min(max(float(header), 0.0), MAX_WAIT) if header else default
    except ValueError:
        return default
