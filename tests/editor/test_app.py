"""The web editor as a real process on loopback: sign-in, editing, and its security."""

from __future__ import annotations

import re

import pytest
import requests

from linkgen import site as sites
from linkgen.models import ProfileFields
from tests.support.editor import PASSWORD, Browser, Editor, signed_in
from tests.support.hostile import XSS
from tests.support.html import parse
from tests.support.qr import decode


def editing(browser: Browser, site: sites.Site, path: str = "/p/alice") -> tuple[str, str]:
    """The form token of the page at ``path`` and alice's version, as a form carries them."""
    return browser.token(path), str(site.content.get("alice").version)


def test_a_creator_sets_a_password_signs_in_and_edits(
    editor: tuple[Editor, sites.Site],
) -> None:
    running, site = editor
    profile = site.content.get("alice")
    _, token = site.accounts.add_user("carol@example.com", [profile.id])
    browser = running.browser()
    form = browser.get(f"/set-password?token={token}")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)  # type: ignore[union-attr]
    too_short = browser.post("/set-password", {"token": token, "password": "short"}, csrf)
    assert too_short.status_code == 400 and "at least 12 characters" in too_short.text
    done = browser.post("/set-password", {"token": token, "password": PASSWORD}, csrf)
    assert done.status_code == 303 and done.headers["Location"].startswith("/sign-in")
    assert browser.sign_in("carol@example.com", PASSWORD).status_code == 303
    home = browser.get("/")
    assert home.status_code == 200 and 'href="/p/alice"' in home.text and "/p/bob" not in home.text
    page = browser.get("/p/alice")
    version = re.search(r'name="version" value="(\d+)"', page.text).group(1)  # type: ignore[union-attr]
    csrf = browser.token("/p/alice")
    saved = browser.post(
        "/p/alice/profile",
        {"display_name": "Alice L.", "bio": "New bio", "theme": "ocean", "version": version},
        csrf,
    )
    assert saved.status_code == 303
    after = site.content.get("alice")
    assert (after.display_name, after.bio, after.theme) == ("Alice L.", "New bio", "ocean")
    assert site.content.history("alice")[0].actor == "carol@example.com (editor)"
    added = browser.post(
        "/p/alice/links",
        {"title": "Tickets", "url": "tickets.example.com", "version": str(after.version)},
        csrf,
    )
    assert added.status_code == 303
    assert [link.title for link in site.content.get("alice").links] == ["Shop", "Tickets"]
    preview = browser.get("/p/alice/preview")
    assert preview.status_code == 200 and "Tickets" in preview.text and "Alice L." in preview.text


def test_a_missing_or_wrong_form_token_is_refused(editor: tuple[Editor, sites.Site]) -> None:
    running, site = editor
    stranger = running.browser()
    no_token = stranger.post("/sign-in", {"email": "alice@example.com", "password": PASSWORD})
    assert no_token.status_code == 403
    browser = signed_in(running)
    version = str(site.content.get("alice").version)
    edit = {"display_name": "Hacked", "bio": "", "theme": "default", "version": version}
    assert browser.post("/p/alice/profile", edit).status_code == 403
    assert browser.post("/p/alice/profile", edit, "wrong-token").status_code == 403
    assert browser.post("/sign-out", {}).status_code == 403
    assert site.content.get("alice").display_name == "Alice"  # nothing changed


def test_another_creators_profile_is_not_found(editor: tuple[Editor, sites.Site]) -> None:
    running, site = editor
    browser = signed_in(running)
    csrf = browser.token("/")
    bob = site.content.get("bob")
    for path in ("/p/bob", "/p/bob/preview", "/p/bob/stats", "/p/bob/qr.svg", "/p/nobody"):
        assert browser.get(path).status_code == 404, path
    edit = {"display_name": "Hacked", "bio": "", "theme": "default", "version": str(bob.version)}
    assert browser.post("/p/bob/profile", edit, csrf).status_code == 404
    link = bob.links[0].id
    assert browser.post(f"/p/bob/links/{link}/remove", {}, csrf).status_code == 404
    assert browser.post(f"/p/alice/links/{link}/remove", {}, csrf).status_code == 404
    assert site.content.get("bob") == bob


