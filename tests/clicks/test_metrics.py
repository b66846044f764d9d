"""The redirector's Prometheus metrics, scraped from their own listener."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from linkgen.clicks.hits import Hit
from linkgen.clicks.metrics import LATENCY_BUCKETS, Metrics
from linkgen.clicks.recorder import Recorder, WriterSettings
from tests.support.servers import free_port


@pytest.fixture
def recorder(tmp_path: Path) -> Iterator[Recorder]:
    started = Recorder(WriterSettings(tmp_path / "clicks.db"), capacity=3, batch_seconds=0.02)
    started.start()
    yield started
    started.stop()


def scrape(port: int) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    """name -> {labels: value} of every sample the listener serves."""
    text = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    samples: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            key = tuple(sorted(sample.labels.items()))
            samples.setdefault(sample.name, {})[key] = sample.value
    return samples


def hit(n: int) -> Hit:
    return (time.time(), "click", "p1", f"l{n}", "", "192.0.2.1", "Mozilla/5.0", "", "DE")


def test_requests_latency_and_the_click_queue_are_exposed(recorder: Recorder) -> None:
    metrics = Metrics(recorder)
    port = free_port()
    metrics.serve("127.0.0.1", port)
    metrics.answered(302, 0.0002)
    metrics.answered(302, 0.003)
    metrics.answered(302, 5.0)  # slower than every bucket
    metrics.answered(404)  # counted, without a latency
    for n in range(5):  # capacity 3: some are dropped when the writer is slower
        recorder.offer(hit(n))
    deadline = time.monotonic() + 10
    while recorder.counters.written + recorder.counters.dropped < 5:
        assert time.monotonic() < deadline, recorder.counters
        time.sleep(0.02)
    got = scrape(port)
    assert got["linkgen_redirector_requests_total"] == {
        (("status", "302"),): 3.0,
        (("status", "404"),): 1.0,
    }
    buckets = got["linkgen_redirect_seconds_bucket"]
    assert buckets[(("le", "0.00025"),)] == 1.0  # cumulative: 0.0002 fits here
    assert buckets[(("le", "0.0025"),)] == 1.0
    assert buckets[(("le", "0.005"),)] == 2.0
    assert buckets[(("le", str(LATENCY_BUCKETS[-1])),)] == 2.0
    assert buckets[(("le", "+Inf"),)] == 3.0
    assert got["linkgen_redirect_seconds_count"][()] == 3.0
    assert got["linkgen_redirect_seconds_sum"][()] == pytest.approx(5.0032)
    written = got["linkgen_click_events_written_total"][()]
    dropped = got["linkgen_click_events_dropped_total"][()]
    assert written + dropped == 5 and written >= 3
    assert got["linkgen_click_events_lost_total"][()] == 0
    assert got["linkgen_click_queue_depth"][()] == 0
    commits = got["linkgen_click_batch_commit_seconds_count"][()]
    assert commits >= 1 and got["linkgen_click_batch_commit_seconds_sum"][()] > 0


def test_the_metrics_listen_on_the_address_they_are_given(recorder: Recorder) -> None:
    metrics = Metrics(recorder)
    port = free_port()
    metrics.serve("127.0.0.1", port)
    assert requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).status_code == 200
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.2:{port}/metrics", timeout=2)
