"""The API's Prometheus metrics, on the editor's registry (``[editor] metrics_port``):
requests and their latency by route and status, refusals for the rate limit, and
webhook deliveries."""

from __future__ import annotations

import time
from typing import Any

from prometheus_client import Counter, Histogram
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
WEBHOOKS = Counter(
    "linkgen_webhook_deliveries",
    "Webhook delivery attempts by outcome: delivered, failed (retried later), dead (given up).",
    ["outcome"],
    registry=REGISTRY,
)
for _outcome in ("delivered", "failed", "dead"):
    WEBHOOKS.labels(_outcome)


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