@pytest.mark.parametrize("payload", XSS)
def test_hostile_text_stays_inert_in_the_editor_and_the_preview(
    editor: tuple[Editor, sites.Site], payload: str
) -> None:
    running, site = editor
    browser = signed_in(running)
    csrf = browser.token("/p/alice")
    version = site.content.get("alice").version
    saved = browser.post(
        "/p/alice/profile",
        {"display_name": payload[:80], "bio": payload, "theme": "default", "version": str(version)},
        csrf,
    )
    assert saved.status_code == 303
    browser.post(
        "/p/alice/links",
        {"title": payload[:100], "url": "example.com", "version": str(version + 1)},
        csrf,
    )
    for path in ("/p/alice", "/p/alice/preview"):
        html = browser.get(path).text
        tree = parse(html)
        assert all(s.get("type") == "application/ld+json" for s in tree.iter("script")), path
        assert (
            "<script>alert" not in html and "<img src=x" not in html and "<svg onload" not in html
        )


def test_a_stolen_cookie_is_dead_after_sign_out_and_no_session_is_fixed(
    editor: tuple[Editor, sites.Site],
) -> None:
    running, _ = editor
    browser = running.browser()
    browser.get("/sign-in")
    before = dict(browser.http.cookies)
    browser.sign_in("alice@example.com", PASSWORD)
    session = browser.http.cookies.get("lg_session")
    assert session and session not in before.values()  # issued at sign-in, never before
    thief = running.browser()
    thief.http.cookies.set("lg_session", session)
    assert thief.get("/p/alice").status_code == 200
    assert browser.post("/sign-out", {}, browser.token("/")).status_code == 303
    assert thief.get("/p/alice").status_code == 303  # back to the sign-in page
    forged = running.browser()
    forged.http.cookies.set("lg_session", session[:-3] + "abc")
    assert forged.get("/").status_code == 303


def test_twenty_wrong_passwords_are_slowed_down(editor: tuple[Editor, sites.Site]) -> None:
    running, _ = editor
    browser = running.browser()
    statuses = [browser.sign_in("alice@example.com", f"wrong password {n}") for n in range(20)]
    codes = [answer.status_code for answer in statuses]
    assert codes[:5] == [401] * 5 and codes[-1] == 429
    assert int(statuses[-1].headers["Retry-After"]) >= 1
    refused = browser.sign_in("alice@example.com", PASSWORD)  # the right one, too soon
    assert refused.status_code == 429 and "try again in" in refused.text


def test_errors_show_next_to_the_field_and_keep_the_typing(
    editor: tuple[Editor, sites.Site],
) -> None:
    running, site = editor
    browser = signed_in(running)
    csrf, version = editing(browser, site)
    bad = browser.post(
        "/p/alice/links",
        {"title": "Evil", "url": "javascript:alert(1)", "version": version},
        csrf,
    )
    assert bad.status_code == 400
    assert re.search(r'<input id="url"[^>]* name="url" value="javascript:alert\(1\)"', bad.text)
    # Between the label and the field, which points at it and opens focused.
    assert re.search(
        r'</label>\s*<p class="error" id="url-error">[^<]*scheme[^<]*</p>\s*'
        r'<input id="url" aria-invalid="true" aria-describedby="url-error" autofocus',
        bad.text,
    )
    assert [link.title for link in site.content.get("alice").links] == ["Shop"]


def test_a_save_from_a_stale_tab_is_refused_and_keeps_the_text(
    editor: tuple[Editor, sites.Site],
) -> None:
    running, site = editor
    first, second = signed_in(running), signed_in(running)
    version = str(site.content.get("alice").version)
    csrf1, csrf2 = first.token("/p/alice"), second.token("/p/alice")
    fields = {"bio": "", "theme": "default", "version": version}
    assert (
        first.post("/p/alice/profile", {**fields, "display_name": "First"}, csrf1).status_code
        == 303
    )
    stale = second.post("/p/alice/profile", {**fields, "display_name": "Second tab"}, csrf2)
    assert stale.status_code == 409 and "changed elsewhere" in stale.text
    assert 'value="Second tab"' in stale.text  # nothing typed is lost
    assert site.content.get("alice").display_name == "First"


def test_every_page_carries_the_security_headers(editor: tuple[Editor, sites.Site]) -> None:
    running, _ = editor
    browser = signed_in(running)
    for path in ("/sign-in", "/", "/p/alice"):
        headers = browser.get(path).headers
        policy = headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in policy and "unsafe-inline" not in policy, path
        assert "script-src" not in policy and "default-src 'none'" in policy  # no script at all
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"
    preview = browser.get("/p/alice/preview").headers["Content-Security-Policy"]
    assert "frame-ancestors 'self'" in preview and "script" not in preview
    cookie = next(c for c in browser.http.cookies if c.name == "lg_session")
    assert (
        cookie.has_nonstandard_attr("HttpOnly") and cookie.get_nonstandard_attr("SameSite") == "lax"
    )


