"""Prometheus metrics of the redirector, on their own listener (127.0.0.1 by default).

A separate address keeps ``/metrics`` off the public port: behind a CDN or a
proxy on the same machine every request looks local, so "answer only local
clients" would not be safe. Exposed: requests by status, the time the
application takes to answer a redirect, the recorder's queue depth, events
written, dropped (queue full) and lost (database refused), and the time a
batch commit takes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from collections.abc import Iterator

    from prometheus_client.metrics_core import Metric

    from .recorder import Recorder

LATENCY_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1)


class RecorderCollector(Collector):
    """Reads the recorder's counters when scraped (nothing on the request path)."""

    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder
        self.commit = Histogram(
            "linkgen_click_batch_commit_seconds",
            "Time to commit one batch of events with its rollups.",
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0),
            registry=None,
        )

    def collect(self) -> Iterator[Metric]:
        counters = self.recorder.counters
        pending, counters.commit_seconds = counters.commit_seconds, []
        for seconds in pending:
            self.commit.observe(seconds)
        depth = GaugeMetricFamily("linkgen_click_queue_depth", "Events waiting to be written.")
        depth.add_metric([], self.recorder.depth)
        yield depth
        for name, value, doc in (
            ("written", counters.written, "Events written to clicks.db."),
            ("dropped", counters.dropped, "Events dropped because the queue was full."),
            ("lost", counters.lost, "Events lost because clicks.db refused the batch."),
        ):
            family = CounterMetricFamily(f"linkgen_click_events_{name}", doc)
            family.add_metric([], value)
            yield family
        yield from self.commit.collect()


class Metrics:
    def __init__(self, recorder: Recorder) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "linkgen_redirector_requests",
            "Requests answered, by status.",
            ["status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "linkgen_redirect_seconds",
            "Time the application takes to answer a redirect.",
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.registry.register(RecorderCollector(recorder))
        self._by_status = {code: self.requests.labels(str(code)) for code in (200, 302, 404, 405)}

    def answered(self, status: int) -> None:
        counter = self._by_status.get(status)
        if counter is None:
            counter = self._by_status[status] = self.requests.labels(str(status))
        counter.inc()

    def serve(self, host: str, port: int) -> None:
        start_http_server(port, addr=host, registry=self.registry)
