"""Downloading what a creator points linkgen at (an image, a saved page).

A URL given to linkgen — or found in a page it imports — is hostile until
checked, so a fetch:
- goes only to public addresses: the host is resolved and every address must
  be global (no loopback, private, link-local such as cloud metadata, shared,
  multicast or reserved ones), for the first request and for every redirect,
  and the address actually connected to is checked again; ``[fetch]
  allow_networks`` lets a self-hoster allow networks of their own;
- follows at most MAX_REDIRECTS redirects, http and https only;
- ends within one overall DEADLINE (connecting, waiting, retrying and reading
  together): a server that trickles its answer is cut off;
- reads at most ``max_bytes``;
- retries with exponential backoff (honouring Retry-After) on 429 and 5xx;
- fails with one clear error otherwise — never a traceback.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import threading
import time
from collections.abc import Sequence
from typing import Any
from urllib.parse import urljoin, urlsplit

from linkgen.errors import LinkgenError

TIMEOUT = (5.0, 20.0)  # connect, read (seconds), each within the deadline
DEADLINE = 15.0  # seconds for the whole fetch
MAX_REDIRECTS = 5
ATTEMPTS = 3
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_WAIT = 30.0
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class FetchFailed(LinkgenError):
    """A URL could not be downloaded."""


class TooLarge(FetchFailed):
    """The answer was bigger than the caller accepts."""


class Refused(FetchFailed):
    """The URL points somewhere linkgen does not fetch from (a private address, ...)."""


class _Again(Exception):
    """A status worth another attempt, and how long the server asks to wait."""

    def __init__(self, status: int, wait: float) -> None:
        self.status, self.wait = status, wait


def networks(allowed: Sequence[str]) -> list[Network]:
    return [ipaddress.ip_network(network, strict=False) for network in allowed]


def may_connect(address: str, allowed: Sequence[Network] = ()) -> bool:
    """Whether ``address`` is public, or in a network the site allows."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if any(ip in network for network in allowed):
        return True
    return ip.is_global and not ip.is_multicast


def get(
    url: str,
    *,
    max_bytes: int,
    allow: Sequence[str] = (),
    deadline: float = DEADLINE,
    backoff: float = 1.0,
) -> bytes:
    """The body of ``url`` (a 200 answer), within the rules above."""
    import requests

    allowed = networks(allow)
    ends = time.monotonic() + deadline
    delay = backoff
    with requests.Session() as session:
        session.trust_env = False  # no proxy from the environment: the checks see the target
        for attempt in range(1, ATTEMPTS + 1):
            try:
                return _follow(session, url, max_bytes, allowed, ends, deadline)
            except _Again as again:
                wait = _retry_after(again.wait, delay)
                if attempt == ATTEMPTS or time.monotonic() + wait > ends:
                    raise FetchFailed(f"{url}: the server answered {again.status}") from None
            except requests.RequestException as exc:
                if time.monotonic() >= ends:
                    raise FetchFailed(f"{url}: it took longer than {deadline:g} s") from None
                if attempt == ATTEMPTS:
                    raise FetchFailed(
                        f"{url}: could not download it ({type(exc).__name__})"
                    ) from None
                wait = delay
            time.sleep(min(wait, max(0.0, ends - time.monotonic())))
            delay *= 2
    raise FetchFailed(f"{url}: the server kept answering with errors")  # pragma: no cover


def _follow(
    session: Any, url: str, max_bytes: int, allowed: list[Network], ends: float, deadline: float
) -> bytes:
    current = url
    for _ in range(MAX_REDIRECTS + 1):
        _check_host(current, allowed)
        left = ends - time.monotonic()
        if left <= 0:
            raise FetchFailed(f"{url}: it took longer than {deadline:g} s")
        timeout = (min(TIMEOUT[0], left), min(TIMEOUT[1], left))
        with session.get(current, timeout=timeout, stream=True, allow_redirects=False) as answer:
            if answer.is_redirect:
                current = urljoin(current, answer.headers.get("Location", ""))
                continue
            if answer.status_code in RETRY_STATUSES:
                raise _Again(answer.status_code, _seconds(answer.headers.get("Retry-After")))
            if answer.status_code != 200:
                raise FetchFailed(f"{url}: the server answered {answer.status_code}")
            # The body is read only from an address that passes again, as connected to
            # (a name that resolved to a public address may answer from another).
            sock = _socket(answer)
            if sock is None:  # fail closed: an address that cannot be checked is not used
                raise Refused(f"{url}: the address connected to cannot be checked")
            if not may_connect(sock.getpeername()[0], allowed):
                raise Refused(f"{url}: it led to a private or local address")
            return _read(answer, url, max_bytes, ends, deadline)
    raise Refused(f"{url}: more than {MAX_REDIRECTS} redirects")