def png_bytes(size: tuple[int, int] = (300, 300)) -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", size, "teal").save(out, format="PNG")
    return out.getvalue()


def upload(
    browser: Browser, site: sites.Site, name: str, data: bytes, to: str = "/p/alice/pictures/avatar"
) -> requests.Response:
    csrf, version = editing(browser, site)
    return browser.http.post(
        browser.url + to,
        data={"csrf": csrf, "version": version},
        files={"image": (name, data, "application/octet-stream")},
        allow_redirects=False,
        timeout=30,
    )


def test_a_picture_upload_is_checked_and_a_bad_one_stores_nothing(
    editor: tuple[Editor, sites.Site],
) -> None:
    running, site = editor
    browser = signed_in(running)
    broken = upload(browser, site, "me.jpg", png_bytes()[:200])
    assert broken.status_code == 400 and "damaged" in broken.text
    fake = upload(browser, site, "me.png", b"<svg onload=alert(1)>")
    assert fake.status_code == 400 and "not an image" in fake.text
    huge = upload(browser, site, "huge.png", b"\0" * (16 * 1024 * 1024))
    assert huge.status_code == 413 and "over 15 MB" in huge.text
    assert site.content.get("alice").avatar is None and not site.media_dir.exists()
    good = upload(browser, site, "me.png", png_bytes())
    assert good.status_code == 303
    avatar = site.content.get("alice").avatar
    assert avatar and (site.media_dir / avatar[4:]).is_file()
    assert browser.get(avatar).headers["content-type"] == "image/webp"


def test_changing_the_password_signs_out_everywhere(editor: tuple[Editor, sites.Site]) -> None:
    running, _ = editor
    here, elsewhere = signed_in(running), signed_in(running)
    csrf = here.token("/password")
    wrong = here.post(
        "/password", {"current": "not it at all", "new": "a brand new password"}, csrf
    )
    assert wrong.status_code == 400 and "not your current password" in wrong.text
    short = here.post("/password", {"current": PASSWORD, "new": "short"}, csrf)
    assert short.status_code == 400 and "at least 12 characters" in short.text
    done = here.post("/password", {"current": PASSWORD, "new": "a brand new password"}, csrf)
    assert done.status_code == 303
    assert here.get("/").status_code == 303 and elsewhere.get("/").status_code == 303
    fresh = running.browser()
    assert fresh.sign_in("alice@example.com", "a brand new password").status_code == 303


def test_the_history_shows_who_changed_what_and_undo_steps_back(
    editor: tuple[Editor, sites.Site],
) -> None:
    running, site = editor
    browser = signed_in(running)
    csrf, version = editing(browser, site)
    fields = {"display_name": "Renamed", "bio": "", "theme": "default", "version": version}
    browser.post("/p/alice/profile", fields, csrf)
    page = browser.get("/p/alice").text
    assert "alice@example.com (editor)" in page
    assert browser.post("/p/alice/undo", {}, csrf).status_code == 303
    assert site.content.get("alice").display_name == "Alice"


def test_a_link_is_edited_in_its_own_form(editor: tuple[Editor, sites.Site]) -> None:
    running, site = editor
    browser = signed_in(running)
    link = site.content.get("alice").links[0]
    path = f"/p/alice/links/{link.id}"
    csrf, version = editing(browser, site, path)
    fields = {"title": "Shop", "url": "shop.example.com", "icon": "", "version": version}
    bad = browser.post(path, {**fields, "icon": "youtub", "sensitive": ""}, csrf)
    assert bad.status_code == 400 and "did you mean youtube" in bad.text
    assert 'value="youtub"' in bad.text  # the typing is kept
    backwards = {**fields, "starts_at": "2030-01-02T10:00", "ends_at": "2030-01-01T10:00"}
    refused = browser.post(path, backwards, csrf)
    assert refused.status_code == 400 and "ends_at must be later than starts_at" in refused.text
    scheduled = {**fields, "starts_at": "2030-01-01T09:30", "ends_at": "2030-01-02T09:30"}
    saved = browser.post(path, {**scheduled, "sensitive": "18+", "social": "on"}, csrf)
    assert saved.status_code == 303
    after = site.content.get("alice").links[0]
    assert (after.sensitive, after.social, after.url) == ("18+", True, "https://shop.example.com/")
    assert f"{after.starts_at:%Y-%m-%dT%H:%M%z}" == "2030-01-01T09:30+0000"
    assert 'value="2030-01-02T09:30"' in browser.get(path).text
    assert browser.get(f"/p/bob/links/{site.content.get('bob').links[0].id}").status_code == 404


