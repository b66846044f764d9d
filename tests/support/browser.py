"""Debian's Chromium, driven by Playwright through ``executable_path`` (Playwright
never downloads a browser here)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from playwright import sync_api as playwright

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]


@contextmanager
def chromium() -> Iterator[Any]:
    """A launched browser, closed afterwards."""
    executable = shutil.which("chromium")
    assert executable, "Debian's chromium is needed (scripts/test installs it)"
    with playwright.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=executable, args=ARGS)
        try:
            yield browser
        finally:
            browser.close()
