"""Assemble the redirector for a site and run it on uvicorn (httptools + uvloop).

uvicorn was measured against granian on the same application (see
docs/benchmarks.md, "Redirects"); it handles SIGTERM and SIGINT by finishing
the requests in flight and running the application's shutdown, which
writes every queued click before the process exits.
"""

from __future__ import annotations

import logging
import os
import signal
from pathlib import Path

from . import visitors
from .clicks import ClickStore, clicks_path
from .recorder import Recorder
from .redirector import LinkIndex, Redirector, RedirectorOptions
from .redirector_metrics import Metrics
from .site import Site

SITE_ENV = "LINKGEN_SITE"
log = logging.getLogger(__name__)


def create_app(site_root: Path) -> Redirector:
    site = Site.open(site_root)
    try:
        settings = site.config.redirector
        links = LinkIndex(site.db_path, site.config.site.url)
        clicks_db = clicks_path(site.root)
        retention = settings.events_retention_days
        own = [site.config.site.url, settings.base_url or ""]
    finally:
        site.close()
    recorder = Recorder(
        lambda: ClickStore(clicks_db, retention_days=retention),
        capacity=settings.queue_capacity,
        batch_rows=settings.batch_rows,
        batch_seconds=settings.batch_seconds,
        own_hosts=frozenset(visitors.referrer_host(url) for url in own if url),
    )
    ip_header = settings.client_ip_header
    metrics_port = settings.metrics_port if settings.workers == 1 else 0
    if settings.metrics_port and settings.workers > 1:
        log.warning("metrics are served with workers = 1 only; run one process per port")
    options = RedirectorOptions(
        country_header=settings.country_header.lower().encode(),
        client_ip_header=ip_header.lower().encode() if ip_header else None,
        metrics_host=settings.metrics_host,
        metrics_port=metrics_port or None,
    )
    return Redirector(links, recorder, options, Metrics(recorder) if metrics_port else None)


def app_from_env() -> Redirector:
    """The factory each server worker calls: the site comes from $LINKGEN_SITE."""
    return create_app(Path(os.environ[SITE_ENV]))


def serve(site_root: Path, *, host: str, port: int, workers: int) -> None:
    import uvicorn

    os.environ[SITE_ENV] = str(site_root.resolve())
    # uvicorn shuts down gracefully on SIGTERM/SIGINT, then raises the signal
    # again for the handler that was there before it. A handler that does
    # nothing makes that a normal exit (0) once every click is written.
    for stop_signal in (signal.SIGTERM, signal.SIGINT):
        signal.signal(stop_signal, lambda number, frame: None)
    uvicorn.run(
        "linkgen.redirector_server:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        loop="uvloop",
        http="httptools",
        lifespan="on",
        access_log=False,
        log_level="warning",
        server_header=False,
        timeout_graceful_shutdown=10,
    )
