"""Blocks in the web editor: added from the profile page, each edited in a form of
its kind, a link made an embed or the featured one, refusals shown where typed."""

from __future__ import annotations

from linkgen import site as sites
from tests.support.editor import Editor, signed_in


def test_blocks_are_added_edited_and_listed_in_the_editor(
    editor: tuple[Editor, sites.Site],
) -> None:
    running, site = editor
    browser = signed_in(running)

    def version() -> str:
        return str(site.content.get("alice").version)

    csrf = browser.token("/p/alice")
    empty = browser.post("/p/alice/blocks", {"kind": "header", "text": "", "version": version()},
                         csrf)  # fmt: skip
    assert empty.status_code == 400 and "a header needs a title" in empty.text
    assert 'id="block-text-error"' in empty.text  # at the block form, not the link form
    for kind, text in (("header", "Merch"), ("text", "Two\r\nlines"), ("divider", ""),
                       ("group", "Tour"), ("contact", "Alice Example"),
                       ("signup", "My letter")):  # fmt: skip
        added = browser.post("/p/alice/blocks", {"kind": kind, "text": text, "version": version()},
                             csrf)  # fmt: skip
        assert added.status_code == 303, added.text
    items = site.content.get("alice").links
    assert [item.kind for item in items] == ["link", "header", "text", "divider", "group",
                                             "contact", "signup"]  # fmt: skip
    signup = browser.get(f"/p/alice/links/{items[6].id}").text
    assert "What visitors sign up for" in signup and 'value="My letter"' in signup
    assert items[2].body == "Two\nlines"
    page = browser.get("/p/alice").text
    assert '<span class="kind">header</span> <bdi>Merch</bdi>' in page
    assert "contact block" in page
    contact = items[5]
    path = f"/p/alice/links/{contact.id}"
    form = browser.get(path).text
    assert 'name="email"' in form and 'name="url"' not in form and "Thumbnail" not in form
    token = browser.token(path)
    card = {"name": "Alice Example", "email": "nope", "phone": "", "organisation": "",
            "site": "", "starts_at": "", "ends_at": "", "version": version()}  # fmt: skip
    refused = browser.post(path, card, token)
    assert refused.status_code == 400 and "is not an e-mail address" in refused.text
    assert 'value="nope"' in refused.text  # the typing is kept
    saved = browser.post(path, {**card, "email": "alice@example.com", "phone": "+1 555 0100"},
                         token)  # fmt: skip
    assert saved.status_code == 303
    stored = site.content.get("alice").links[5].contact
    assert stored is not None and (stored.email, stored.phone) == ("alice@example.com", "+15550100")
    shop = items[0]
    path = f"/p/alice/links/{shop.id}"
    fields = {"title": "Clip", "url": "https://youtu.be/dQw4w9WgXcQ", "icon": "", "sensitive": "",
              "starts_at": "", "ends_at": "", "embed": "on", "version": version()}  # fmt: skip
    assert browser.post(path, fields, browser.token(path)).status_code == 303
    assert site.content.get("alice").links[0].embed
    header = items[1]
    path = f"/p/alice/links/{header.id}"
    renamed = {"title": "Shop", "starts_at": "", "ends_at": "", "version": version()}
    assert browser.post(path, renamed, browser.token(path)).status_code == 303
    assert site.content.get("alice").links[1].title == "Shop"
    preview = browser.get("/p/alice/preview").text
    assert (
        '<h2 class="section" dir="auto">Shop</h2>' in preview and 'class="embed video"' in preview
    )