def test_own_colours_are_checked_for_contrast_and_errors_keep_the_form(
    editor: tuple[Editor, sites.Site],
) -> None:
    running, site = editor
    browser = signed_in(running)
    csrf, version = editing(browser, site)
    form = {"display_name": "Alice", "bio": "", "theme": "default", "version": version}
    form.update(background="#ffffff", text="#aaaaaa", button="", button_text="")
    refused = browser.post("/p/alice/profile", form, csrf)
    assert refused.status_code == 400 and "contrast 2.32:1" in refused.text
    assert 'value="#aaaaaa"' in refused.text and site.content.get("alice").style.text is None
    saved = browser.post("/p/alice/profile", {**form, "text": "#222222", "font": "serif"}, csrf)
    assert saved.status_code == 303
    style = site.content.get("alice").style
    assert (style.text, style.font, style.button_shape) == ("#222222", "serif", None)


def test_the_page_language_is_chosen_in_the_profile_form(
    editor: tuple[Editor, sites.Site],
) -> None:
    running, site = editor
    browser = signed_in(running)
    csrf, version = editing(browser, site)
    form = browser.get("/p/alice").text
    assert (
        '<option value="ja">日本語</option>' in form
        and '<option value="ar">العربية</option>' in form
    )
    fields = {"display_name": "Alice", "bio": "", "theme": "default", "version": version}
    refused = browser.post("/p/alice/profile", {**fields, "language": "elvish"}, csrf)
    assert refused.status_code == 400 and "is not a language linkgen knows" in refused.text
    assert 'value="elvish"' in refused.text and site.content.get("alice").language is None
    assert (
        browser.post("/p/alice/profile", {**fields, "language": "pt-br"}, csrf).status_code == 303
    )
    assert site.content.get("alice").language == "pt-BR"
    preview = browser.get("/p/alice/preview").text
    assert '<html lang="pt-BR">' in preview
    version = str(site.content.get("alice").version)
    cleared = browser.post("/p/alice/profile", {**fields, "version": version, "language": ""}, csrf)
    assert cleared.status_code == 303 and site.content.get("alice").language is None


def test_the_qr_code_offered_is_the_one_the_build_wrote(
    editor: tuple[Editor, sites.Site],
) -> None:
    from linkgen.build import build
    from linkgen.pages.qr import qr_name

    running, site = editor
    browser = signed_in(running)
    assert "/p/alice/qr.svg" in browser.get("/p/alice").text
    before_build = browser.get("/p/alice/qr.svg")  # made on the spot until a build has one
    assert before_build.status_code == 200
    assert before_build.headers["content-type"] == "image/svg+xml"
    assert "<title>http://127.0.0.1:8000/alice</title>" in before_build.text
    build(site)
    built = site.build_dir / "_m" / qr_name("http://127.0.0.1:8000/alice")
    assert browser.get("/p/alice/qr.svg").content == built.read_bytes() == before_build.content
    png = browser.get("/p/alice/qr.png")  # for print, read back as a phone camera would
    assert png.headers["content-type"] == "image/png"
    picture = site.root / "alice-qr.png"
    picture.write_bytes(png.content)
    assert decode(picture) == "http://127.0.0.1:8000/alice"
    assert browser.get("/p/alice/qr.gif").status_code == 404


def test_a_background_picture_is_checked_for_readable_text_and_can_be_removed(
    editor: tuple[Editor, sites.Site],
) -> None:
    running, site = editor
    browser = signed_in(running)
    to = "/p/alice/pictures/background"
    csrf, version = editing(browser, site)
    mint = {"csrf": csrf, "version": version, "display_name": "Alice", "theme": "mint"}
    assert browser.post("/p/alice/profile", mint).status_code == 303
    # mint's muted teal is too close to what a dark picture makes of its veil
    refused = upload(browser, site, "night.png", png_bytes((800, 600)), to)
    assert refused.status_code == 400 and "background image (its darkest)" in refused.text
    assert site.content.get("alice").style.background_image is None
    csrf, version = editing(browser, site)
    ocean = {"csrf": csrf, "version": version, "display_name": "Alice", "theme": "ocean"}
    assert browser.post("/p/alice/profile", ocean).status_code == 303
    assert upload(browser, site, "beach.png", png_bytes((800, 600)), to).status_code == 303
    image = site.content.get("alice").style.background_image
    assert image and (site.media_dir / image[4:]).is_file()
    preview = browser.get("/p/alice/preview").text
    assert f'url("{image}")' in preview  # from the editor itself, before it is published
    assert browser.get(image).headers["content-type"] == "image/webp"
    csrf, version = editing(browser, site)
    removed = browser.post(to, {"csrf": csrf, "version": version, "remove": "1"})
    assert removed.status_code == 303
    assert site.content.get("alice").style.background_image is None


