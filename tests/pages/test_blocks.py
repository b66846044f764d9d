"""Blocks among the links: what each kind takes, how a page lays them out, and
what they never become (a redirect, an edge link object, a count in stats)."""

from __future__ import annotations

from typing import Any

import html5lib
import pytest

from linkgen import site as sites
from linkgen.build import build
from linkgen.errors import InvalidInput
from linkgen.models import NewLink, ProfileExport, validate, validate_json
from linkgen.store.content import Content
from tests.support.cli import Cli

NS = {"h": "http://www.w3.org/1999/xhtml"}


def _add(store: Content, **item: Any) -> str:
    return store.add_link("alice", validate(NewLink, item))[1].id


@pytest.mark.parametrize(
    ("item", "says"),
    [
        ({"kind": "header"}, "title: a header needs a title"),
        ({"kind": "group", "title": ""}, "title: a group needs a title"),
        ({"kind": "divider", "title": "x"}, "a divider has no title"),
        ({"kind": "text"}, "body: a text block needs its text"),
        ({"kind": "header", "title": "Shop", "body": "x"}, "only a text block has a body"),
        ({"kind": "header", "title": "Shop", "url": "https://a.example"}, "has no url"),
        ({"kind": "text", "body": "x", "embed": True}, "not a link"),
        ({"kind": "contact"}, "needs its card"),
        ({"kind": "contact", "contact": {"name": ""}}, "name must not be empty"),
        ({"kind": "contact", "contact": {"name": "A", "email": "nope"}}, "not an e-mail"),
        ({"kind": "contact", "contact": {"name": "A", "url": "mailto:a@b.example"}}, "web add"),
        ({"kind": "contact", "contact": {"name": "A", "phone": "call me"}}, "phone number"),
        ({"kind": "featured", "title": "F"}, "url: a featured needs a URL"),
        ({"title": "Site", "url": "https://example.com", "embed": True}, "can be shown as an"),
        ({"kind": "text", "body": "a" * 501}, "at most 500 characters"),
    ],
)
def test_each_kind_takes_only_what_it_has(item: dict[str, Any], says: str) -> None:
    with pytest.raises(InvalidInput, match=says):
        validate(NewLink, item)


def test_one_featured_link_and_one_contact_card_per_profile(
    store: Content, add_profile: Any
) -> None:
    add_profile("alice")
    _add(store, kind="featured", title="Album", url="https://example.com/album")
    with pytest.raises(InvalidInput, match="feature one link only"):
        _add(store, kind="featured", title="Other", url="https://example.com/other")
    plain = _add(store, title="Other", url="https://example.com/other")
    with pytest.raises(InvalidInput, match="feature one link only"):
        store.edit_link("alice", plain, validate_changes(kind="featured"))
    _add(store, kind="contact", contact={"name": "Alice"})
    with pytest.raises(InvalidInput, match="one contact card only"):
        _add(store, kind="contact", contact={"name": "Alice again"})
    assert [item.kind for item in store.get("alice").links] == ["featured", "link", "contact"]


def validate_changes(**changes: Any) -> Any:
    from linkgen.models import LinkChanges

    return validate(LinkChanges, changes)


def _page(site: sites.Site, username: str = "alice") -> Any:
    document = html5lib.parse((site.build_dir / username).read_bytes(), treebuilder="etree")
    return document.find(".//h:main", NS)


def test_a_group_holds_the_items_under_it_until_the_next_header_or_divider(
    site: sites.Site, store: Content, add_profile: Any
) -> None:
    add_profile("alice", ("Top", "https://example.com/top"))
    _add(store, kind="group", title="Tour")
    _add(store, title="Berlin", url="https://example.com/berlin")
    _add(store, kind="text", body="Doors at 8.\nBring earplugs.")
    _add(store, kind="header", title="Shop")
    _add(store, title="Vinyl", url="https://example.com/vinyl")
    _add(store, kind="group", title="Old")
    _add(store, title="2019", url="https://example.com/2019")
    _add(store, kind="divider")
    _add(store, title="Bottom", url="https://example.com/bottom")
    build(site)
    items = _page(site).find("h:div[@class='items']", NS)
    shape = [(child.tag.split("}")[1], child.get("class")) for child in items]
    assert shape == [
        ("ul", "links"), ("details", "group"), ("h2", "section"), ("ul", "links"),
        ("details", "group"), ("hr", None), ("ul", "links"),
    ]  # fmt: skip
    first, second = items.findall("h:details", NS)
    assert first.get("open") is not None
    assert first.find("h:summary", NS).text == "Tour"
    assert [a.text for a in first.iter(f"{{{NS['h']}}}span")] == ["Berlin"]
    assert first.find("h:p[@class='text']", NS).text == "Doors at 8.\nBring earplugs."
    assert second.find("h:summary", NS).text == "Old"


