"""Every editor page in Debian's Chromium at a phone's and a desktop's size: nothing
scrolls sideways, every label names a control that exists, every picture shows.
Screenshots are kept in test-artifacts/editor-pages/."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from linkgen import site as sites
from linkgen.models import ProfileFields
from tests.support.browser import chromium as launched_chromium
from tests.support.editor import PASSWORD, Editor
from tests.support.pictures import image_bytes

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "editor-pages"
SIZES = {"phone": (390, 844), "desktop": (1280, 800)}


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Editor, str]]:
    from linkgen.models import NewLink, NewProfile, validate
    from linkgen.pages import images

    site = sites.init(tmp_path_factory.mktemp("editor") / "site")
    name = "ليلى — a long display name that goes on and on, mixed العربية and English"
    site.content.create_profile(validate(NewProfile, {"username": "alice", "display_name": name}))
    picture = image_bytes((200, 60, 30))
    avatar = images.save(images.ingest(picture, "avatar", source="test"), site.media_dir)
    site.content.update_profile("alice", ProfileFields(avatar=avatar))
    for n in range(12):
        url = f"https://example.com/a/very/long/path/{'segment-' * 8}{n}?with=a&query=string"
        site.content.add_link("alice", validate(NewLink, {"title": f"Link number {n}", "url": url}))
    _, token = site.accounts.add_user("a-very-long-address.for-testing@example.com", [], admin=True)
    site.accounts.set_password_with_link(token, PASSWORD)
    link = site.content.get("alice").links[0].id
    editor = Editor(site)
    yield editor, link
    editor.proc.terminate()
    editor.proc.wait(timeout=30)
    site.close()


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    with launched_chromium() as launched:
        yield launched


@pytest.mark.timeout(120)
@pytest.mark.parametrize("size", sorted(SIZES))
def test_no_editor_page_scrolls_sideways(
    chromium: Any, running: tuple[Editor, str], size: str
) -> None:
    editor, link = running
    width, height = SIZES[size]
    context = chromium.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    for path in ("/sign-in", "/forgot-password"):
        page.goto(editor.url + path)
        check(page, path, size, width)
    page.goto(editor.url + "/sign-in")
    page.get_by_label("E-mail").fill("a-very-long-address.for-testing@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(editor.url + "/")
    for path in ("/", "/p/alice", f"/p/alice/links/{link}", "/p/alice/stats", "/password"):
        page.goto(editor.url + path)
        check(page, path, size, width)
    context.close()


def check(page: Any, path: str, size: str, width: int) -> None:
    page.wait_for_load_state("load")
    wide = page.evaluate("document.documentElement.scrollWidth")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = path.strip("/").replace("/", "-") or "home"
    page.screenshot(path=str(ARTIFACTS / f"{shot}-{size}.png"), full_page=True)
    assert wide <= width, f"{path} is {wide} px wide at {width} px"
    orphans = page.eval_on_selector_all(
        "label[for]",
        "ls => ls.filter(l => !document.getElementById(l.htmlFor)).map(l => l.htmlFor)",
    )
    assert orphans == [], (path, orphans)
    ids = page.eval_on_selector_all("[id]", "es => es.map(e => e.id)")
    assert len(ids) == len(set(ids)), (path, sorted(i for i in ids if ids.count(i) > 1))
    broken = page.eval_on_selector_all(
        "img", "imgs => imgs.filter(i => i.complete && !i.naturalWidth).map(i => i.src)"
    )
    assert broken == [], (path, broken)
