"""Clicks and views recorded off the request path — and out of its process.

A request only appends a hit to a bounded in-memory queue (O(1), never
blocks, never touches SQLite). Every ``batch_seconds`` what is queued is
handed, as one framed pickle, to a writer *process* — from the server's own
event loop with a non-blocking write (no second thread contends with the
requests for the interpreter lock; what the pipe does not take at once waits
for the next turn), or from a sender thread where there is no loop. The
writer classifies each hit (device, bot, referrer host, country, the visitor
hash of the day), drops the IP and user agent, and commits batches of at most ``batch_rows``
with their rollups in one transaction. In its own process the writer never
holds the GIL the event loop needs (measured: it cost the redirector a
quarter of its rate and most of its p99 as a thread, docs/benchmarks.md).

When the queue is full, the database cannot be written or the writer process
died, the redirects go on; the loss is counted, logged and recorded when
possible. ``stop()`` hands over everything queued and waits until it is
written. The writer ignores SIGINT/SIGTERM and ends when its pipe closes, so
a Ctrl+C on the terminal, or the server's worker being killed, still leaves
it to write what it has received.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import fcntl
import logging
import multiprocessing
import os
import pickle
import signal
import sqlite3
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, NamedTuple

from linkgen.clicks.db import ClickStore
from linkgen.clicks.hits import Classifier, Hit

if TYPE_CHECKING:
    from multiprocessing.connection import Connection
    from multiprocessing.process import BaseProcess

log = logging.getLogger(__name__)

COMMIT_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0)
# Shared with the writer process: plain doubles it increments and the server reads.
WRITTEN, LOST, BATCHES, COMMIT_SUM, COMMIT_COUNTS = range(5)
SLOTS = COMMIT_COUNTS + len(COMMIT_BUCKETS) + 1
QUEUE_FULL = "queue full"
# The writer yields the CPU to the server when both want it: a visitor's
# redirect comes before counting it. It still gets every idle moment, and
# what waits meanwhile is bounded by the queue (docs/benchmarks.md, "Redirects").
WRITER_NICENESS = 10
PIPE_BYTES = 1 << 20  # the most a pipe may hold without privileges (pipe-max-size)
WRITER_DIED = "the click writer process had stopped"


class Counters(NamedTuple):
    written: int
    dropped: int  # the queue was full
    lost: int  # the database refused a batch, or the writer process died
    batches: int


@dataclass(frozen=True)
class WriterSettings:
    db_path: Path
    retention_days: int = 90
    batch_rows: int = 5000
    busy_timeout_ms: int = 5000
    own_hosts: frozenset[str] = frozenset()  # the site's own pages are not a referrer


class Recorder:
    def __init__(
        self,
        settings: WriterSettings,
        *,
        capacity: int = 100_000,
        batch_seconds: float = 0.025,
    ) -> None:
        self.settings = settings
        self.capacity = capacity
        self.batch_seconds = batch_seconds
        self.queue: deque[Hit] = deque()
        self._context = multiprocessing.get_context("spawn")
        self._shared = self._context.RawArray("d", SLOTS)
        self._dropped = 0
        self._lost_here = 0  # handed to a writer that had died
        self._unsent_losses: dict[str, int] = {}  # reason -> events, for the losses table
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._timer: asyncio.TimerHandle | None = None
        # Framed batches the pipe has not taken yet: (bytes, hits, losses it carries).
        self._outgoing: deque[tuple[memoryview, int, dict[str, int]]] = deque()
        self._writing = False  # waiting for the pipe to take more (on the loop)
        self._pipe: Connection | None = None
        self._writer: BaseProcess | None = None

    # -- the request path -------------------------------------------------------

    def offer(self, hit: Hit) -> bool:
        """Queue a hit; False (and counted) if the queue is full."""
        queue = self.queue
        if len(queue) >= self.capacity:
            self._dropped += 1
            self._unsent_losses[QUEUE_FULL] = self._unsent_losses.get(QUEUE_FULL, 0) + 1
            return False
        queue.append(hit)
        return True

    @property
    def depth(self) -> int:
        return len(self.queue)

    @property
    def counters(self) -> Counters:
        shared = self._shared
        return Counters(
            written=int(shared[WRITTEN]),
            dropped=self._dropped,
            lost=int(shared[LOST]) + self._lost_here,
            batches=int(shared[BATCHES]),
        )

    def commit_times(self) -> tuple[list[int], float]:
        """Batch commits per COMMIT_BUCKETS bucket (the last: slower), and their sum."""
        counts = self._shared[COMMIT_COUNTS : COMMIT_COUNTS + len(COMMIT_BUCKETS) + 1]
        return [int(count) for count in counts], float(self._shared[COMMIT_SUM])

    # -- handing over to the writer ---------------------------------------------

    def start(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        """Start the writer, and hand hits over every batch_seconds: on the server's
        own event loop when given (no thread contends for the interpreter lock with
        the requests), else from a thread."""
        self._spawn_writer()
        if loop is not None:
            self._loop = loop
            loop.call_soon(self._tick)
            return
        self._thread = threading.Thread(target=self._run, name="click-sender", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Hand over everything queued, then wait for the writer to have written it."""
        self._stopping.set()
        self._wake.set()
        if self._timer is not None:
            self._timer.cancel()
        if self._thread is not None:
            self._thread.join(timeout)
        elif self._loop is not None:
            self._hand_over(blocking=True)
        if self._pipe is not None:
            self._pipe.close()  # the writer reads to the end, writes it and exits
        if self._writer is not None:
            self._writer.join(timeout)

    def _spawn_writer(self) -> None:
        receiving, self._pipe = self._context.Pipe(duplex=False)
        self._writer = self._context.Process(
            target=_write_forever,
            args=(receiving, self.settings, self._shared),
            name="linkgen-click-writer",
            daemon=False,  # it outlives a killed parent long enough to write what it has
        )
        self._writer.start()
        receiving.close()
        with contextlib.suppress(OSError, AttributeError):  # Linux: room for ~a second
            fcntl.fcntl(self._pipe.fileno(), fcntl.F_SETPIPE_SZ, PIPE_BYTES)
        self._outgoing.clear()  # (a dead writer's share was counted as lost)

    def _run(self) -> None:
        # Every batch_seconds from the start of the last hand-over, not
        # batch_seconds after it: at most one window waits in this process.
        next_batch = time.monotonic() + self.batch_seconds
        while True:
            self._wake.wait(max(0.0, next_batch - time.monotonic()))
            self._wake.clear()
            next_batch = time.monotonic() + self.batch_seconds
            stopping = self._stopping.is_set()
            self._hand_over(blocking=True)
            if stopping:
                return

    def _tick(self) -> None:
        if self._stopping.is_set():
            return
        assert self._loop is not None
        self._timer = self._loop.call_later(self.batch_seconds, self._tick)
        self._hand_over(blocking=False)

    def _hand_over(self, *, blocking: bool) -> None:
        """Frame what is queued for the writer and write what the pipe takes now
        (all of it when ``blocking``); what it does not take waits, bounded."""
        queue = self.queue
        hits = list(queue)
        queue.clear()
        waiting = len(hits) + sum(count for _, count, _ in self._outgoing)
        while waiting > self.capacity and len(self._outgoing) > 1:  # the writer is stuck
            # The oldest unsent batch goes; the first may be half written already.
            _, count, carried = self._outgoing[1]
            del self._outgoing[1]
            waiting -= count
            self._dropped += count
            for reason, events in [*carried.items(), (QUEUE_FULL, count)]:
                self._unsent_losses[reason] = self._unsent_losses.get(reason, 0) + events
        losses, self._unsent_losses = self._unsent_losses, {}
        if hits or losses:
            body = pickle.dumps((hits, losses), protocol=pickle.HIGHEST_PROTOCOL)
            frame = memoryview(len(body).to_bytes(8, "big") + body)
            self._outgoing.append((frame, len(hits), losses))
        assert self._pipe is not None
        fd = self._pipe.fileno()
        try:
            os.set_blocking(fd, blocking)
            while self._outgoing:
                frame, count, carried = self._outgoing[0]
                written = os.write(fd, frame)
                if written < len(frame):
                    self._outgoing[0] = (frame[written:], count, carried)
                    if not blocking:
                        self._wait_writable(fd)
                        return
                    continue
                self._outgoing.popleft()
        except BlockingIOError:
            self._wait_writable(fd)
            return
        except OSError as exc:  # the writer process is gone: count, start another, tell it
            gone = sum(count for _, count, _ in self._outgoing)
            self._lost_here += gone
            log.error("lost %d events: the click writer had stopped (%s)", gone, exc)
            unsent = [item for _, _, carried in self._outgoing for item in carried.items()]
            for reason, events in [*unsent, (WRITER_DIED, gone)]:
                self._unsent_losses[reason] = self._unsent_losses.get(reason, 0) + events
            if self._writing and self._loop is not None:
                self._loop.remove_writer(fd)
                self._writing = False
            self._pipe.close()
            self._spawn_writer()

    def _wait_writable(self, fd: int) -> None:
        """Go on as soon as the pipe takes more, not only at the next turn."""
        if self._loop is None or self._writing:
            return
        self._writing = True

        def writable() -> None:
            assert self._loop is not None
            self._loop.remove_writer(fd)
            self._writing = False
            if not self._stopping.is_set():
                self._hand_over(blocking=False)

        self._loop.add_writer(fd, writable)

    @property
    def writer_pid(self) -> int | None:
        return self._writer.pid if self._writer is not None else None


