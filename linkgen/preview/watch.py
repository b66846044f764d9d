"""``linkgen watch``: rebuild when the database, templates, themes or settings change."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from linkgen.build import BuildReport, build
from linkgen.config import CONFIG_FILE
from linkgen.errors import LinkgenError
from linkgen.site import DATA_DIR, Site

log = logging.getLogger(__name__)


class _Nudge(FileSystemEventHandler):
    def __init__(self, changed: threading.Event, ignore: Path) -> None:
        self.changed = changed
        self.ignore = str(ignore)

    def on_any_event(self, event: FileSystemEvent) -> None:
        path = str(event.src_path)
        if event.event_type in ("opened", "closed_no_write") or path.startswith(self.ignore):
            return
        if path.endswith(".tmp") or "/." in path:
            return
        self.changed.set()


def watch(
    root: Path,
    *,
    on_build: Callable[[BuildReport], None],
    on_error: Callable[[LinkgenError], None],
    stop: threading.Event,
    debounce: float = 0.2,
) -> None:
    """Build once, then again after every change, until ``stop`` is set."""
    site = Site.open(root)
    changed = threading.Event()
    handler = _Nudge(changed, site.build_dir)
    observer = Observer()
    observer.schedule(handler, str(site.root / DATA_DIR), recursive=False)
    observer.schedule(handler, str(site.root), recursive=False)  # linkgen.toml
    for name in ("templates", "themes"):
        (site.root / name).mkdir(exist_ok=True)
        observer.schedule(handler, str(site.root / name), recursive=True)
    observer.start()
    log.info("watching %s (%s, templates/, themes/, %s)", site.root, DATA_DIR, CONFIG_FILE)
    changed.set()
    try:
        while not stop.is_set():
            if not changed.wait(timeout=0.5):
                continue
            stop.wait(debounce)  # let a burst of writes settle
            changed.clear()
            try:
                site.close()
                site = Site.open(root)  # settings and themes may have changed
                report = build(site)
            except LinkgenError as exc:
                on_error(exc)
                continue
            if report.rendered or report.removed or report.site_files:
                on_build(report)
    finally:
        site.close()
        observer.stop()
        observer.join()
