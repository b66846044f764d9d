"""The redirector's links in memory: each link's route with its answers built
once, loaded from the content database and refreshed in the background.

The content database is polled (``PRAGMA data_version``, a few microseconds)
every ``refresh_seconds``; when it changed, only the profiles whose content
hash changed are reloaded, so an edit reaches the redirector within about a
quarter of a second. Beside the links it holds each profile's sign-up form
(``/s/<block id>``), if it has one.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

from linkgen.clicks import locks, smart, variants
from linkgen.store.database import Database
from linkgen.store.routes import LinkRoute, Routes

log = logging.getLogger(__name__)

TEXT = "text/plain; charset=utf-8"


class Answer(NamedTuple):
    """A whole response, built once: for ASGI (bytes headers) and RSGI (str headers)."""

    status: int
    headers: list[tuple[bytes, bytes]]
    text_headers: list[tuple[str, str]]
    body: bytes


def answer(status: int, body: bytes, content_type: str = TEXT, **extra: str) -> Answer:
    text = [
        ("cache-control", "private, no-store"),
        ("content-type", content_type),
        ("content-length", str(len(body))),
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "no-referrer"),
        *extra.items(),
    ]
    raw = [(name.encode(), value.encode()) for name, value in text]
    return Answer(status, raw, text, body)


@dataclass(frozen=True)
class Route:
    url: str
    profile_id: str
    profile_url: str
    enabled: bool
    starts: float | None  # unix time
    ends: float | None
    # A smart link's rules, each with its answer (smart.pick chooses per request).
    rules: tuple[smart.Choice, ...] = ()
    lock: locks.Gate | None = None  # a password or an age asked first
    split: variants.Test | None = None  # an A/B test: a variant per visitor of the day
    # The whole answer, built once per edit rather than once per request:
    # a 302 to the target, and a 302 to the profile page when not live.
    to_target: Answer = field(init=False, repr=False, compare=False)
    to_profile: Answer = field(init=False, repr=False, compare=False)
    always: bool = field(init=False, repr=False, compare=False)  # enabled, no schedule

    def __post_init__(self) -> None:
        for name, url in (("to_target", self.url), ("to_profile", self.profile_url)):
            object.__setattr__(self, name, answer(302, b"", location=url))
        plain = self.enabled and self.starts is None and self.ends is None
        object.__setattr__(self, "always", plain)

    def live(self, now: float) -> bool:
        if not self.enabled:
            return False
        if self.starts is not None and now < self.starts:
            return False
        return self.ends is None or now < self.ends


@dataclass(frozen=True)
class Form:
    """A profile's sign-up block: its form posts to ``/s/<block id>``; ``route``
    holds its schedule, the page it returns to (``url``: the thank-you anchor)."""

    username: str
    route: Route
    thanks: Answer = field(init=False, repr=False, compare=False)  # 303 to the anchor

    def __post_init__(self) -> None:
        object.__setattr__(self, "thanks", answer(303, b"", location=self.route.url))


def epoch(value: str | None) -> float | None:
    if value is None:
        return None
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()


class LinkIndex:
    """link id -> Route, and the profile ids that exist, refreshed from the content db."""

    def __init__(self, db_path: Path, site_url: str, refresh_seconds: float = 0.25) -> None:
        self.db_path = db_path
        self.site_url = site_url.rstrip("/")
        self.refresh_seconds = refresh_seconds
        self.routes: dict[str, Route] = {}
        self.forms: dict[str, Form] = {}  # block id -> a profile's sign-up form
        self.hashes: dict[str, str] = {}  # profile id -> content hash: the profiles that exist
        self._by_profile: dict[str, list[str]] = {}
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._failure: Exception | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Load every link, then keep watching the database in the background."""
        self._thread = threading.Thread(target=self._watch, daemon=True, name="link-index")
        self._thread.start()
        self._ready.wait(60)
        if self._failure is not None:
            raise self._failure

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)

    def _watch(self) -> None:
        try:  # the connection lives and dies on this thread
            database = Database(self.db_path)
            database.conn.execute("PRAGMA query_only = ON")
            seen = database.conn.execute("PRAGMA data_version").fetchone()[0]
            store = Routes(database)
            self._reload(store)
        except Exception as exc:
            self._failure = exc
            self._ready.set()
            return
        self._ready.set()
        try:
            while not self._stop.wait(self.refresh_seconds):
                try:
                    version = database.conn.execute("PRAGMA data_version").fetchone()[0]
                    if version != seen:
                        seen = version
                        self._reload(store)
                except Exception:  # keep serving the last good index
                    log.exception("could not refresh the links; serving the last known ones")
        finally:
            database.close()

    def _reload(self, store: Routes) -> None:
        hashes = store.profile_hashes()
        changed = [pid for pid, digest in hashes.items() if self.hashes.get(pid) != digest]
        gone = [pid for pid in self.hashes if pid not in hashes]
        routes, forms = dict(self.routes), dict(self.forms)
        by_profile = dict(self._by_profile)
        for pid in [*changed, *gone]:
            for link_id in by_profile.pop(pid, []):
                routes.pop(link_id, None)
                forms.pop(link_id, None)
        for route in store.link_routes(changed):
            routes[route.link_id] = self._route(route)
            by_profile.setdefault(route.profile_id, []).append(route.link_id)
        for row in store.signup_forms(changed):
            home = f"{self.site_url}/{row.username}"
            form = Route(f"{home}#signed-up", row.profile_id, home, row.enabled,
                         epoch(row.starts_at), epoch(row.ends_at))  # fmt: skip
            forms[row.link_id] = Form(row.username, form)
            by_profile.setdefault(row.profile_id, []).append(row.link_id)
        # Swapped in whole: a request sees the old index or the new one.
        self.routes, self.forms = routes, forms
        self._by_profile, self.hashes = by_profile, hashes

    def _route(self, route: LinkRoute) -> Route:
        return Route(
            url=route.url,
            profile_id=route.profile_id,
            profile_url=f"{self.site_url}/{route.username}",
            enabled=route.enabled,
            starts=epoch(route.starts_at),
            ends=epoch(route.ends_at),
            rules=choices(json.loads(route.rules)) if route.rules else (),
            lock=locks.gate(json.loads(route.lock)) if route.lock else None,
            split=split_test(route.link_id, route.url, json.loads(route.split))
            if route.split
            else None,
        )


def choices(stored: Sequence[Mapping[str, Any]]) -> tuple[smart.Choice, ...]:
    """A link's rules as stored (checked already), each with its prebuilt answer."""
    return tuple(
        smart.Choice(
            frozenset(rule.get("country", ())),
            frozenset(rule.get("device", ())),
            tuple(f"{tag.lower()}-" for tag in rule.get("language", ())),
            epoch(rule.get("starts_at")),
            epoch(rule.get("ends_at")),
            answer(302, b"", location=rule["url"]),
        )
        for rule in stored
    )


def split_test(link_id: str, url: str, stored: Mapping[str, Any]) -> variants.Test:
    """A link's A/B test as stored (checked already): A is its own ``url``, and so is
    a variant's that tests a title only."""
    weights = (stored["weight"], *(variant["weight"] for variant in stored["variants"]))
    urls = (url, *(variant.get("url") or url for variant in stored["variants"]))
    return variants.Test(
        link_id,
        variants.bounds_of(weights),
        tuple(answer(302, b"", location=target) for target in urls),
    )
