"""Assemble the redirector for a site and run it on granian.

granian was measured against uvicorn (httptools + uvloop) on the same
application, in the same run (docs/benchmarks.md, "Redirects"): its HTTP
layer is Rust, so more of the one core a worker has is left to linkgen. The
application is served through RSGI, granian's own interface (one call per
response, headers looked up in Rust): measured about 10 % more requests per
second than the same application through ASGI. The ASGI entry point stays
for any other server.
SIGTERM or SIGINT: it finishes the requests in flight and runs the
application's shutdown, which writes every queued click before it exits.
"""

from __future__ import annotations

import gc
import logging
import os
from pathlib import Path

from linkgen.audience.signups import Outgoing, Signups
from linkgen.audience.store import audience_path
from linkgen.clicks import locks, variants, visitors
from linkgen.clicks.bucket_links import BucketLinkIndex
from linkgen.clicks.db import ClickStore, clicks_path
from linkgen.clicks.link_index import LinkIndex
from linkgen.clicks.metrics import Metrics
from linkgen.clicks.recorder import Recorder, WriterSettings
from linkgen.clicks.redirector import Links, Redirector, RedirectorOptions
from linkgen.config import RedirectorSettings
from linkgen.ops.lifeline import follow_parent
from linkgen.site import DATA_DIR, Site

SITE_ENV = "LINKGEN_SITE"
log = logging.getLogger(__name__)


def create_app(site_root: Path) -> Redirector:
    site = Site.open(site_root)
    try:
        settings = site.config.redirector
        links: Links = (
            _bucket_links(settings)
            if settings.links_from
            else LinkIndex(site.db_path, site.config.site.url)
        )
        clicks_db = clicks_path(site.root)
        ClickStore(clicks_db).close()  # made and migrated before any request needs a salt
        keeper = locks.Keeper(locks.site_key(site.root / DATA_DIR))
        retention = settings.events_retention_days
        own = [site.config.site.url, settings.base_url or ""]
        signups = _signups(site, links, keeper.key) if settings.base_url else None
    finally:
        site.close()
    recorder = Recorder(
        WriterSettings(
            clicks_db,
            retention_days=retention,
            batch_rows=settings.batch_rows,
            own_hosts=frozenset(visitors.referrer_host(url) for url in own if url),
        ),
        capacity=settings.queue_capacity,
        batch_seconds=settings.batch_seconds,
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
    metrics = Metrics(recorder) if metrics_port else None
    hasher = variants.DayHasher(clicks_db)
    return Redirector(links, recorder, options, metrics, keeper, signups, hasher)


def _signups(site: Site, links: Links, key: bytes) -> Signups:
    """The sign-up forms' queue, writer and mailer (docs/audience.md)."""

    def username(profile_id: str) -> str | None:
        names = (f.username for f in links.forms.values() if f.route.profile_id == profile_id)
        return next(names, None)

    settings = site.config.redirector
    assert settings.base_url is not None
    own = None if settings.links_from else (lambda: links.hashes.keys())  # all profiles
    outgoing = Outgoing(site.config.email, settings.base_url, site.config.site.title, username, own)
    return Signups(audience_path(site.root), key, outgoing, capacity=settings.queue_capacity)


def _bucket_links(settings: RedirectorSettings) -> BucketLinkIndex:
    """The links from the bucket's link map: no content database on this machine."""
    import boto3
    from botocore.config import Config as BotoConfig

    assert settings.links_from is not None
    bucket, _, prefix = settings.links_from.removeprefix("s3://").partition("/")
    prefix = prefix.strip("/")
    client = boto3.client(
        "s3",
        endpoint_url=settings.links_endpoint_url,
        region_name=settings.links_region,
        config=BotoConfig(retries={"mode": "standard", "max_attempts": 4}, connect_timeout=5),
    )
    return BucketLinkIndex(
        client, bucket, f"{prefix}/" if prefix else "", settings.links_refresh_seconds
    )


def app_from_env() -> Redirector:
    """The factory each server worker calls: the site comes from $LINKGEN_SITE."""
    # The click writer allocates a few tuples per event: with the default
    # thresholds the collector would run every few hundred requests and now
    # and then walk the whole heap, in the middle of someone's redirect (the
    # p99 fell from ~25 to ~16 ms with this, docs/benchmarks.md). What exists
    # once the links are loaded is frozen out of collections (Redirector).
    gc.set_threshold(50_000, 50, 100)
    follow_parent()  # a worker never serves on after `linkgen redirector` is killed
    return create_app(Path(os.environ[SITE_ENV]))


def serve(site_root: Path, *, host: str, port: int, workers: int) -> None:
    from granian import Granian
    from granian.constants import HTTPModes, Interfaces, Loops
    from granian.log import LogLevels

    os.environ[SITE_ENV] = str(site_root.resolve())
    ClickStore(clicks_path(site_root)).close()  # migrated once, before the workers start
    Granian(
        "linkgen.clicks.server:app_from_env",
        factory=True,
        address=host,
        port=port,
        interface=Interfaces.RSGI,
        workers=workers,
        loop=Loops.uvloop,
        http=HTTPModes.http1,
        websockets=False,
        log_level=LogLevels.warning,
        workers_kill_timeout=30,
    ).serve()
