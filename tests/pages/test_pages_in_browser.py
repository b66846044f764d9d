"""The public pages in a real browser: Debian's Chromium driven by Playwright.

axe-core (as packaged by axe-playwright-python) checks the three sample
pages for accessibility violations, in light and dark mode; the content
warnings are tapped through without JavaScript. Screenshots of each page are
kept in test-artifacts/pages/.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe

from linkgen import site as sites
from linkgen.build import build
from linkgen.pages.qr import qr_name
from tests.support.browser import chromium as launched_chromium
from tests.support.sample_pages import SAMPLES, add_samples, add_signup_sample
from tests.support.servers import previewing

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "pages"


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> Iterator[sites.Site]:
    site = sites.init(tmp_path_factory.mktemp("pages") / "site")
    add_samples(site)
    build(site)
    yield site
    site.close()


@pytest.fixture(scope="module")
def served(samples: sites.Site) -> Iterator[str]:
    with previewing(samples.build_dir) as url:
        yield url


@pytest.fixture(scope="module")
def signup_served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    site = add_signup_sample(tmp_path_factory.mktemp("signup") / "site")
    build(site)
    with previewing(site.build_dir) as url:
        yield url
    site.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with launched_chromium() as launched:
        yield launched


def open_page(browser: Any, url: str, scheme: str = "light") -> Any:
    context = browser.new_context(
        viewport={"width": 412, "height": 823}, color_scheme=scheme, java_script_enabled=True
    )
    # Nothing leaves the machine: every other origin answers a blank page.
    context.route(
        lambda requested: not requested.startswith(url.split("/", 3)[0] + "//" + url.split("/")[2]),
        lambda route: route.fulfill(status=200, content_type="text/html", body="<p>away</p>"),
    )
    page = context.new_page()
    page.goto(url)
    return page


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("username", SAMPLES)
def test_sample_pages_have_no_accessibility_violations(
    browser: Any, served: str, username: str, scheme: str
) -> None:
    page = open_page(browser, f"{served}/{username}", scheme)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{username}-{scheme}.png"), full_page=True)
    results = Axe().run(page)
    violations = [(v["id"], v["help"]) for v in results.response["violations"]]
    assert violations == [], violations
    assert results.response["passes"], "axe ran no checks at all"
    page.context.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_a_sign_up_form_is_accessible_and_its_thanks_shows_without_javascript(
    browser: Any, signup_served: str, scheme: str
) -> None:
    page = open_page(browser, f"{signup_served}/sol", scheme)
    violations = [(v["id"], v["help"]) for v in Axe().run(page).response["violations"]]
    assert violations == [], violations
    assert not page.is_visible("#signed-up")
    off = page.eval_on_selector("#signup-hp", "e => e.getBoundingClientRect().right")
    assert off <= 0  # the honeypot: off the screen, out of the tab order, hidden from readers
    sizes = page.eval_on_selector_all(
        ".signup input:not(#signup-hp), .signup button",
        "all => all.map(e => e.getBoundingClientRect().height)",
    )
    assert len(sizes) == 2 and min(sizes) >= 48
    page.goto(f"{signup_served}/sol#signed-up")  # where the redirector's 303 returns to
    assert page.is_visible("#signed-up")
    assert "check your inbox" in page.inner_text("#signed-up")
    page.screenshot(path=str(ARTIFACTS / f"sol-signed-up-{scheme}.png"), full_page=True)
    page.context.close()


def test_a_content_warning_is_tapped_through_without_javascript(browser: Any, served: str) -> None:
    context = browser.new_context(java_script_enabled=False, viewport={"width": 412, "height": 823})
    context.route(
        "https://podcast.example.com/**",
        lambda route: route.fulfill(
            status=200, content_type="text/html", body="<h1>Episode 7</h1>"
        ),
    )
    page = context.new_page()
    page.goto(f"{served}/fifty")
    warning = page.get_by_role("dialog")
    assert not warning.is_visible()
    page.get_by_role("link", name="Episode 7: notes, links and show transcript").click()
    assert warning.is_visible() and "aged 21 or over" in warning.inner_text()
    page.screenshot(path=str(ARTIFACTS / "fifty-warning.png"))
    warning.get_by_role("link", name="Continue").click()
    page.wait_for_url("https://podcast.example.com/episodes/7")
    assert page.inner_text("h1") == "Episode 7"
    context.close()


def test_every_tap_target_is_at_least_48_pixels(browser: Any, served: str) -> None:
    page = open_page(browser, f"{served}/mika")
    sizes = page.eval_on_selector_all(
        "a",
        "links => links.map(a => [a.textContent.trim() || a.ariaLabel, "
        "a.getBoundingClientRect().width, a.getBoundingClientRect().height])",
    )
    small = [(name, w, h) for name, w, h in sizes if w < 48 or h < 48]
    assert small == [] and len(sizes) == 16  # 10 buttons, 5 icons, the footer
    page.context.close()


def test_the_built_qr_code_reads_back_as_the_page_address(
    browser: Any, served: str, samples: sites.Site
) -> None:
    address = f"{samples.config.site.url}/mika"
    page = open_page(browser, f"{served}/_m/{qr_name(address)}")
    page.set_viewport_size({"width": 400, "height": 400})
    shot = ARTIFACTS / "mika-qr.png"
    page.screenshot(path=str(shot))  # the SVG as a browser draws it, for a camera to read
    page.context.close()
    decoded = subprocess.run(
        ["zbarimg", "--quiet", "--raw", str(shot)], capture_output=True, text=True, check=True
    )
    assert decoded.stdout.strip() == address


def test_an_embed_asks_its_provider_for_nothing_until_it_is_tapped(
    browser: Any, served: str
) -> None:
    """Every request of the page with three embeds, recorded: all to the site itself,
    however far the visitor scrolls; the tap opens our player page, whose one
    request elsewhere is the privacy-enhanced player's frame."""
    context = browser.new_context(viewport={"width": 412, "height": 823}, java_script_enabled=False)
    asked: list[str] = []
    context.on("request", lambda request: asked.append(request.url))
    context.route(
        lambda url: not url.startswith(served),
        lambda route: route.fulfill(status=200, content_type="text/html", body="<p>player</p>"),
    )
    page = context.new_page()
    page.goto(f"{served}/nova", wait_until="networkidle")
    page.mouse.wheel(0, 10_000)  # the lazy thumbnails below the fold load too
    page.wait_for_load_state("networkidle")
    web = [url for url in asked if url.startswith(("http://", "https://"))]
    assert len(web) >= 4 and all(url.startswith(served) for url in web), web
    assert sum("/_m/" in url for url in web) >= 3  # the three thumbnails, ours
    page.screenshot(path=str(ARTIFACTS / "nova-embeds.png"), full_page=True)
    before = len(asked)
    page.get_by_role("link", name="Live at the harbour (video) YouTube").click()
    page.wait_for_load_state("networkidle")
    assert "/_e/" in page.url and page.inner_text("h1") == "Live at the harbour (video)"
    away = [url for url in asked[before:] if not url.startswith(served)]
    assert away == ["https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ?autoplay=1"]
    assert page.frame_locator("iframe").locator("p").inner_text() == "player"
    context.close()
