"""The API's Prometheus metrics, on the editor's registry (``[editor] metrics_port``):
requests and their latency by route and status, refusals for the rate limit, and
webhook deliveries (read from the database)."""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from prometheus_client import Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from starlette.datastructures import MutableHeaders

from linkgen.editor.metrics import REGISTRY

PREFIX = "/api/v1"  # the routers' paths are given without it

REQUESTS = Counter(
    "linkgen_api_requests",
    "API requests by method, route (its template) and status.",
    ["method", "route", "status"],
    registry=REGISTRY,
)
LATENCY = Histogram(
    "linkgen_api_request_seconds",
    "API request latency by method and route.",
    ["method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
    registry=REGISTRY,
)
RATE_LIMITED = Counter(
    "linkgen_api_rate_limited", "Requests refused with 429 for a spent allowance.",
    registry=REGISTRY,
)  # fmt: skip


class Deliveries:
    """Webhook deliveries as the database has them, read at each scrape (the worker
    sends them, so no counter in this process could know): made, failed tries, dead
    letters and still owed, over the deliveries kept (the last 7 days)."""

    def __init__(self, db_path: Path) -> None:
        self.db_path = db_path

    def collect(self) -> Iterator[GaugeMetricFamily]:
        rows: list[tuple[str, int, int]] = []
        with contextlib.suppress(sqlite3.Error):
            conn = sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True, timeout=1)
            try:
                rows = conn.execute(
                    "SELECT state, count(*), coalesce(sum(attempts), 0) "
                    "FROM webhook_deliveries GROUP BY state"
                ).fetchall()
            finally:
                conn.close()
        by_state = {state: (count, attempts) for state, count, attempts in rows}
        delivered = by_state.get("delivered", (0, 0))
        failed_tries = sum(attempts for _, attempts in by_state.values()) - delivered[0]
        for name, text, value in (
            ("delivered", "Webhook deliveries the receiver took.", delivered[0]),
            ("failed_tries", "Webhook delivery tries that failed (retried later).", failed_tries),
            ("dead_letters", "Webhook deliveries given up on (linkgen webhook failed).",
             by_state.get("failed", (0, 0))[0]),
            ("pending", "Webhook deliveries still owed.", by_state.get("pending", (0, 0))[0]),
        ):  # fmt: skip
            yield GaugeMetricFamily(f"linkgen_webhook_{name}", text, value=value)


def watch_deliveries(db_path: Path) -> None:
    """Put the deliveries on the editor's registry (once per process)."""
    global _WATCHING
    if not _WATCHING:
        REGISTRY.register(Deliveries(db_path))
        _WATCHING = True


_WATCHING = False


class Measured:
    """A plain ASGI middleware timing each API request by its route template (and
    adding the token's allowance headers to the answer)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = [500]
        state = scope.setdefault("state", {})  # shared with every copy of the scope

        async def noted(message: Any) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
                rate = state.get("rate_headers")
                if rate:  # what is left of the token's allowance, on every answer
                    headers = MutableHeaders(scope=message)
                    for name, value in rate.items():
                        headers.setdefault(name, value)
            await send(message)

        try:
            await self.app(scope, receive, noted)
        finally:
            template = getattr(scope.get("route"), "path", None)
            route = f"{PREFIX}{template}" if template else "unmatched"
            method = scope["method"]
            REQUESTS.labels(method, route, str(status[0])).inc()
            LATENCY.labels(method, route).observe(time.perf_counter() - started)
            if status[0] == 429:
                RATE_LIMITED.inc()