def _read(answer: Any, url: str, max_bytes: int, ends: float, deadline: float) -> bytes:
    """The body, cut off at the deadline however slowly it arrives."""
    cut_off = threading.Event()

    def stop() -> None:
        cut_off.set()
        with contextlib.suppress(OSError, ValueError, RuntimeError):
            answer.raw.shutdown()  # wakes the read that is waiting (urllib3 2.3+)

    timer = threading.Timer(max(0.0, ends - time.monotonic()), stop)
    timer.start()
    try:
        data = bytearray()
        for chunk in answer.iter_content(64 * 1024):
            data += chunk
            if len(data) > max_bytes:
                raise TooLarge(f"{url}: larger than {max_bytes:,} bytes")
    except Exception as exc:
        if cut_off.is_set() and not isinstance(exc, TooLarge):
            raise FetchFailed(f"{url}: it took longer than {deadline:g} s") from None
        raise
    finally:
        timer.cancel()
    if cut_off.is_set():
        raise FetchFailed(f"{url}: it took longer than {deadline:g} s")
    return bytes(data)


def _check_host(url: str, allowed: list[Network]) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Refused(f"{url}: only http(s) URLs are fetched")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        found = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (OSError, ValueError):
        raise FetchFailed(f"{url}: the host {parts.hostname} cannot be found") from None
    for *_, address in found:
        if not may_connect(str(address[0]), allowed):
            raise Refused(
                f"{url}: {parts.hostname} is a private or local address; linkgen fetches "
                f"only from public ones ([fetch] allow_networks allows your own)"
            )


def _socket(answer: Any) -> Any:
    """The socket the answer came on: the connection's, or, once http.client has
    taken it over to stream the body, its response's."""
    sock = getattr(getattr(answer.raw, "connection", None), "sock", None)
    if sock is None:
        stream = getattr(getattr(getattr(answer.raw, "_fp", None), "fp", None), "raw", None)
        sock = getattr(stream, "_sock", None)
    return sock


def _seconds(header: str | None) -> float:
    try:
        return float(header) if header else -1.0
    except ValueError:
        return -1.0


def _retry_after(asked: float, default: float) -> float:
    return min(asked, MAX_WAIT) if asked >= 0 else default


def post(
    url: str,
    body: bytes,
    headers: dict[str, str],
    *,
    allow: Sequence[str] = (),
    timeout: float = 10.0,
) -> int:
    """POST ``body`` to ``url`` under the same address rules as a download (one try,
    no redirect followed; the caller retries); the answer's status."""
    import requests

    allowed = networks(allow)
    _check_host(url, allowed)
    with requests.Session() as session:
        session.trust_env = False
        try:
            with session.post(url, data=body, headers=headers, timeout=(min(5.0, timeout), timeout),
                              stream=True, allow_redirects=False) as answer:  # fmt: skip
                sock = _socket(answer)
                if sock is None or not may_connect(sock.getpeername()[0], allowed):
                    raise Refused(f"{url}: it led to a private or local address")
                return int(answer.status_code)  # the body is not read: nothing of it is kept
        except requests.RequestException as exc:
            raise FetchFailed(f"{url}: could not send ({type(exc).__name__})") from None


def check_public(url: str, allow: Sequence[str] = ()) -> None:
    """Refuse (Refused) a URL linkgen would not send to, before it is stored."""
    _check_host(url, networks(allow))
