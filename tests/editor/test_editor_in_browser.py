"""The editor as a creator uses it, in Debian's Chromium at a phone's and a desktop's
size (390 by 844, 1280 by 800), no script needed by any page: errors beside their
fields and in view, moving and hiding a link brings you back to it, the page's
address to copy, each link's state and clicks, schedules in your own time zone,
an editing conflict that saves on the second try, undo, an admin's new profile.
Screenshots are kept in test-artifacts/editor-journey/."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from linkgen import site as sites
from linkgen.clicks.db import ClickStore, Event, clicks_path
from linkgen.models import NewLink, NewProfile, validate
from tests.support.browser import chromium as launched_chromium
from tests.support.editor import PASSWORD, Editor

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "editor-journey"
SIZES = {"phone": (390, 844), "desktop": (1280, 800)}
ADMIN = "admin@example.com"


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    with launched_chromium() as launched:
        yield launched


@pytest.fixture
def running(tmp_path: Path) -> Iterator[tuple[Editor, sites.Site]]:
    site = sites.init(tmp_path / "site")
    site.content.create_profile(validate(NewProfile, {"username": "alice"}))
    name = "ليلى Layla — العربية and English"
    site.content.create_profile(validate(NewProfile, {"username": "layla", "display_name": name}))
    now = dt.datetime.now(dt.UTC)
    for n in range(1, 9):
        link: dict[str, Any] = {"title": f"Link {n}", "url": f"https://example.com/{n}"}
        if n == 7:
            link["starts_at"] = (now + dt.timedelta(days=3)).replace(microsecond=0)
        site.content.add_link("alice", validate(NewLink, link, strict=False))
    first = site.content.get("alice").links[0]
    clicks = ClickStore(clicks_path(site.root))
    at = int(now.timestamp() * 1000)
    profile_id = site.content.get("alice").id
    clicks.write(
        [Event(at + n, "click", profile_id, first.id, f"v{n}", "", "", "mobile", False)
         for n in (1, 2)]
    )  # fmt: skip
    clicks.close()
    _, token = site.accounts.add_user(ADMIN, [], admin=True)
    site.accounts.set_password_with_link(token, PASSWORD)
    editor = Editor(site)
    yield editor, site
    editor.proc.terminate()
    editor.proc.wait(timeout=30)
    site.close()


def open_page(chromium: Any, editor: Editor, size: str) -> tuple[Any, Any]:
    width, height = SIZES[size]
    context = chromium.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.goto(editor.url + "/sign-in")
    page.get_by_label("E-mail").fill(ADMIN)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(editor.url + "/")
    return context, page


def in_view(page: Any, selector: str) -> bool:
    """Wholly on screen, as the page opened (no scrolling by the test)."""
    box = page.locator(selector).first.evaluate(
        "e => { const r = e.getBoundingClientRect(); return [r.top, r.bottom, innerHeight]; }"
    )
    top, bottom, height = box
    assert bottom > top and top >= -1 and bottom <= height + 1, (selector, box)
    return True


def shot(page: Any, name: str, size: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}-{size}.png"))


@pytest.mark.timeout(120)
@pytest.mark.parametrize("size", sorted(SIZES))
def test_an_error_is_shown_by_its_field_and_in_view(
    chromium: Any, running: tuple[Editor, sites.Site], size: str
) -> None:
    editor, _ = running
    context, page = open_page(chromium, editor, size)
    page.goto(editor.url + "/p/alice")
    for value in ("pink", "ffcc00", "#zzzzzz"):
        page.locator("#background").fill(value)
        page.get_by_role("button", name="Save profile").click()
        page.wait_for_load_state("load")
        error = page.locator("#background-error")
        assert "#rrggbb" in error.inner_text() or "colour" in error.inner_text().lower(), value
        assert in_view(page, "#background-error") and in_view(page, "#background"), value
        assert page.locator("#background").get_attribute("aria-invalid") == "true"
    shot(page, "colour-error", size)
    page.locator("#url").fill("javascript:alert(1)")
    page.locator("#title").fill("Bad")
    page.get_by_role("button", name="Add link").click()
    page.wait_for_load_state("load")
    assert "scheme" in page.locator("#url-error").inner_text()
    assert in_view(page, "#url-error") and in_view(page, "#url")
    shot(page, "url-error", size)
    context.close()


@pytest.mark.timeout(120)
@pytest.mark.parametrize("size", sorted(SIZES))
def test_moving_and_hiding_a_link_come_back_to_it(
    chromium: Any, running: tuple[Editor, sites.Site], size: str
) -> None:
    editor, site = running
    context, page = open_page(chromium, editor, size)
    page.goto(editor.url + "/p/alice")
    fifth = site.content.get("alice").links[4]
    card = f"#link-{fifth.id}"
    page.get_by_role("button", name=f"Down: {fifth.title}").click()
    page.wait_for_load_state("load")
    assert page.url.endswith(card) and in_view(page, card)
    assert page.locator(f"{card} .notice").inner_text() == f"Moved “{fifth.title}” to 6."
    assert page.locator(f"{card} .position").inner_text() == "6"
    page.get_by_role("button", name=f"To the top: {fifth.title}").click()  # in one step
    page.wait_for_load_state("load")
    assert in_view(page, card) and page.locator(f"{card} .position").inner_text() == "1"
    assert site.content.get("alice").links[0].id == fifth.id
    switch = page.get_by_role("switch", name=f"On the page: {fifth.title}")
    assert switch.get_attribute("aria-checked") == "true"
    switch.click()
    page.wait_for_load_state("load")
    assert in_view(page, card)
    assert page.locator(f"{card} .state").inner_text() == "hidden"
    switch = page.get_by_role("switch", name=f"On the page: {fifth.title}")
    assert switch.get_attribute("aria-checked") == "false"
    shot(page, "hidden-link", size)
    # Undo says what it undid, in full, where the history is.
    page.get_by_role("button", name="Undo the last change").click()
    page.wait_for_load_state("load")
    notice = page.locator("#history + .notice")
    assert re.fullmatch(r"undid #\d+ \S+: .*Link 5.*", notice.inner_text()), notice.inner_text()
    assert in_view(page, "#history + .notice")
    assert page.locator(f"{card} .state").inner_text() == "live"
    context.close()


@pytest.mark.timeout(120)
@pytest.mark.parametrize("size", sorted(SIZES))
def test_the_page_shows_its_address_each_links_state_and_clicks_in_my_time_zone(
    chromium: Any, running: tuple[Editor, sites.Site], size: str
) -> None:
    editor, site = running
    context, page = open_page(chromium, editor, size)
    page.goto(editor.url + "/password")
    page.locator("#zone").fill("Asia/Tokyo")
    page.get_by_role("button", name=re.compile("time zone", re.I)).click()
    page.wait_for_load_state("load")
    page.goto(editor.url + "/p/alice")
    address = page.get_by_label("Its address, to copy into your bio")
    assert address.input_value() == "http://127.0.0.1:8000/alice"
    assert address.get_attribute("readonly") is not None and in_view(page, "#page-address")
    links = site.content.get("alice").links
    first, later = links[0], links[6]
    assert page.locator(f"#link-{first.id} .clicks").inner_text() == "2 clicks in 30 days"
    assert page.locator(f"#link-{links[1].id} .clicks").inner_text() == "0 clicks in 30 days"
    assert page.locator(f"#link-{later.id} .state").inner_text() == "scheduled"
    assert later.starts_at is not None
    tokyo = later.starts_at.astimezone(dt.timezone(dt.timedelta(hours=9)))
    assert f"from {tokyo:%Y-%m-%d %H:%M} JST" in page.locator(f"#link-{later.id}").inner_text()
    ids = page.eval_on_selector_all("[id]", "es => es.map(e => e.id)")
    assert len(ids) == len(set(ids))  # every id once
    # The header's parts never run together, the page never scrolls sideways.
    boxes = [page.locator(s).bounding_box() for s in ("header.bar > a", "header.bar .account")]
    left, right = boxes
    assert left and right
    apart = right["x"] >= left["x"] + left["width"] or right["y"] >= left["y"] + left["height"]
    assert apart, boxes
    assert page.evaluate("document.documentElement.scrollWidth") <= SIZES[size][0]
    shot(page, "profile", size)
    # Stats, and the way back.
    page.get_by_role("link", name="Stats").first.click()
    page.wait_for_load_state("load")
    assert page.evaluate("document.documentElement.scrollWidth") <= SIZES[size][0]
    page.get_by_role("link", name=re.compile("back", re.I)).first.click()
    page.wait_for_load_state("load")
    assert page.url.startswith(editor.url + "/p/alice")
    context.close()


@pytest.mark.timeout(120)
@pytest.mark.parametrize("size", sorted(SIZES))
def test_an_admin_creates_a_profile_and_a_conflict_saves_on_the_second_try(
    chromium: Any, running: tuple[Editor, sites.Site], size: str
) -> None:
    editor, site = running
    context, page = open_page(chromium, editor, size)
    names = page.locator("li bdi").all_inner_texts()
    assert "ليلى Layla — العربية and English" in names  # isolated from its neighbours
    page.get_by_label(re.compile("^Username")).fill("newcomer")
    page.get_by_role("button", name="Create profile").click()
    page.wait_for_load_state("load")
    assert page.url.startswith(editor.url + "/p/newcomer")
    assert "Created @newcomer." in page.locator(".notice").first.inner_text()

    link = site.content.get("alice").links[0]
    page.goto(f"{editor.url}/p/alice/links/{link.id}")
    page.locator("#title").fill("Mine")
    site.content.edit_link("alice", link.id, validate_changes({"title": "Theirs"}))
    page.get_by_role("button", name=re.compile("^Save")).click()
    page.wait_for_load_state("load")
    assert "changed elsewhere" in page.locator(".problem").inner_text()
    assert page.locator("#title").input_value() == "Mine"  # what was typed is kept
    shot(page, "conflict", size)
    page.get_by_role("button", name=re.compile("^Save")).click()  # again: it saves now
    page.wait_for_load_state("load")
    assert site.content.get("alice").links[0].title == "Mine"
    assert in_view(page, f"#link-{link.id}")
    context.close()


def validate_changes(values: dict[str, Any]) -> Any:
    from linkgen.models import LinkChanges

    return validate(LinkChanges, values, strict=False)
