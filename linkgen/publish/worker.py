"""``linkgen worker``: publish edits as they happen, from the outbox.

One worker per site (an exclusive lock the kernel drops if the process dies,
so it is safe to kill and restart). It waits for outbox rows, lets a burst of
edits settle, then builds and publishes; only rows that did not change in
the meantime are cleared, so no edit is ever forgotten. It also keeps time: a
page whose link starts or ends is rebuilt and published at that moment, with
no edit and no cron. Failures back off exponentially (up to a minute) and are
retried.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from linkgen.build import build
from linkgen.errors import LinkgenError
from linkgen.publish import deliveries
from linkgen.publish.purge import Purger, open_purger, purge_unit
from linkgen.publish.run import PublishReport, publish
from linkgen.publish.targets import Target, open_target
from linkgen.records import iso, now
from linkgen.site import DATA_DIR, Site
from linkgen.store.doorbell import Doorbell

log = logging.getLogger(__name__)

LOCK_FILE = "worker.lock"
MAX_BACKOFF = 60.0
# An edit rings the doorbell (store/doorbell.py); the outbox is still looked at this
# often in case a ring is lost, and a scheduled link's moment is waited for exactly.
LOOK_EVERY = 1.0
SETTLE = 0.005  # after a ring, for the rest of a burst of edits to land in one publish


@dataclass
class Cycle:
    edits: int
    report: PublishReport
    seconds: float
    refused: dict[str, str] = field(default_factory=dict)  # pages not built, and why
    queued_at: list[str] = field(default_factory=list)  # when the published edits were saved


@contextmanager
def worker_lock(root: Path) -> Iterator[None]:
    path = root / DATA_DIR / LOCK_FILE
    handle = open(path, "a+")  # noqa: SIM115 - held for the worker's whole life
    try:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "?"
            raise LinkgenError(
                f"another worker is running for this site (pid {holder}); one worker per site"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        yield
    finally:
        handle.close()


def running(root: Path) -> bool:
    """Whether a worker holds this site's lock right now (from the kernel's list of
    file locks, so a lock file left by a dead worker does not count)."""
    try:
        found = os.stat(root / DATA_DIR / LOCK_FILE)
        held = Path("/proc/locks").read_text()
    except OSError:
        return False
    where = f"{os.major(found.st_dev):02x}:{os.minor(found.st_dev):02x}:{found.st_ino}"
    return any(
        line.split()[1:2] == ["FLOCK"] and where in line.split() for line in held.splitlines()
    )


def run(
    root: Path,
    *,
    stop: threading.Event,
    once: bool = False,
    poll: float = LOOK_EVERY,
    settle: float = SETTLE,
    on_cycle: Callable[[Cycle], None] | None = None,
    on_error: Callable[[LinkgenError], None] | None = None,
    heartbeat: Callable[[], None] | None = None,
) -> bool:
    """Publish waiting edits until ``stop`` is set (``heartbeat`` is called on every
    turn of the loop: the worker's health).

    With ``once``: until nothing waits, or a cycle fails; returns whether
    everything waiting was published.
    """
    with worker_lock(root):
        backoff = 0.0
        links = _Links()
        if not once:  # webhooks go out beside the publishing, never in its way
            deliveries.Sender(root, stop).start()
        bell = Doorbell(root / DATA_DIR)
        try:
            while not stop.is_set():
                if heartbeat:
                    heartbeat()
                ok = _cycle(root, links, stop, settle, on_cycle, on_error)
                if ok is None:  # nothing waiting: until an edit rings, a link's time, or a look
                    if once:
                        return True
                    look = poll if bell.listening else min(poll, 0.1)  # no bell: look often
                    _wait(bell, stop, min(look, _until(links.next_change)))
                    continue
                if ok:
                    backoff = 0.0
                    continue
                if once:
                    return False
                backoff = min(MAX_BACKOFF, max(1.0, backoff * 2))
                stop.wait(backoff)
            return True
        finally:
            bell.close()


def _wait(bell: Doorbell, stop: threading.Event, seconds: float) -> None:
    """Until the doorbell rings, ``seconds`` pass or ``stop`` is set (seen within 0.1 s)."""
    ends = time.monotonic() + seconds
    while not stop.is_set():
        left = ends - time.monotonic()
        if left <= 0 or bell.wait(min(left, 0.1)):
            return


def _until(moment: str | None) -> float:
    """Seconds until ``moment`` (ISO UTC), 0 if it is past; a day if there is none."""
    if moment is None:
        return 86_400.0
    from datetime import UTC, datetime

    due = datetime.fromisoformat(moment.replace("Z", "+00:00"))
    # The clock to the microsecond: records.now() drops them, and waking by it
    # came up to a second late (what part of the second had already passed).
    return max(0.0, (due - datetime.now(UTC)).total_seconds())


class _Links:
    """The target and purger, kept across cycles (one boto3 client, warm connections)
    for as long as their settings stay the same."""

    def __init__(self) -> None:
        self.settings: object = None
        self.target: Target | None = None
        self.purger: Purger | None = None
        self.next_change: str | None = None  # when a link next starts or ends

    def get(self, site: Site) -> tuple[Target, Purger]:
        settings = (site.config.publish, site.config.cdn, site.config.site.url, site.root)
        if self.target is None or self.purger is None or settings != self.settings:
            self.target = open_target(site.config.publish, site.root)
            self.purger = open_purger(site.config.cdn, site.config.site.url)
            self.settings = settings
        return self.target, self.purger


def _cycle(
    root: Path,
    links: _Links,
    stop: threading.Event,
    settle: float,
    on_cycle: Callable[[Cycle], None] | None,
    on_error: Callable[[LinkgenError], None] | None,
) -> bool | None:
    """One build + publish of what waits; None if nothing does."""
    site = Site.open(root)
    try:
        unit = purge_unit(site.config.cdn)
        boundary = links.next_change = site.builds.next_scheduled_change()
        due = boundary is not None and boundary <= iso(now())  # a link starts or ends
        if not due and not site.outbox.marks() and not site.manifest.pending_purges(unit):
            return None
        if not due:
            stop.wait(settle)  # let a burst of edits land in one publish
        marks = site.outbox.marks()
        queued = site.outbox.queued_at()
        started = time.perf_counter()
        built = build(site)
        target, purger = links.get(site)
        report = publish(site, target=target, purger=purger)
        if report.ok:
            site.outbox.done(marks)
            deliveries.announce_published(site, marks)
        if on_cycle:
            seconds = time.perf_counter() - started
            on_cycle(Cycle(len(marks), report, seconds, built.failed, queued))
        return report.ok
    except LinkgenError as exc:
        if on_error:
            on_error(exc)
        else:
            log.error("%s", exc)
        return False
    finally:
        site.close()