def test_a_link_thumbnail_is_uploaded_checked_and_removed(
    editor: tuple[Editor, sites.Site],
) -> None:
    running, site = editor
    browser = signed_in(running)
    link = site.content.get("alice").links[0]
    to = f"/p/alice/links/{link.id}/thumbnail"
    assert 'id="thumbnail"' in browser.get(f"/p/alice/links/{link.id}").text
    broken = upload(browser, site, "shop.png", png_bytes()[:150], to)
    assert broken.status_code == 400 and "damaged" in broken.text
    assert site.content.get("alice").links[0].thumbnail is None
    assert upload(browser, site, "shop.png", png_bytes(), to).status_code == 303
    thumbnail = site.content.get("alice").links[0].thumbnail
    assert thumbnail and thumbnail.endswith(".webp")
    assert f'src="{thumbnail}"' in browser.get("/p/alice/preview").text
    csrf, version = editing(browser, site, f"/p/alice/links/{link.id}")
    removed = browser.post(to, {"csrf": csrf, "version": version, "remove": "1"})
    assert removed.status_code == 303 and site.content.get("alice").links[0].thumbnail is None
    bobs = f"/p/bob/links/{site.content.get('bob').links[0].id}/thumbnail"
    assert upload(browser, site, "x.png", png_bytes(), bobs).status_code == 404


def test_the_status_says_when_no_worker_will_publish_the_edit(
    editor: tuple[Editor, sites.Site],
) -> None:
    from linkgen.publish.worker import worker_lock

    running, site = editor
    browser = signed_in(running)
    assert site.outbox.waiting(site.content.get("alice").id)  # made by the fixture, not published
    idle = browser.get("/p/alice/status").text
    assert "no worker is running for this site" in idle and "linkgen up" in idle
    with worker_lock(site.root):  # a worker holds the site's lock
        assert "Publishing version" in browser.get("/p/alice/status").text
    assert "no worker is running" in browser.get("/p/alice/status").text


def test_the_stats_page_links_back_and_says_when_nothing_is_counted(
    editor: tuple[Editor, sites.Site],
) -> None:
    running, _site = editor
    page = signed_in(running).get("/p/alice/stats").text
    assert '<a href="/p/alice">← Back to @alice</a>' in page
    assert "Nothing is counted yet" in page and "linkgen up" in page


def test_after_a_conflict_on_a_link_saving_it_again_works(
    editor: tuple[Editor, sites.Site],
) -> None:
    running, site = editor
    browser = signed_in(running)
    link = site.content.get("alice").links[0].id
    form_page = browser.get(f"/p/alice/links/{link}").text
    old = re.search(r'name="version" value="(\d+)"', form_page).group(1)  # type: ignore[union-attr]
    site.content.update_profile("alice", ProfileFields(bio="changed in another tab"))
    fields = {"title": "Shop (new)", "url": "https://shop.example.com/new", "version": old}
    token = browser.token(f"/p/alice/links/{link}")
    refused = browser.post(f"/p/alice/links/{link}", fields, token)
    assert refused.status_code == 409 and "Save it again" in refused.text
    assert 'value="Shop (new)"' in refused.text  # the typed text kept
    fresh = re.search(r'name="version" value="(\d+)"', refused.text).group(1)  # type: ignore[union-attr]
    assert fresh != old
    again = browser.post(f"/p/alice/links/{link}", {**fields, "version": fresh}, token)
    assert again.status_code == 303
    assert site.content.get("alice").links[0].title == "Shop (new)"


def test_every_id_on_an_editor_page_is_unique_and_names_are_isolated(
    editor: tuple[Editor, sites.Site],
) -> None:
    running, site = editor
    browser = signed_in(running)
    link = site.content.get("alice").links[0].id
    for path in ("/", "/p/alice", f"/p/alice/links/{link}", "/password"):
        ids = [
            element.get("id")
            for element in parse(browser.get(path).text).iter()
            if element.get("id")
        ]
        assert len(ids) == len(set(ids)), (path, sorted(i for i in ids if ids.count(i) > 1))
    assert (
        "<bdi>Alice</bdi>" in browser.get("/").text
    )  # a right-to-left name cannot scramble the line