# -- the writer process -----------------------------------------------------------


def _write_forever(pipe: Connection, settings: WriterSettings, shared: list[float]) -> None:
    """Write what arrives until the pipe closes (the server stopped, or died)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the server stops first, then the pipe
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    with contextlib.suppress(OSError):
        os.nice(WRITER_NICENESS)
    store = ClickStore(
        settings.db_path,
        retention_days=settings.retention_days,
        busy_timeout_ms=settings.busy_timeout_ms,
    )
    classifier = Classifier(store, settings.own_hosts)
    stream = os.fdopen(os.dup(pipe.fileno()), "rb")
    pipe.close()
    try:
        while True:
            message = _next_batch(stream)
            if message is None:
                return
            hits, losses = message
            for first in range(0, len(hits), settings.batch_rows):
                _write_batch(classifier, hits[first : first + settings.batch_rows], shared)
            for reason, events in losses.items():
                _record_loss(store, events, reason)
    finally:
        stream.close()
        store.close()


def _next_batch(stream: BinaryIO) -> tuple[list[Hit], dict[str, int]] | None:
    """One framed batch (an 8-byte length, then the pickle); None at the end."""
    try:
        head = stream.read(8)
        if len(head) < 8:
            return None
        body = stream.read(int.from_bytes(head, "big"))
    except OSError:
        return None
    if len(body) < int.from_bytes(head, "big"):
        return None  # cut off: the server died mid-write
    batch: tuple[list[Hit], dict[str, int]] = pickle.loads(body)  # from our own server
    return batch


def _write_batch(classifier: Classifier, hits: list[Hit], shared: list[float]) -> None:
    store = classifier.store
    started = time.perf_counter()
    try:
        store.write(classifier.events(hits))
    except (sqlite3.Error, OSError) as exc:
        shared[LOST] += len(hits)
        _record_loss(store, len(hits), f"write failed: {exc}")
        return
    seconds = time.perf_counter() - started
    shared[WRITTEN] += len(hits)
    shared[BATCHES] += 1
    shared[COMMIT_SUM] += seconds
    shared[COMMIT_COUNTS + bisect.bisect_left(COMMIT_BUCKETS, seconds)] += 1


def _record_loss(store: ClickStore, events: int, reason: str) -> None:
    log.error("lost %d events: %s", events, reason)
    with contextlib.suppress(sqlite3.Error, OSError):
        store.record_loss(int(time.time() * 1000), events, reason)
