"""The store: edits, limits, optimistic concurrency, history, undo, outbox."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

import pytest

from linkgen import site as sites
from linkgen.errors import (
    Conflict,
    InvalidInput,
    LimitReached,
    NotFound,
    NothingToUndo,
    StaleEdit,
)
from linkgen.models import LinkChanges, NewLink, NewProfile, ProfileFields, validate
from linkgen.store.content import Content


def link(title: str = "Shop", url: str = "https://example.com/shop") -> NewLink:
    return validate(NewLink, {"title": title, "url": url})


def counts(store: Content) -> tuple[int, int, int, int]:
    return tuple(  # type: ignore[return-value]
        store.database.conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        for table in ("profiles", "links", "history", "outbox")
    )


def test_a_new_profile_has_defaults_and_a_stable_random_id(store: Content) -> None:
    created = store.create_profile(validate(NewProfile, {"username": "Alice"}))
    assert created.username == "alice"
    assert created.theme == "default"
    assert created.version == 1
    assert len(created.id) == 12 and created.id.isalnum()
    store.rename_profile("alice", "alice2")
    assert store.get("alice2").id == created.id


def test_usernames_are_unique_case_insensitively(store: Content) -> None:
    store.create_profile(validate(NewProfile, {"username": "alice"}))
    with pytest.raises(Conflict, match="'alice' is taken"):
        store.create_profile(validate(NewProfile, {"username": "ALICE"}))


def test_unknown_theme_is_refused_with_the_known_ones(store: Content) -> None:
    known = r"theme: no theme 'nope' \(known: aurora, auto, .*default, .*midnight"
    with pytest.raises(InvalidInput, match=known):
        store.create_profile(validate(NewProfile, {"username": "alice", "theme": "nope"}))


def test_links_are_added_moved_edited_and_removed(store: Content, add_profile: Any) -> None:
    add_profile("alice", ("One", "https://one.example"), ("Two", "https://two.example"))
    _, third = store.add_link("alice", link("Three"), position=1)
    assert [lk.title for lk in store.get("alice").links] == ["Three", "One", "Two"]
    store.move_link("alice", third.id, 3)
    assert [lk.title for lk in store.get("alice").links] == ["One", "Two", "Three"]
    _, edited = store.edit_link("alice", third.id, LinkChanges(title="3", enabled=False))
    assert (edited.title, edited.enabled, edited.url) == ("3", False, "https://example.com/shop")
    store.remove_link("alice", store.get("alice").links[0].id)
    assert [(lk.title, lk.position) for lk in store.get("alice").links] == [("Two", 1), ("3", 2)]


def test_the_link_cap_refuses_the_51st_link_and_writes_nothing(store: Content) -> None:
    store.create_profile(validate(NewProfile, {"username": "alice"}))
    for n in range(50):
        store.add_link("alice", link(f"L{n}"))
    before = counts(store)
    with pytest.raises(LimitReached, match="already has 50 links, the limit is 50"):
        store.add_link("alice", link("one too many"))
    assert counts(store) == before


def test_schedule_must_end_after_it_starts(store: Content, add_profile: Any) -> None:
    profile = add_profile("alice", ("Sale", "https://example.com"))
    with pytest.raises(InvalidInput, match=r"^ends_at must be later than starts_at$"):
        validate(
            LinkChanges,
            {"starts_at": "2026-12-02T00:00:00Z", "ends_at": "2026-12-01T00:00:00Z"},
            strict=False,
        )
    one_sided = validate(LinkChanges, {"ends_at": "2020-01-01T00:00:00Z"}, strict=False)
    store.edit_link("alice", profile.links[0].id, one_sided)
    with pytest.raises(InvalidInput, match="ends_at must be later"):
        store.edit_link(
            "alice",
            profile.links[0].id,
            validate(LinkChanges, {"starts_at": "2021-01-01T00:00:00Z"}, strict=False),
        )


def test_a_stale_edit_is_refused_and_loses_nothing(store: Content, add_profile: Any) -> None:
    add_profile("alice", bio="first")
    tab_one = store.get("alice").version
    tab_two = store.get("alice").version
    store.update_profile("alice", ProfileFields(bio="saved by tab one"), expected_version=tab_one)
    with pytest.raises(StaleEdit, match="changed since version 1 \\(now version 2\\)"):
        store.update_profile("alice", ProfileFields(bio="tab two"), expected_version=tab_two)
    assert store.get("alice").bio == "saved by tab one"


def test_an_edit_that_changes_nothing_is_not_recorded(store: Content, add_profile: Any) -> None:
    add_profile("alice", bio="same")
    before = counts(store)
    unchanged = store.update_profile("alice", ProfileFields(bio="same"))
    assert unchanged.version == 1
    assert counts(store) == before


def test_history_says_what_changed_and_undo_walks_back(store: Content, add_profile: Any) -> None:
    add_profile("alice", bio="v1")
    store.update_profile("alice", ProfileFields(bio="v2", theme="midnight"))
    _, added = store.add_link("alice", link("Shop"))
    entries = store.history("alice")
    assert [e.action for e in entries] == ["link.add", "profile.set", "profile.add"]
    assert "bio: 'v1' → 'v2'" in entries[1].summary
    assert "theme: 'default' → 'midnight'" in entries[1].summary
    assert f"added link 'Shop' ({added.id})" in entries[0].summary

    assert "link.add" in store.undo("alice")
    assert store.get("alice").links == ()
    assert "profile.set" in store.undo("alice")
    restored = store.get("alice")
    assert (restored.bio, restored.theme) == ("v1", "default")
    assert restored.version == 5  # versions only go forward
    assert "profile.add" in store.undo("alice")
    with pytest.raises(NotFound):
        store.get("alice")


def test_undo_brings_back_a_deleted_profile_with_its_ids(store: Content, add_profile: Any) -> None:
    original = add_profile("alice", ("Shop", "https://example.com"), bio="hello")
    store.delete_profile("alice")
    with pytest.raises(NotFound):
        store.get("alice")
    assert "profile.rm" in store.undo("alice")
    back = store.get("alice")
    assert back.id == original.id
    assert [lk.id for lk in back.links] == [lk.id for lk in original.links]
    assert back.bio == "hello"


def test_undo_refuses_when_the_username_was_taken_since(store: Content, add_profile: Any) -> None:
    add_profile("alice")
    store.delete_profile("alice")
    add_profile("alice")
    with pytest.raises(NothingToUndo):
        store.undo("bob")
    store.delete_profile("alice")
    add_profile("alice")
    with pytest.raises(NotFound):
        store.history("nobody")


def test_ids_are_never_reused(store: Content, add_profile: Any) -> None:
    profile = add_profile("alice", ("Shop", "https://example.com"))
    store.delete_profile("alice")
    issued = {row[0] for row in store.database.conn.execute("SELECT id FROM issued_ids")}
    assert profile.id in issued and profile.links[0].id in issued
    for n in range(20):
        fresh = add_profile(f"user{n}", ("x", "https://example.com"))
        assert fresh.id not in issued and fresh.links[0].id not in issued


def test_every_edit_queues_its_profile_for_publish_in_the_same_transaction(
    site: sites.Site, store: Content, add_profile: Any
) -> None:
    add_profile("alice")
    store.update_profile("alice", ProfileFields(bio="x"))
    (row,) = site.outbox.entries()
    assert (row["username"], row["version"], row["deleted"]) == ("alice", 2, 0)
    store.delete_profile("alice")
    (row,) = site.outbox.entries()
    assert row["deleted"] == 1


def test_a_failed_write_rolls_back_the_edit_history_and_outbox(
    store: Content, add_profile: Any
) -> None:
    add_profile("alice")
    before = counts(store)
    store.database.conn.execute(
        "CREATE TRIGGER fail BEFORE INSERT ON outbox BEGIN SELECT RAISE(ABORT, 'disk full'); END"
    )
    store.database.conn.execute(
        "CREATE TRIGGER fail2 BEFORE UPDATE ON outbox BEGIN SELECT RAISE(ABORT, 'disk full'); END"
    )
    with pytest.raises(sqlite3.IntegrityError, match="disk full"):
        store.add_link("alice", link())
    assert counts(store) == before
    assert store.get("alice").links == ()


def test_unknown_profile_and_link_are_clear_errors(store: Content, add_profile: Any) -> None:
    add_profile("alice")
    with pytest.raises(NotFound, match="no profile 'bob'"):
        store.get("bob")
    with pytest.raises(NotFound, match="link 'nope' is not a link of @alice"):
        store.remove_link("alice", "nope")
    with pytest.raises(InvalidInput, match="position: must be between 1 and 1"):
        store.add_link("alice", link(), position=5)
    _, only = store.add_link("alice", link())
    with pytest.raises(InvalidInput, match="position: must be between 1 and 1"):
        store.move_link("alice", only.id, 2)


def test_a_second_process_sees_committed_edits(store: Content, add_profile: Any) -> None:
    add_profile("alice")
    other = Content.open(store.database.path)
    other.update_profile("alice", ProfileFields(bio="from the other process"))
    assert store.get("alice").bio == "from the other process"
    other.close()


def test_concurrent_editors_get_a_stale_error_not_a_lost_update(
    store: Content, add_profile: Any
) -> None:
    add_profile("alice")
    other = Content.open(store.database.path)
    seen: Callable[[], int] = lambda: store.get("alice").version  # noqa: E731
    version = seen()
    other.update_profile("alice", ProfileFields(bio="A"), expected_version=version)
    with pytest.raises(StaleEdit):
        store.update_profile("alice", ProfileFields(bio="B"), expected_version=version)
    other.close()
