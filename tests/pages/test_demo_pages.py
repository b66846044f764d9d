"""The demo as a visitor sees it, in Debian's Chromium on a phone and a desktop:
every picture shows, and every button's label is centred whatever sits beside it.
Screenshots are kept in test-artifacts/demo/."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from linkgen import site as sites
from linkgen.build import build
from linkgen.cli.demo import SAMPLES, seed
from tests.support.browser import chromium as launched_chromium
from tests.support.servers import previewing

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "demo"
SIZES = {"phone": (390, 844), "desktop": (1280, 800)}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    site = sites.init(tmp_path_factory.mktemp("demo") / "site")
    seed(site)
    build(site)
    with previewing(site.build_dir) as url:
        yield url
    site.close()


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    with launched_chromium() as launched:
        yield launched


@pytest.mark.parametrize("size", sorted(SIZES))
@pytest.mark.parametrize("username", [sample["username"] for sample in SAMPLES])
def test_a_demo_page_shows_every_picture_and_centres_every_label(
    chromium: Any, demo: str, username: str, size: str
) -> None:
    width, height = SIZES[size]
    context = chromium.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.goto(f"{demo}/{username}")
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")  # lazy pictures load
    page.wait_for_function("[...document.images].every(i => i.complete)")
    broken = page.eval_on_selector_all(
        "img:not(.beacon)", "imgs => imgs.filter(i => !i.naturalWidth).map(i => i.src)"
    )
    assert broken == []
    assert page.eval_on_selector_all("img:not(.beacon)", "imgs => imgs.length") >= 3
    offsets = page.eval_on_selector_all(
        ".links a",
        """links => links
          .filter(a => a.querySelector('img, svg.icon') && !a.querySelector('.tag'))
          .map(a => {
            const b = a.getBoundingClientRect();
            const s = a.querySelector('span').getBoundingClientRect();
            return [a.textContent.trim(), (s.left + s.right) / 2 - (b.left + b.right) / 2];
          })""",
    )
    assert offsets, "every demo creator has buttons with a picture or an icon"
    assert [(name, off) for name, off in offsets if abs(off) > 1.5] == []
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{username}-{size}.png"), full_page=True)
    context.close()
