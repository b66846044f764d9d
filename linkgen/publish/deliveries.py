"""The worker's webhook sender: every queued event delivered, signed, retried.

It runs beside the worker's publish loop, on a thread and a database connection
of its own, so a slow or failing receiver never holds up a publish (nor an
edit: events are queued in the edit's transaction and sent from here).

Each delivery is signed as the Standard Webhooks spec says (``webhook-id``,
``webhook-timestamp``, ``webhook-signature``: HMAC-SHA256 over id, timestamp and
body); a receiver that does not answer 2xx is tried again after
``retry_seconds``, doubling with jitter up to ``max_retry_seconds``, until
``give_up_hours`` after the event, when it becomes a dead letter
(``linkgen webhook failed``, ``linkgen webhook retry``). The URL is reached
under the same address rules as every other outgoing request (``fetch.py``).
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from linkgen import fetch
from linkgen.errors import LinkgenError
from linkgen.records import iso, now
from linkgen.site import Site
from linkgen.store.webhooks import Delivery, Webhooks

if TYPE_CHECKING:  # settings read by name: no models loaded
    from linkgen.config import WebhookSettings

log = logging.getLogger(__name__)
HOURLY = "link.clicked.hourly"


def wait_after(attempts: int, settings: WebhookSettings) -> float:
    """Seconds before try ``attempts + 1``: doubling from ``retry_seconds``, with jitter."""
    base = min(settings.max_retry_seconds, settings.retry_seconds * 2.0 ** max(0, attempts - 1))
    return base * random.uniform(0.5, 1.5)


def send(delivery: Delivery, settings: WebhookSettings, allow: Sequence[str]) -> str | None:
    """One try; None when the receiver took it, else what went wrong."""
    from standardwebhooks.webhooks import Webhook

    body = delivery.payload.encode()
    moment = datetime.now(UTC)
    headers = {
        "content-type": "application/json",
        "user-agent": "linkgen-webhooks",
        "webhook-id": delivery.id,
        "webhook-timestamp": str(int(moment.timestamp())),
        "webhook-signature": Webhook(delivery.secret).sign(delivery.id, moment, delivery.payload),
    }
    try:
        status = fetch.post(delivery.url, body, headers, allow=allow, timeout=settings.timeout)
    except LinkgenError as exc:
        return str(exc)
    return None if 200 <= status < 300 else f"the receiver answered {status}"


def deliver_due(site: Site, limit: int = 50) -> int:
    """Try every delivery that is due; how many were tried."""
    settings, hooks = site.config.webhooks, site.webhooks
    due = hooks.due(limit)
    for delivery in due:
        problem = send(delivery, settings, site.config.fetch.allow_networks)
        if problem is None:
            hooks.delivered(delivery.id)
            continue
        retry_at = time.time() + wait_after(delivery.attempts + 1, settings)
        created = datetime.fromisoformat(delivery.created_at.replace("Z", "+00:00"))
        give_up = created + timedelta(hours=settings.give_up_hours)
        if datetime.fromtimestamp(retry_at, UTC) > give_up:
            hooks.failed(delivery.id, problem, None)
            log.warning("webhook %s to %s given up: %s", delivery.id, delivery.url, problem)
        else:
            hooks.failed(delivery.id, problem, retry_at)
    return len(due)


def announce_published(site: Site, marks: Sequence[tuple[str, int, int]]) -> None:
    """``profile.published`` for each profile a publish just put live."""
    hooks = site.webhooks
    for profile_id, version, deleted in marks:
        if deleted or not hooks.wants("profile.published", profile_id):
            continue
        row = site.database.conn.execute(
            "SELECT username FROM profiles WHERE id = ?", (profile_id,)
        ).fetchone()
        if row is None:
            continue
        url = f"{site.config.site.url}/{row[0]}"
        data = {"profile_id": profile_id, "username": row[0], "version": version, "url": url}
        hooks.enqueue("profile.published", profile_id, data)


def announce_hourly_clicks(site: Site) -> int:
    """``link.clicked.hourly`` for each closed hour not yet announced (humans only,
    profiles with a hook that wants it); how many events were queued."""
    hooks: Webhooks = site.webhooks
    current = now().replace(minute=0, second=0, microsecond=0)
    mark = hooks.mark(HOURLY)
    if mark is None:  # the first time: from this hour on, nothing backfilled
        with site.database.writing():
            hooks.set_mark(HOURLY, iso(current))
        return 0
    start = datetime.fromisoformat(mark.replace("Z", "+00:00"))
    queued = 0
    while start < current:
        end = start + timedelta(hours=1)
        with site.database.writing():
            for profile_id, links in _clicks(site, start, end).items():
                if hooks.wants(HOURLY, profile_id):
                    data = {"profile_id": profile_id, "hour": iso(start), "links": links}
                    queued += hooks.enqueue(HOURLY, profile_id, data)
            hooks.set_mark(HOURLY, iso(end))
        start = end
    return queued


def _clicks(site: Site, start: datetime, end: datetime) -> dict[str, list[dict[str, object]]]:
    from linkgen.clicks.db import ClickStore, clicks_path

    path = clicks_path(site.root)
    if not path.exists():
        return {}
    store = ClickStore(path)
    try:
        rows = store.conn.execute(
            "SELECT profile_id, link_id, count(*), count(DISTINCT visitor) FROM events "
            "WHERE kind = 'click' AND bot = 0 AND at_ms >= ? AND at_ms < ? "
            "GROUP BY profile_id, link_id ORDER BY profile_id, link_id",
            (int(start.timestamp() * 1000), int(end.timestamp() * 1000)),
        ).fetchall()
    finally:
        store.close()
    found: dict[str, list[dict[str, object]]] = {}
    for profile_id, link_id, clicks, uniques in rows:
        found.setdefault(profile_id, []).append(
            {"link_id": link_id, "clicks": clicks, "unique_clickers": uniques}
        )
    return found


class Sender(threading.Thread):
    """The sender's loop: due deliveries every ``every`` seconds; the hour's clicks
    and the tidying of old deliveries once a minute. Its site (one connection) is
    opened again each minute, so changed settings are seen."""

    def __init__(self, root: Path, stop: threading.Event, every: float = 0.25) -> None:
        super().__init__(name="webhook-sender", daemon=True)
        self.root, self.stop, self.every = root, stop, every

    def run(self) -> None:
        site: Site | None = None
        turns_left = 0
        while not self.stop.is_set():
            try:
                if site is None or turns_left <= 0:
                    if site is not None:
                        site.close()
                    site, turns_left = Site.open(self.root), round(60 / self.every)
                    announce_hourly_clicks(site)
                    site.webhooks.forget_delivered()
                turns_left -= 1
                while deliver_due(site) and not self.stop.is_set():
                    pass
            except Exception:  # a bad turn is logged; the next one starts afresh
                log.exception("webhook sender")
                if site is not None:
                    site.close()
                site = None
            self.stop.wait(self.every)
        if site is not None:
            site.close()
