"""The incremental build: render only the profiles whose inputs changed.

A page is built from its profile's content hash (kept up to date by the store
on every edit) and its theme's fingerprint (tokens + the templates its page
uses + the site settings + the generator version). SQLite compares both with
what the last build recorded, in one query over narrow rows, so a no-op build
of 100,000 profiles never loads a link or a profile into Python.
"""

from __future__ import annotations

import gc
import json
import logging
import multiprocessing
import os
import secrets
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from linkgen.clicks import smart
from linkgen.fsutil import remove, write_file, write_if_changed, write_new
from linkgen.pages import embed_art, extras, media, redirects, sitemap, templating
from linkgen.pages.render import Renderer
from linkgen.records import LINK_KINDS, PageLink, PageProfile, iso, now
from linkgen.site import Site
from linkgen.store import journal
from linkgen.store.build_state import BuildState, BuiltPage, Stale
from linkgen.store.database import Database

log = logging.getLogger(__name__)

PARALLEL_THRESHOLD = 300  # below this many pages, forking costs more than it saves
SITE_META_KEY = "site_files"
SITEMAP_PENDING_KEY = "sitemap_pending"
FINGERPRINTS_KEY = "fingerprints_built"
OUTPUT_TOKEN_KEY = "output_token"
MARKER = ".linkgen-build"  # ties build/ to this database; not published
RUNNING_KEY = "build_running"  # "1" from a build's start to its end
HOME_KEY = "home_made_from"  # what index.html was last drawn from

Progress = Callable[[int, int], None]


@dataclass
class BuildReport:
    total: int
    rendered: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    site_files: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # username -> why its page was not made
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
    existing: set[str] | None = None  # names in build/, when known; None = check each
    builds: BuildState | None = None

    def render(self, batch: Sequence[Stale]) -> tuple[list[BuiltPage], list[str]]:
        """The pages of ``batch`` written, and every name of build/ written or removed."""
        if self.builds is None:
            self.builds = BuildState(Database(self.db_path, run_migrations=False))
        wanted = {item.id: item for item in batch}
        renderer = self.renderer
        existing = self.existing
        built = []
        touched: list[str] = []
        hidden = self.builds.disabled_links(list(wanted)) if renderer.edge_links else {}
        for profile in self.builds.page_profiles(list(wanted)):
            links, upcoming = visible_links(profile.links, self.at)
            test = extras.title_test(links)
            if test is None:
                rendered = renderer.profile_page(profile, links)
            else:  # the page itself is variant a of its title test
                variant = extras.page_variant(links, test[0].id, "a", test[0].title)
                rendered = renderer.profile_page(profile, variant, label="a")
            page = rendered.html
            if renderer.edge_links:
                home = renderer.profile_url(profile.username, profile.domain)
                shown = {link.id for link in links}
                targets = {
                    link.id: _target(renderer, profile, link) if link.id in shown else home
                    for link in profile.links
                    if link.kind in LINK_KINDS
                }
                targets.update(dict.fromkeys(hidden.get(profile.id, ()), home))
                touched += redirects.write(self.out, profile.id, targets)
            touched += extras.write(self.out, renderer, profile, rendered, existing)
            touched += extras.write_title_test(self.out, renderer, profile, links, test, existing)
            touched.append(profile.username)
            renderer.ensure_qr(profile.username, profile.domain)
            if existing is None or profile.username in existing:
                write_if_changed(self.out / profile.username, page)
            else:
                write_new(f"{self.out}/{profile.username}", page)
            item = wanted[profile.id]
            built.append(
                BuiltPage(
                    profile.id,
                    profile.username,
                    item.content_hash,
                    renderer.theme_fingerprint(item.theme),
                    upcoming,
                    self.at,
                    sitemap.part_of(item.rowid),
                )
            )
        return built, touched


def _target(renderer: Renderer, profile: PageProfile, link: PageLink) -> str:
    """Where the edge sends a visitor of ``link``: its URL with its UTM tags; a
    locked one to the redirector, which asks first (else to the profile page)."""
    if link.locked:
        base = renderer.smart_base
        return f"{base}/r/{link.id}" if base else renderer.profile_url(profile.username)
    if profile.utm is None and link.utm is None:
        return link.url
    return smart.target(link.url, smart.utm_tags(profile.utm, link.utm, link.title), None)[0]


_job: _Job | None = None


