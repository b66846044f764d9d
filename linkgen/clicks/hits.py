"""Hits — what a request or a log line says — reduced to the events that are stored.

Runs in the click writer process (and in ``linkgen clicks ingest``), never on
the request path. The IP and the user agent go into the visitor hash of the
day and are then dropped (docs/analytics.md).

Under load most hits repeat a few user agents, referrers and countries, so
their classification is looked up, not redone: the writer's CPU per event is
CPU the server does not have on a small machine (docs/benchmarks.md,
"Redirects"). The caches are bounded and only ever hold what is stored anyway
(a device class, a bot flag, a host, a country) keyed by the header value.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from linkgen.clicks import visitors
from linkgen.clicks.db import DAY_MS, Event, day_of

if TYPE_CHECKING:
    from linkgen.clicks.db import ClickStore

# What a request leaves in the queue: (at, kind, profile_id, link_id, variant,
# ip, user_agent, referrer, country) — the variant an A/B test's page or link
# said it showed ("b"), or "" — the header values as the server gave them
# (bytes from ASGI, str from RSGI); they are decoded and checked here, and
# the IP and user agent never reach the disk. A plain tuple: built on the
# request path and pickled to the writer process, where a NamedTuple costs
# fifteen times as much (2.2 against 0.15 µs a hit).
Hit = tuple[float, str, str, str, str, bytes | str, bytes | str, bytes | str, bytes | str]

CACHE_ENTRIES = 4096  # per header; emptied when full (a new day of traffic refills it)


def _make_event(fields: tuple[Any, ...]) -> Event:
    return tuple.__new__(Event, fields)


def _raw(value: bytes | str) -> bytes:
    return value if isinstance(value, bytes) else value.encode("utf-8", "surrogateescape")


class Classifier:
    """Turns hits into events for one store (its salts), keeping what it learnt."""

    def __init__(self, store: ClickStore, own_hosts: frozenset[str] = frozenset()) -> None:
        self.store = store
        self.own_hosts = own_hosts  # the site's own pages are not a referrer
        self._agents: dict[Any, tuple[bytes, str, bool]] = {}
        self._referrers: dict[Any, str] = {}
        self._countries: dict[Any, str] = {}
        self._addresses: dict[Any, bytes] = {}  # an IP header -> its first address, and NUL
        self._tails: dict[tuple[Any, str], bytes] = {}  # (user agent, profile) -> the hash's tail
        self._hashers: dict[int, Any] = {}  # day number -> a blake2b keyed with its salt

    def events(self, hits: list[Hit]) -> list[Event]:
        agents, referrers, countries = self._agents, self._referrers, self._countries
        addresses, tails = self._addresses, self._tails
        for cache in (agents, referrers, countries, addresses, tails):
            if len(cache) > CACHE_ENTRIES:
                cache.clear()
        hashers = self._hashers
        make = _make_event  # an Event from a tuple, without NamedTuple's per-call lambda
        events = []
        for at, kind, profile_id, link_id, variant, ip, agent, referer, country in hits:
            seen_agent = agents.get(agent)
            if seen_agent is None:
                seen_agent = agents[agent] = self._agent(agent)
            host = referrers.get(referer)
            if host is None:
                host = referrers[referer] = self._referrer(referer)
            code = countries.get(country)
            if code is None:
                code = countries[country] = visitors.country(_raw(country)[:8].decode("latin-1"))
            first_ip = addresses.get(ip)
            if first_ip is None:
                first_ip = addresses[ip] = _raw(ip).split(b",", 1)[0].strip()[:64] + b"\x00"
            # The hash's input after the address: the user agent and the profile.
            tail = tails.get((agent, profile_id))
            if tail is None:
                tail = tails[agent, profile_id] = seen_agent[0] + b"\x00" + profile_id.encode()
            at_ms = int(at * 1000)
            hasher = hashers.get(at_ms // DAY_MS)
            if hasher is None:
                hasher = self._hasher(at_ms // DAY_MS)
            visitor = hasher.copy()
            visitor.update(first_ip + tail)
            events.append(
                make(
                    (
                        at_ms,
                        kind,
                        profile_id,
                        link_id,
                        visitor.hexdigest(),
                        host,
                        code,
                        seen_agent[1],
                        seen_agent[2],
                        variant,
                    )
                )
            )
        return events

    def _agent(self, value: bytes | str) -> tuple[bytes, str, bool]:
        raw = _raw(value)[:512]
        device, bot = visitors.classify(raw.decode("latin-1"))
        return raw, device, bot

    def _referrer(self, value: bytes | str) -> str:
        host = visitors.referrer_host(_raw(value)[:2048].decode("latin-1"))
        return "" if host in self.own_hosts else host

    def _hasher(self, day_number: int) -> Any:
        salt = self.store.salt(day_of(day_number * DAY_MS))
        if len(self._hashers) > 2:  # today and yesterday are all that arrive
            self._hashers.clear()
        hasher = self._hashers[day_number] = hasher_of(salt)
        return hasher


def hasher_of(salt: bytes) -> Any:
    """The visitor hash of a day, keyed with its salt (copied for each visitor)."""
    return hashlib.blake2b(key=salt[:64], digest_size=8)


def to_events(store: ClickStore, hits: list[Hit], own_hosts: frozenset[str]) -> list[Event]:
    """Classify one batch of hits (a fresh classifier: nothing carried over)."""
    return Classifier(store, own_hosts).events(hits)
