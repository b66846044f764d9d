"""Prometheus metrics of the redirector, on their own listener (127.0.0.1 by default).

A separate address keeps ``/metrics`` off the public port: behind a CDN or a
proxy on the same machine every request looks local, so "answer only local
clients" would not be safe. Exposed: requests by status, the time the
application takes to answer a redirect, the recorder's queue depth, events
written, dropped (queue full) and lost (database refused), and the time a
batch commit takes.
"""

from __future__ import annotations

import bisect
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector

from linkgen.clicks.recorder import COMMIT_BUCKETS

if TYPE_CHECKING:
    from collections.abc import Iterator

    from prometheus_client.metrics_core import Metric

    from linkgen.clicks.recorder import Recorder

LATENCY_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1)


class RecorderCollector(Collector):
    """Reads the recorder's counters when scraped (nothing on the request path)."""

    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder

    def collect(self) -> Iterator[Metric]:
        counters = self.recorder.counters
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
        counts, total = self.recorder.commit_times()
        yield _histogram(
            "linkgen_click_batch_commit_seconds",
            "Time to commit one batch of events with its rollups.",
            COMMIT_BUCKETS,
            counts,
            total,
        )


class Metrics:
    """Counted on the request path with plain integers (no locks: the event loop is one
    thread); turned into Prometheus families only when scraped."""

    def __init__(self, recorder: Recorder) -> None:
        self.statuses: dict[int, int] = {}
        self.bucket_counts = [0] * (len(LATENCY_BUCKETS) + 1)
        self.latency_sum = 0.0
        self.registry = CollectorRegistry()
        self.registry.register(RecorderCollector(recorder))
        self.registry.register(_RequestCollector(self))

    def answered(self, status: int, seconds: float | None = None) -> None:
        self.statuses[status] = self.statuses.get(status, 0) + 1
        if seconds is not None:
            self.bucket_counts[bisect.bisect_left(LATENCY_BUCKETS, seconds)] += 1
            self.latency_sum += seconds

    def serve(self, host: str, port: int) -> None:
        start_http_server(port, addr=host, registry=self.registry)


class _RequestCollector(Collector):
    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    def collect(self) -> Iterator[Metric]:
        requests = CounterMetricFamily(
            "linkgen_redirector_requests", "Requests answered, by status.", labels=["status"]
        )
        for status, count in sorted(self.metrics.statuses.items()):
            requests.add_metric([str(status)], count)
        yield requests
        yield _histogram(
            "linkgen_redirect_seconds",
            "Time the application takes to answer a redirect.",
            LATENCY_BUCKETS,
            self.metrics.bucket_counts,
            self.metrics.latency_sum,
        )


def _histogram(
    name: str, doc: str, bounds: tuple[float, ...], counts: list[int], total: float
) -> HistogramMetricFamily:
    """A histogram family from per-bucket counts (the last one: above every bound)."""
    cumulative, buckets = 0, []
    for bound, count in zip([*map(str, bounds), "+Inf"], counts, strict=True):
        cumulative += count
        buckets.append((bound, cumulative))
    family = HistogramMetricFamily(name, doc)
    family.add_metric([], buckets, total)
    return family