def _start_worker() -> None:
    # Rendering makes no reference cycles worth collecting; the collector
    # would only walk the inherited heap and un-share its pages.
    gc.disable()


def _render_in_worker(batch: Sequence[Stale]) -> tuple[list[BuiltPage], list[str]]:
    assert _job is not None
    return _job.render(batch)


@dataclass
class _Plan:
    """What a build has to do, decided before anything is rendered."""

    intact: bool  # build/ is the one this database last built, and no --full
    todo: list[Stale]
    orphans: list[tuple[str, str, int]]  # (profile id, username, sitemap part)
    queue: list[tuple[str, int]]
    total: int
    rescan: bool  # the theme fingerprints pages were built with must be recounted
    built_with: set[str]
    refused: dict[str, tuple[str, str]] = field(default_factory=dict)  # id -> username, why


def _plan(
    site: Site, renderer: Renderer, stamp: str, intact: bool, themes_in_use: list[str]
) -> _Plan:
    store = site.builds
    queue = store.queued_for_build()
    current = renderer.current_fingerprints(themes_in_use)
    # The theme fingerprints pages were built with, kept so that a build
    # after no theme or template change needs no scan of the build state.
    built_with = set(json.loads(store.build_meta(FINGERPRINTS_KEY) or "[]"))
    rescan = not intact or not built_with <= set(current)
    if intact:
        ids = {pid for pid, _ in queue} | set(store.pages_due(stamp))
        if rescan:
            ids |= set(store.pages_not_built_with(current))
        todo = store.pages_of(sorted(ids))
        orphans = store.orphaned_pages([pid for pid, _ in queue])
        total = store.count_profiles()
    else:
        # First build, --full, or build/ was replaced: check everything,
        # including pages deleted from build/ behind our back. The build
        # state is rebuilt from scratch, so orphans need no bookkeeping; their
        # pages are found by username (see _execute).
        todo = store.all_pages()
        orphans = []
        total = len(todo)
    # In id order, results arrive roughly sorted by the build state's key,
    # which makes recording them about twice as cheap as in random order.
    todo.sort()
    # A profile on a theme that cannot be used is refused, not drawn with another
    # theme; it stays queued, so it is built once its theme is mended.
    refused = {t.id: t for t in todo if t.theme in renderer.broken}
    if refused:
        todo = [t for t in todo if t.id not in refused]
        queue = [(pid, token) for pid, token in queue if pid not in refused]
    plan = _Plan(intact, todo, orphans, queue, total, rescan, built_with)
    plan.refused = {
        pid: (t.username, f"theme '{t.theme}' cannot be used: {renderer.broken[t.theme]}")
        for pid, t in refused.items()
    }
    return plan


def build(
    site: Site,
    *,
    full: bool = False,
    jobs: int | None = None,
    at: datetime | None = None,
    progress: Progress | None = None,
) -> BuildReport:
    started = time.perf_counter()
    store = site.builds
    renderer = site.renderer()
    out = site.build_dir
    out.mkdir(parents=True, exist_ok=True)
    stamp = iso(at or now())
    token = store.build_meta(OUTPUT_TOKEN_KEY)
    intact = not full and token is not None and _read_marker(out) == token
    if not intact:
        # Until this build ends, build/ is not the one this database built: a
        # build that dies part-way leaves the next one full too.
        remove(out / MARKER)
    if not intact or store.build_meta(RUNNING_KEY) == "1":
        # It may change anything, or the last build died between writing files
        # and journalling them: the next publish compares every file.
        site.journal.add([journal.EVERYTHING])
    store.set_build_meta(RUNNING_KEY, "1")
    workers = jobs or site.config.build.jobs or os.cpu_count() or 1
    themes_in_use = store.themes_in_use()
    for slug in themes_in_use:  # background pictures made once here, not by every worker
        renderer.theme_image(renderer.theme_for(slug))
    renderer.speech(None)  # the site language's catalogue too (babel's imports: 40 ms)
    job = _Job(renderer, site.db_path, out, stamp, None if intact else set(os.listdir(out)))
    # A full build forks its workers now, while this process is still small:
    # a forked page counts in every worker's memory until it is written to.
    early = not intact and workers > 1 and store.count_profiles() >= PARALLEL_THRESHOLD
    pool = _Workers(job, workers) if early else None
    try:
        plan = _plan(site, renderer, stamp, intact, themes_in_use)
        report = _execute(site, store, renderer, job, plan, pool, workers, progress)
    finally:
        if pool is not None:
            pool.close()
    if not intact:
        token = token or secrets.token_hex(8)
        write_file(out / MARKER, token.encode())
        store.set_build_meta(OUTPUT_TOKEN_KEY, token)
    site.remember_template_references(renderer)
    store.set_build_meta(RUNNING_KEY, "0")
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