def test_a_profile_of_links_only_keeps_its_page(site: sites.Site, add_profile: Any) -> None:
    add_profile("alice", ("Shop", "https://example.com"))
    build(site)
    main = _page(site)
    assert main.find("h:div[@class='items']", NS) is None  # no wrapper without blocks
    assert main.find("h:ul[@class='links']", NS) is not None
    assert ".items{" not in (site.build_dir / "alice").read_text()  # nor its CSS


def test_blocks_are_scheduled_and_hidden_like_links(
    site: sites.Site, store: Content, add_profile: Any
) -> None:
    add_profile("alice", ("Shop", "https://example.com"))
    _add(store, kind="header", title="Later", starts_at="2099-01-01T00:00:00Z")
    _add(store, kind="text", body="Hidden", enabled=False)
    _add(store, kind="header", title="Now")
    report = build(site)
    text = (site.build_dir / "alice").read_text()
    assert "Now" in text and "Later" not in text and "Hidden" not in text
    assert report.next_change == "2099-01-01T00:00:00Z"


def test_blocks_never_become_redirects_or_link_objects(
    site: sites.Site, run: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LINKGEN_REDIRECTOR__MODE", "edge")
    run("profile", "add", "alice")
    link = run("link", "add", "alice", "Shop", "https://example.com").stdout.strip()
    header = run("block", "add", "alice", "header", "Shop").stdout.strip()
    card = run("block", "add", "alice", "contact", "Alice", "--email", "a@example.com")
    run("build")
    objects = sorted(p.name for p in (site.root / "build" / "r").iterdir())
    assert objects == ["." + run.json("profile", "show", "alice")["id"], link]
    fresh = sites.Site.open(site.root)
    try:
        routes = fresh.routes.link_routes([fresh.content.get("alice").id])
        assert [route.link_id for route in routes] == [link]
        assert fresh.routes.owners([link, header, card.stdout.strip()]) == {
            link: fresh.content.get("alice").id
        }
    finally:
        fresh.close()


def test_blocks_are_added_edited_moved_listed_undone_and_told_in_the_history(run: Cli) -> None:
    run("profile", "add", "alice")
    run("link", "add", "alice", "Shop", "https://example.com/shop")
    run("block", "add", "alice", "header", "Merch", "--at", "1")
    run("block", "add", "alice", "text", "Line one\\nline two")
    run("block", "add", "alice", "contact", "Alice A.", "--email", "a@example.com",
        "--phone", "+1 555 0100 200")  # fmt: skip
    listed = run("link", "list", "alice").stdout
    assert "[header] Merch" in listed and "[text] Line one line two" in listed
    assert "[contact] Alice A." in listed
    run("block", "edit", "alice", "#1", "--title", "Shop")
    run("block", "edit", "alice", "Alice", "--organisation", "Alice & Co", "--email", "")
    items = run.json("link", "list", "alice")
    assert items[0]["kind"] == "header" and items[0]["title"] == "Shop"
    assert items[2]["body"] == "Line one\nline two"
    assert items[3]["contact"] == {
        "name": "Alice A.", "email": None, "phone": "+15550100200",
        "organisation": "Alice & Co", "url": None,
    }  # fmt: skip
    run("link", "mv", "alice", "#3", "--to", "1")
    assert run.json("link", "list", "alice")[0]["kind"] == "text"
    history = run("history", "alice").stdout
    assert "added header 'Merch'" in history and "added text 'Line one\\nline two'" in history
    assert "header 'Merch': title 'Merch' → 'Shop'" in history
    run("undo", "alice")
    assert run.json("link", "list", "alice")[0]["kind"] == "header"
    wrong = run("block", "edit", "alice", "#1", "--email", "x@example.com", code=2)
    assert "--email is for contact blocks; this is a header" in wrong.output


def test_blocks_travel_in_an_export_and_are_checked_on_import(
    site: sites.Site, store: Content, add_profile: Any, tmp_path: Any
) -> None:
    add_profile("alice", ("Clip", "https://youtu.be/dQw4w9WgXcQ"))
    store.edit_link("alice", store.get("alice").links[0].id, validate_changes(embed=True))
    _add(store, kind="group", title="Tour")
    _add(store, kind="contact", contact={"name": "Alice", "phone": "+15550100"})
    exported = site.exchange.export_profile("alice").model_dump_json()
    other = sites.init(tmp_path / "other")
    try:
        other.exchange.import_profile(validate_json(ProfileExport, exported))
        assert other.exchange.export_profile("alice").model_dump_json() == exported
    finally:
        other.close()
    for bad, says in [
        (exported.replace('"kind":"group","title":"Tour"', '"kind":"group","title":""'),
         "a group needs a title"),
        (exported.replace('"phone":"+15550100"', '"phone":"javascript:x"'), "phone number"),
        (exported.replace('"embed":true', '"embed":true,"social":true'), "not an icon"),
    ]:  # fmt: skip
        assert bad != exported
        with pytest.raises(InvalidInput, match=says):
            validate_json(ProfileExport, bad)
