"""The incremental build: render only the profiles whose inputs changed.

A page is built from its profile's content hash (kept up to date by the store
on every edit) and its theme's fingerprint (tokens + the templates its page
uses + the site settings + the generator version). SQLite compares both with
what the last build recorded, in one query over narrow rows, so a no-op build
of 100,000 profiles never loads a link or a profile into Python.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from .fsutil import remove, write_if_changed
from .records import PageLink, iso, now
from .render import Renderer
from .site import Site
from .store import BuiltPage, Stale, Store

log = logging.getLogger(__name__)

PARALLEL_THRESHOLD = 300  # below this many pages, forking costs more than it saves
SITE_META_KEY = "site_files"

Progress = Callable[[int, int], None]


@dataclass
class BuildReport:
    total: int
    rendered: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    site_files: list[str] = field(default_factory=list)
    next_change: str | None = None
    seconds: float = 0.0
    jobs: int = 1

    @property
    def unchanged(self) -> int:
        return self.total - len(self.rendered)


def visible_links(links: Sequence[PageLink], at: str) -> tuple[list[PageLink], str | None]:
    """The links on show at ``at`` and the next time that set changes."""
    shown: list[PageLink] = []
    upcoming: str | None = None
    for link in links:
        starts, ends = link.starts_at, link.ends_at
        if starts is not None and starts > at:
            upcoming = starts if upcoming is None or starts < upcoming else upcoming
            continue
        if ends is not None:
            if ends <= at:
                continue
            upcoming = ends if upcoming is None or ends < upcoming else upcoming
        shown.append(link)
    return shown, upcoming


@dataclass
class _Job:
    """What a render worker needs; set before forking so workers inherit it."""

    renderer: Renderer
    db_path: Path
    out: Path
    at: str
    store: Store | None = None

    def render(self, batch: Sequence[Stale]) -> list[BuiltPage]:
        if self.store is None:
            self.store = Store(self.db_path, run_migrations=False)
        wanted = {item.id: item for item in batch}
        renderer = self.renderer
        built = []
        for profile in self.store.page_profiles(list(wanted)):
            links, upcoming = visible_links(profile.links, self.at)
            write_if_changed(self.out / profile.username, renderer.page(profile, links))
            item = wanted[profile.id]
            built.append(
                BuiltPage(
                    profile.id,
                    profile.username,
                    item.content_hash,
                    renderer.theme_fingerprints[renderer.theme_for(item.theme)],
                    upcoming,
                    self.at,
                )
            )
        return built


_job: _Job | None = None


def _render_in_worker(batch: Sequence[Stale]) -> list[BuiltPage]:
    assert _job is not None
    return _job.render(batch)


def build(
    site: Site,
    *,
    full: bool = False,
    jobs: int | None = None,
    at: datetime | None = None,
    progress: Progress | None = None,
) -> BuildReport:
    started = time.perf_counter()
    store = site.store
    renderer = site.renderer()
    out = site.build_dir
    out.mkdir(parents=True, exist_ok=True)
    stamp = iso(at or now())

    todo = store.stale_pages(
        renderer.theme_fingerprints,
        renderer.theme_fingerprints[renderer.default_theme],
        stamp,
        everything=full,
    )
    # Pages deleted from build/ behind our back are rebuilt too.
    present = set(os.listdir(out))
    usernames = store.usernames()
    missing = {name for name in usernames if name not in present}
    if missing:
        queued = {item.username for item in todo}
        todo += [
            item
            for item in store.stale_pages({}, "", stamp, everything=True)
            if item.username in missing and item.username not in queued
        ]
    report = BuildReport(total=len(usernames))

    # Old output of deleted and renamed profiles goes first, so a new owner
    # of a freed username gets a fresh page.
    orphans = store.orphaned_pages()
    stale_names = {name for _, name in orphans}
    stale_names |= {item.previous_username for item in todo if item.previous_username}
    stale_names -= set(usernames)
    for name in sorted(stale_names):
        if remove(out / name):
            report.removed.append(name)

    pages = _render(site, renderer, out, stamp, todo, jobs, progress, report)
    report.rendered = [page.username for page in pages]
    if pages or orphans:
        store.record_builds(pages, [pid for pid, _ in orphans])

    site_fp = renderer.site_files_fingerprint()
    if full or pages or report.removed or store.build_meta(SITE_META_KEY) != site_fp:
        report.site_files = _write_site_files(store, renderer, out)
        store.set_build_meta(SITE_META_KEY, site_fp)
    report.next_change = store.next_scheduled_change()
    report.seconds = time.perf_counter() - started
    log.info(
        "rendered %d, removed %d, unchanged %d in %.2fs",
        len(report.rendered),
        len(report.removed),
        report.unchanged,
        report.seconds,
    )
    return report


def _render(
    site: Site,
    renderer: Renderer,
    out: Path,
    stamp: str,
    todo: list[Stale],
    jobs: int | None,
    progress: Progress | None,
    report: BuildReport,
) -> list[BuiltPage]:
    global _job
    job = _Job(renderer, site.db_path, out, stamp)
    workers = jobs or site.config.build.jobs or os.cpu_count() or 1
    if len(todo) < PARALLEL_THRESHOLD or workers == 1:
        report.jobs = 1
        pages = job.render(todo) if todo else []
        if progress and todo:
            progress(len(todo), len(todo))
        return pages
    report.jobs = workers
    size = max(50, min(1000, len(todo) // (workers * 8)))
    batches = [todo[i : i + size] for i in range(0, len(todo), size)]
    pages = []
    _job = job
    try:
        context = multiprocessing.get_context("fork")
        with context.Pool(workers) as pool:
            for result in pool.imap_unordered(_render_in_worker, batches):
                pages.extend(result)
                if progress:
                    progress(len(pages), len(todo))
    finally:
        _job = None
    return pages


def _write_site_files(store: Store, renderer: Renderer, out: Path) -> list[str]:
    files = {
        "404.html": renderer.not_found(),
        "robots.txt": renderer.robots(),
        renderer.social_card_key: renderer.social_card,
        **renderer.sitemaps(store.sitemap_entries()),
    }
    written = [name for name, data in files.items() if write_if_changed(out / name, data)]
    for path in out.glob("sitemap-*.xml"):
        if path.name not in files:
            remove(path)
            written.append(path.name)
    return written
