"""Clicks and views recorded off the request path.

A request only appends a hit to a bounded in-memory queue (O(1), never
blocks, never touches SQLite). One writer thread takes the queue in batches
— every ``batch_seconds`` or as soon as ``batch_rows`` wait — classifies
each hit (device, bot, referrer host, country, the visitor hash of the day),
drops the IP and user agent, and commits the batch with its rollups in one
transaction. When the queue is full or the database cannot be written, the
redirects go on; the loss is counted, logged and recorded when possible.
``stop()`` drains everything queued before it returns.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

from . import visitors
from .clicks import ClickStore, Event, day_of

log = logging.getLogger(__name__)


class Hit(NamedTuple):
    """What a request leaves in the queue; the IP and user agent never reach the disk."""

    at: float
    kind: str  # "click" | "view"
    profile_id: str
    link_id: str
    ip: str
    user_agent: str
    referrer: str
    country: str


@dataclass
class Counters:
    written: int = 0
    dropped: int = 0  # the queue was full
    lost: int = 0  # the database refused a batch
    batches: int = 0
    commit_seconds: list[float] = field(default_factory=list)  # since last read


class Recorder:
    def __init__(
        self,
        open_store: Callable[[], ClickStore],
        *,
        capacity: int = 100_000,
        batch_rows: int = 5000,
        batch_seconds: float = 0.1,
        own_hosts: frozenset[str] = frozenset(),
    ) -> None:
        self.open_store = open_store
        self.own_hosts = own_hosts  # the site's own pages are not a referrer
        self.capacity = capacity
        self.batch_rows = batch_rows
        self.batch_seconds = batch_seconds
        self.queue: deque[Hit] = deque()
        self.counters = Counters()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._unrecorded_drops = 0

    # -- the request path -------------------------------------------------------

    def offer(self, hit: Hit) -> bool:
        """Queue a hit; False (and counted) if the queue is full."""
        queue = self.queue
        if len(queue) >= self.capacity:
            self.counters.dropped += 1
            self._unrecorded_drops += 1
            return False
        queue.append(hit)
        if len(queue) == self.batch_rows:
            self._wake.set()
        return True

    @property
    def depth(self) -> int:
        return len(self.queue)

    # -- the writer -------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="click-writer", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Write everything queued, then end the writer."""
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        store = self.open_store()
        try:
            while True:
                self._wake.wait(self.batch_seconds)
                self._wake.clear()
                stopping = self._stopping.is_set()
                while self.queue:
                    self._write_batch(store)
                    if not stopping and len(self.queue) < self.batch_rows:
                        break  # the rest waits for the next tick
                self._record_drops(store)
                if stopping and not self.queue:
                    return
        finally:
            store.close()

    def _write_batch(self, store: ClickStore) -> None:
        hits: list[Hit] = []
        queue = self.queue
        while queue and len(hits) < self.batch_rows:
            hits.append(queue.popleft())
        started = time.perf_counter()
        try:
            store.write([_event(store, hit, self.own_hosts) for hit in hits])
        except (sqlite3.Error, OSError) as exc:
            self.counters.lost += len(hits)
            log.error("lost %d events: clicks.db refused the batch: %s", len(hits), exc)
            with contextlib.suppress(sqlite3.Error, OSError):
                store.record_loss(int(time.time() * 1000), len(hits), f"write failed: {exc}")
            return
        self.counters.written += len(hits)
        self.counters.batches += 1
        self.counters.commit_seconds.append(time.perf_counter() - started)

    def _record_drops(self, store: ClickStore) -> None:
        drops, self._unrecorded_drops = self._unrecorded_drops, 0
        if not drops:
            return
        log.error("lost %d events: the queue was full", drops)
        try:
            store.record_loss(int(time.time() * 1000), drops, "queue full")
        except (sqlite3.Error, OSError):
            self._unrecorded_drops += drops


def _event(store: ClickStore, hit: Hit, own_hosts: frozenset[str]) -> Event:
    at_ms = int(hit.at * 1000)
    referrer = visitors.referrer_host(hit.referrer)
    device, bot = visitors.classify(hit.user_agent)
    salt = store.salt(day_of(at_ms))
    return Event(
        at_ms=at_ms,
        kind=hit.kind,
        profile_id=hit.profile_id,
        link_id=hit.link_id,
        visitor=visitors.visitor_hash(salt, hit.ip, hit.user_agent, hit.profile_id),
        referrer_host="" if referrer in own_hosts else referrer,
        country=visitors.country(hit.country),
        device=device,
        bot=bot,
    )