def _execute(
    site: Site,
    store: BuildState,
    renderer: Renderer,
    job: _Job,
    plan: _Plan,
    pool: _Workers | None,
    workers: int,
    progress: Progress | None,
) -> BuildReport:
    report = BuildReport(total=plan.total, failed=dict(plan.refused.values()))
    out = job.out
    # Old output of deleted and renamed profiles goes first, so a new owner
    # of a freed username gets a fresh page.
    if plan.intact:
        stale_names = {name for _, name, _ in plan.orphans}
        stale_names |= {name for t in plan.todo if (name := t.previous_username)}
        stale_names -= {t.username for t in plan.todo}
        if stale_names:
            stale_names -= set(store.usernames())
    else:
        stale_names = set(store.outdated_usernames())
    for name in sorted(stale_names):
        remove(out / f"{name}{extras.CARD_SUFFIX}")
        if remove(out / name):
            report.removed.append(name)
    gone = [n for name in stale_names for n in (name, f"{name}{extras.CARD_SUFFIX}")]
    site.journal.add(gone + _tidy_objects(store, renderer, out, plan))

    # Pages are recorded batch by batch as they are written, each batch with
    # the sitemap parts it leaves owed, so a build that dies part-way keeps
    # what it did and leaves the rest (queue entries, sitemap) to the next.
    owed = set(json.loads(store.build_meta(SITEMAP_PENDING_KEY) or "[]"))
    owed |= {part for _, _, part in plan.orphans}
    built_with = plan.built_with

    def record(result: tuple[list[BuiltPage], list[str]]) -> None:
        pages, touched = result
        owed.update(page.sitemap_part for page in pages)
        built_with.update(page.theme_fingerprint for page in pages)
        report.rendered.extend(page.username for page in pages)
        pending = (SITEMAP_PENDING_KEY, json.dumps(sorted(owed)))
        store.record_builds(pages, pending=pending, touched=touched)

    if not plan.intact:
        # Every page is rendered and recorded again: inserting into an empty
        # table costs half of replacing 100,000 rows. Safe: until this build
        # writes its marker, the next build is a full one too.
        store.reset_build_state()
    if site.config.embeds.thumbnails and plan.todo:
        embed_art.fetch_for(site, [item.id for item in plan.todo])
    _render(job, plan.todo, pool, workers, progress, report, record)
    if plan.orphans or plan.queue:
        pending = (SITEMAP_PENDING_KEY, json.dumps(sorted(owed)))
        store.record_builds([], [pid for pid, _, _ in plan.orphans], plan.queue, pending)
    if plan.rescan:
        built_with = store.fingerprints_built()
    if built_with != set(json.loads(store.build_meta(FINGERPRINTS_KEY) or "[]")):
        store.set_build_meta(FINGERPRINTS_KEY, json.dumps(sorted(built_with)))
    changed_parts = owed if plan.intact else None
    report.site_files = sitemap.write(store, renderer.site_url, out, changed_parts)
    if owed:
        store.set_build_meta(SITEMAP_PENDING_KEY, "[]")
    site_fp = renderer.site_files_fingerprint()
    if not plan.intact or store.build_meta(SITE_META_KEY) != site_fp:
        report.site_files += _write_site_files(renderer, out)
        store.set_build_meta(SITE_META_KEY, site_fp)
    report.site_files += _write_home(renderer, store, out, report.rendered, site_fp, plan.intact)
    report.site_files += media.copy_new(
        store, site.media_dir, out / "_m", plan.intact, cards=site.config.build.social_cards
    )
    site.journal.add(report.site_files)
    if plan.refused:
        store.requeue(sorted(plan.refused))
    return report


def _read_marker(out: Path) -> str | None:
    try:
        return (out / MARKER).read_text().strip()
    except (FileNotFoundError, UnicodeDecodeError):
        return None


