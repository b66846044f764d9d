"""The history line of an edit says what really changed."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from linkgen.models import Link, Profile, Style
from linkgen.store.changes import summarize

AT = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def link(link_id: str, title: str, **fields: Any) -> Link:
    return Link(
        id=link_id, position=1, title=title, url=f"https://example.com/{link_id}",
        created_at=AT, updated_at=AT, **fields,
    )  # fmt: skip


def profile(*links: Link, **fields: Any) -> Profile:
    values: dict[str, Any] = {"id": "p1", "username": "ada", "theme": "default", "version": 1}
    return Profile(**{**values, **fields}, created_at=AT, updated_at=AT, links=links)


def test_creating_and_deleting_say_so() -> None:
    ada = profile(link("l1", "Shop"), link("l2", "Blog"))
    assert summarize(None, ada) == "created @ada"
    assert summarize(ada, None) == "deleted @ada (2 links)"


def test_each_changed_profile_field_is_named_with_old_and_new() -> None:
    before = profile(display_name="Ada", bio="old bio")
    after = profile(display_name="Ada L.", bio="old bio", theme="midnight")
    assert summarize(before, after) == (
        "display_name: 'Ada' → 'Ada L.'; theme: 'default' → 'midnight'"
    )


def test_every_field_a_creator_can_change_is_in_the_summary() -> None:
    before = profile()
    changed = {
        "username": "ada-l",
        "display_name": "Ada",
        "bio": "Poet",
        "avatar": "/_m/a.webp",
        "theme": "midnight",
        "style": Style(button="#1d3fbb"),
        "sensitive": "18+",
        "social_image": "/_m/card.jpg",
        "seo_title": "Ada",
        "seo_description": "About Ada",
    }
    for field, value in changed.items():
        line = summarize(before, profile(**{field: value}))
        assert line.startswith(f"{field}: "), (field, line)


def test_unset_values_and_styles_read_plainly() -> None:
    assert summarize(profile(), profile(avatar="/_m/a.webp")) == "avatar: (none) → '/_m/a.webp'"
    assert (
        summarize(profile(), profile(style=Style(button="#1d3fbb")))
        == "style: (none) → button=#1d3fbb"
    )


def test_long_text_is_cut_in_the_summary() -> None:
    line = summarize(profile(), profile(bio="x" * 300))
    assert line == f"bio: (none) → '{'x' * 39}…'"


def test_links_added_removed_changed_and_moved() -> None:
    shop, blog, mail = link("l1", "Shop"), link("l2", "Blog"), link("l3", "Mail")
    before = profile(shop, blog)
    assert summarize(before, profile(shop, blog, mail)) == "added link 'Mail' (l3)"
    assert summarize(before, profile(shop)) == "removed link 'Blog' (l2)"
    assert summarize(before, profile(blog, shop)) == "reordered links (2 moved)"
    hidden = shop.model_copy(update={"enabled": False, "title": "Shop!"})
    assert summarize(before, profile(hidden, blog)) == (
        "link 'Shop': title 'Shop' → 'Shop!', enabled on → off"
    )


def test_an_identical_state_is_no_change() -> None:
    ada = profile(link("l1", "Shop"), bio="same")
    assert summarize(ada, ada.model_copy()) == "no change"
