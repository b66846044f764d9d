"""A creator's journey in a real browser, through to the edge.

Debian's Chromium driven by Playwright against the real editor process,
with the publish worker, moto's S3 server and Varnish running: sign in, add
a link, move it up, change the theme, see the preview follow, and see the
public page change at the edge. Screenshots of each step are kept in
test-artifacts/editor/.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright import sync_api as playwright

from linkgen import site as sites
from tests.support.browser import chromium as launched_chromium
from tests.support.edge import configure
from tests.support.editor import PASSWORD, Editor

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "editor"


def at_edge(url: str) -> str:
    """The page as the edge serves it; '' while it is not there yet."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return str(response.read().decode())
    except urllib.error.HTTPError:
        return ""


def until(check: Any, timeout: float = 30.0) -> float:
    """Seconds until ``check()`` holds (fails the test after ``timeout``)."""
    started = time.monotonic()
    while not check():
        assert time.monotonic() - started < timeout, "timed out"
        time.sleep(0.05)
    return time.monotonic() - started


@pytest.fixture
def live_site(
    site: sites.Site,
    add_profile: Any,
    bucket: Any,
    s3_endpoint: str,
    edge: str,
) -> Iterator[tuple[sites.Site, Editor, str]]:
    add_profile("alice", ("Shop", "https://shop.example.com"), display_name="Alice")
    live = configure(site, bucket[1], s3_endpoint, edge)
    _, token = live.accounts.add_user("alice@example.com", [live.content.get("alice").id])
    live.accounts.set_password_with_link(token, PASSWORD)
    worker = subprocess.Popen(
        [sys.executable, "-m", "linkgen", "--site", str(live.root), "worker"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert worker.stdout is not None and "started" in worker.stdout.readline()
    until(lambda: "Alice" in at_edge(f"{edge}/alice"))  # the first publish
    editor = Editor(live)
    yield live, editor, edge
    editor.proc.terminate()
    editor.proc.wait(timeout=30)
    worker.send_signal(signal.SIGTERM)
    worker.wait(timeout=30)


def test_sign_in_edit_and_see_it_live_at_the_edge(
    live_site: tuple[sites.Site, Editor, str],
) -> None:
    live, editor, edge = live_site
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with launched_chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(f"{editor.url}/sign-in")
        page.get_by_label("E-mail").fill("alice@example.com")
        page.get_by_label("Password").fill(PASSWORD)
        page.screenshot(path=str(ARTIFACTS / "1-sign-in.png"))
        page.get_by_role("button", name="Sign in").click()
        page.get_by_role("link", name="@alice").click()
        page.screenshot(path=str(ARTIFACTS / "2-profile.png"))

        page.get_by_label("Title").fill("Tour tickets")
        page.get_by_label("URL").fill("tickets.example.com/alice")
        page.get_by_role("button", name="Add link").click()
        assert page.get_by_role("status").inner_text() == "Link added."
        preview = page.frame_locator("iframe.preview")
        assert preview.get_by_text("Tour tickets").is_visible()
        page.screenshot(path=str(ARTIFACTS / "3-link-added.png"))

        page.get_by_role("button", name="Up: Tour tickets").click()
        titles = preview.locator("ul.links span").all_inner_texts()
        assert titles == ["Tour tickets", "Shop"]
        page.screenshot(path=str(ARTIFACTS / "4-moved-up.png"))

        page.get_by_label("Theme").select_option("midnight")
        saved_at = time.monotonic()
        page.get_by_role("button", name="Save profile").click()
        assert page.get_by_role("status").inner_text() == "Saved."
        assert "--bg:#0b1020" in preview.locator("style").inner_text()
        page.screenshot(path=str(ARTIFACTS / "5-theme.png"))

        def live_now() -> bool:
            body = at_edge(f"{edge}/alice")
            return "--bg:#0b1020" in body and body.index("Tour tickets") < body.index("Shop")

        status = page.frame_locator("iframe.status")
        playwright.expect(status.get_by_text("Live at the edge")).to_be_visible(timeout=30_000)
        assert live_now()  # the editor says live only once the edge serves the new page
        edit_to_live = time.monotonic() - saved_at
        page.screenshot(path=str(ARTIFACTS / "6-live.png"))
        public = browser.new_page(viewport={"width": 412, "height": 823})
        public.goto(f"{edge}/alice")
        public.screenshot(path=str(ARTIFACTS / "7-the-public-page-at-the-edge.png"))
    assert edit_to_live < 30
    history = [entry.actor for entry in live.content.history("alice")[:3]]
    assert history == ["alice@example.com (editor)"] * 3