class _Workers:
    """A pool of forked render workers that inherit the job (templates compiled)."""

    def __init__(self, job: _Job, workers: int) -> None:
        global _job
        _job = job
        gc.freeze()  # keep the inherited heap shared between the workers
        try:
            context = multiprocessing.get_context("fork")
            self.pool = context.Pool(workers, initializer=_start_worker)
        finally:
            _job = None
            gc.unfreeze()
        self.workers = workers

    def close(self) -> None:
        self.pool.close()
        self.pool.join()


def _render(
    job: _Job,
    todo: list[Stale],
    pool: _Workers | None,
    workers: int,
    progress: Progress | None,
    report: BuildReport,
    record: Callable[[tuple[list[BuiltPage], list[str]]], None],
) -> None:
    size = max(50, min(1000, len(todo) // (workers * 8)))
    batches = [todo[i : i + size] for i in range(0, len(todo), size)]
    done = 0
    if pool is None and (len(todo) < PARALLEL_THRESHOLD or workers == 1):
        report.jobs = 1
        for batch in batches:
            record(job.render(batch))
            done += len(batch)
            if progress:
                progress(done, len(todo))
        return
    own = pool is None
    workers_pool = pool or _Workers(job, workers)
    report.jobs = workers_pool.workers
    try:
        for result in workers_pool.pool.imap_unordered(_render_in_worker, batches):
            record(result)
            done += len(result[0])
            if progress:
                progress(done, len(todo))
    finally:
        if own:
            workers_pool.close()


HOME_LIMIT = 1000  # usernames the directory at / lists; it says how many more


def _write_home(
    renderer: Renderer,
    store: BuildState,
    out: Path,
    rendered: Sequence[str],
    site_fp: str,
    intact: bool,
) -> list[str]:
    """index.html, the page at /. A directory lists usernames only, so that an edit
    of a profile never changes it (nor purges the site's files); it changes when a
    profile comes, goes or is renamed, and is drawn again only then (or when the
    site's templates or settings change; a full build draws it again)."""
    home = renderer.config.site.home
    page = out / home[1:] if home.startswith("@") else None
    made = None
    if page is not None and page.is_file():
        if home[1:] not in rendered and (out / "index.html").is_file():
            return []
        data = page.read_bytes()  # that profile's page, as built
    else:
        usernames, more = store.directory(HOME_LIMIT)
        theme = renderer.theme_fingerprint(renderer.default_theme)
        made = templating.digest(site_fp, theme, str(more), *usernames)
        if intact and store.build_meta(HOME_KEY) == made and (out / "index.html").is_file():
            return []
        data = renderer.home(usernames, more)
    changed = write_if_changed(out / "index.html", data)
    if made is not None:
        store.set_build_meta(HOME_KEY, made)
    return ["index.html"] if changed else []


def _tidy_objects(store: BuildState, renderer: Renderer, out: Path, plan: _Plan) -> list[str]:
    """Link objects, players and title tests of deleted profiles go; with links no
    longer at the edge, all link objects do. The names removed."""
    if plan.intact:
        gone = extras.forget(out, [pid for pid, _, _ in plan.orphans])
    else:
        known = {t.id for t in plan.todo} | set(plan.refused)
        gone = extras.forget(out, [pid for pid in extras.known_folders(out) if pid not in known])
    folder = out / redirects.FOLDER
    if not renderer.edge_links:
        if folder.is_dir():
            gone += [f"{redirects.FOLDER}/{name}" for name in os.listdir(folder)]
            shutil.rmtree(folder)
        remove(out / redirects.PIXEL_NAME)
        return [*gone, redirects.PIXEL_NAME]
    if plan.intact:
        gone += redirects.forget(out, [pid for pid, _, _ in plan.orphans])
    elif folder.is_dir():
        known = {t.id for t in plan.todo} | set(plan.refused)
        stale = [p.name[1:] for p in folder.glob(".*") if p.name[1:] not in known]
        gone += redirects.forget(out, stale)
    return gone


def _write_site_files(renderer: Renderer, out: Path) -> list[str]:
    files = {
        "404.html": renderer.not_found(),
        "robots.txt": renderer.robots(),
        renderer.social_card_key: renderer.social_card,
    }
    if renderer.edge_links:
        files[redirects.PIXEL_NAME] = redirects.PIXEL
    return [name for name, data in files.items() if write_if_changed(out / name, data)]
