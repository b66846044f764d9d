"""The worker's health and Prometheus metrics, on their own listener
(``linkgen worker --metrics-port``, 127.0.0.1 by default).

``/healthz`` answers 200 while the worker's loop turns (503 once it has not
for 30 s: stuck in a publish that does not end). ``/metrics``: edits waiting
and the age of the oldest, purges owed to the CDN (failed, retried by every
publish), publishes and failed publishes, how long a publish takes, and how
long an edit took from being saved to being live.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from linkgen.publish.purge import purge_unit
from linkgen.site import Site

STUCK = 30.0  # seconds without a turn of the loop: unhealthy
PUBLISH_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
LIVE_BUCKETS = (0.5, 1, 2, 5, 10, 30, 60, 300, 1800)


class _Store(Collector):
    """What waits, read from the database when scraped."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def collect(self) -> Iterator[Metric]:
        site = Site.open(self.root)
        try:
            depth, oldest = site.outbox.depth()
            owed = len(site.manifest.pending_purges(purge_unit(site.config.cdn)))
        finally:
            site.close()
        waiting = GaugeMetricFamily("linkgen_outbox_depth", "Edited profiles not yet published.")
        waiting.add_metric([], depth)
        yield waiting
        age = GaugeMetricFamily(
            "linkgen_outbox_oldest_age_seconds", "Age of the oldest unpublished edit (0: none)."
        )
        age.add_metric([], _age(oldest) if oldest else 0.0)
        yield age
        purges = GaugeMetricFamily(
            "linkgen_purge_queue_depth", "Purges that failed and wait to be sent again."
        )
        purges.add_metric([], owed)
        yield purges


def _age(stamp: str) -> float:
    then = dt.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
    return max(0.0, (dt.datetime.now(dt.UTC) - then).total_seconds())


class WorkerMetrics:
    def __init__(self, root: Path) -> None:
        self.registry = CollectorRegistry()
        self.registry.register(_Store(root))
        self.publishes = Counter(
            "linkgen_worker_publishes", "Publishes the worker ran.", registry=self.registry
        )
        self.failures = Counter(
            "linkgen_worker_publish_failures",
            "Publishes that did not fully succeed (retried with backoff).",
            registry=self.registry,
        )
        self.publish_seconds = Histogram(
            "linkgen_worker_publish_seconds",
            "Build and publish time of one cycle.",
            buckets=PUBLISH_BUCKETS,
            registry=self.registry,
        )
        self.edit_to_live = Histogram(
            "linkgen_edit_to_live_seconds",
            "From an edit being saved to its page being published and purged.",
            buckets=LIVE_BUCKETS,
            registry=self.registry,
        )
        self.last_turn = time.monotonic()

    def beat(self) -> None:
        self.last_turn = time.monotonic()

    def healthy(self) -> bool:
        return time.monotonic() - self.last_turn < STUCK

    def cycle(self, ok: bool, seconds: float, queued_at: list[str]) -> None:
        self.publishes.inc()
        self.publish_seconds.observe(seconds)
        if not ok:
            self.failures.inc()
            return
        for stamp in queued_at:
            self.edit_to_live.observe(_age(stamp))

    def serve(self, host: str, port: int) -> ThreadingHTTPServer:
        """Listen on ``host:port`` in a thread; returns the server (its port is real)."""
        metrics = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path == "/healthz":
                    well = metrics.healthy()
                    self._answer(
                        200 if well else 503, b"ok\n" if well else b"stuck\n", "text/plain"
                    )
                elif self.path == "/metrics":
                    body = generate_latest(metrics.registry)
                    self._answer(200, body, "text/plain; version=0.0.4; charset=utf-8")
                else:
                    self._answer(404, b"not found\n", "text/plain")

            def _answer(self, status: int, body: bytes, kind: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer((host, port), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, name="worker-metrics", daemon=True).start()
        return server