def test_the_link_list_marks_each_state_and_an_action_returns_to_its_link(
    editor: tuple[Editor, sites.Site],
) -> None:
    import datetime as dt

    from linkgen.models import NewLink, validate

    running, site = editor
    now = dt.datetime.now(dt.UTC)
    for title, extra in (
        ("Later", {"starts_at": now + dt.timedelta(days=3)}),
        ("Over", {"ends_at": now - dt.timedelta(days=1), "starts_at": now - dt.timedelta(days=2)}),
        ("Off", {"enabled": False}),
    ):
        link = {"title": title, "url": "https://example.com/x", **extra}
        site.content.add_link("alice", validate(NewLink, link, strict=False))
    browser = signed_in(running)
    page = browser.get("/p/alice").text
    assert 'Your page: <a href="http://127.0.0.1:8000/alice">' in page
    states = re.findall(r"<bdi>([^<]+)</bdi></a> <span class=\"state state-(\w+)\">", page)
    assert states == [
        ("Shop", "live"),
        ("Later", "scheduled"),
        ("Over", "ended"),
        ("Off", "hidden"),
    ]
    assert 'action="/p/alice/profile#fields"' in page and 'action="/p/alice/links#add-link"' in page
    off = site.content.get("alice").links[3].id
    csrf, version = editing(browser, site)
    moved = browser.post(f"/p/alice/links/{off}/top", {"version": version}, csrf)
    assert moved.status_code == 303 and moved.headers["Location"].endswith(f"#link-{off}")
    assert site.content.get("alice").links[0].id == off  # moved to the top in one step
    assert f'id="link-{off}"' in browser.get("/p/alice").text


def test_an_admin_creates_a_profile_from_the_editor_and_a_creator_cannot(
    editor: tuple[Editor, sites.Site],
) -> None:
    running, site = editor
    _, token = site.accounts.add_user("root@example.com", [], admin=True)
    site.accounts.set_password_with_link(token, PASSWORD)
    admin = signed_in(running, "root@example.com")
    home = admin.get("/").text
    assert 'action="/profiles#new-profile"' in home
    csrf = admin.token("/")
    taken = admin.post("/profiles", {"username": "alice"}, csrf)
    assert taken.status_code == 400 and "is taken" in taken.text and 'value="alice"' in taken.text
    bad = admin.post("/profiles", {"username": "Ünïcode"}, csrf)
    assert bad.status_code == 400 and 'class="error"' in bad.text
    made = admin.post("/profiles", {"username": "carol"}, csrf)
    assert made.status_code == 303 and made.headers["Location"].startswith("/p/carol")
    assert site.content.get("carol").username == "carol"
    assert site.content.history("carol")[0].actor == "root@example.com (editor)"
    creator = signed_in(running)
    assert "New profile" not in creator.get("/").text
    assert creator.post("/profiles", {"username": "dave"}, creator.token("/")).status_code == 404
    assert not site.content.exists("dave")


def test_schedules_are_shown_and_read_in_the_accounts_time_zone(
    editor: tuple[Editor, sites.Site],
) -> None:
    running, site = editor
    browser = signed_in(running)
    csrf = browser.token("/password")
    wrong = browser.post("/account/time-zone", {"time_zone": "Mars/Olympus"}, csrf)
    assert wrong.status_code == 400 and "is not a time zone" in wrong.text
    assert (
        browser.post("/account/time-zone", {"time_zone": "Europe/Berlin"}, csrf).status_code == 303
    )
    link = site.content.get("alice").links[0].id
    form = browser.get(f"/p/alice/links/{link}").text
    assert "Show from (Europe/Berlin; empty: now)" in form
    csrf, version = editing(browser, site, f"/p/alice/links/{link}")
    fields = {"title": "Shop", "url": "https://shop.example.com", "version": version}
    saved = browser.post(
        f"/p/alice/links/{link}", {**fields, "starts_at": "2030-12-05T09:00"}, csrf
    )
    assert saved.status_code == 303
    stored = site.content.get("alice").links[0].starts_at
    assert stored is not None and stored.isoformat() == "2030-12-05T08:00:00+00:00"  # CET = UTC+1
    assert 'value="2030-12-05T09:00"' in browser.get(f"/p/alice/links/{link}").text
    assert "from 2030-12-05 09:00 CET" in browser.get("/p/alice").text
