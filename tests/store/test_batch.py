"""Several link edits as one: a batch is one version, one history entry and one
undo, or nothing at all; a write inside another is a savepoint of it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from linkgen.errors import InvalidInput, NotFound
from linkgen.models import LinkChanges, NewLink, Profile, validate
from linkgen.store.content import Content, LinkOperation
from linkgen.store.profile_rows import LINK_COLUMNS, LINK_NAMES


def _new(title: str, url: str = "https://example.com") -> NewLink:
    return validate(NewLink, {"title": title, "url": url})


def test_a_batch_is_one_edit(store: Content, add_profile: Any) -> None:
    before = add_profile(
        "alice", ("Shop", "https://shop.example"), ("Blog", "https://blog.example")
    )
    shop, blog = (link.id for link in before.links)
    after, created = store.batch("alice", [
        LinkOperation("add", new=_new("News"), position=1),
        LinkOperation("move", shop, position=3),
        LinkOperation("edit", blog, changes=LinkChanges(title="Journal")),
        LinkOperation("remove", blog),
    ], expected_version=before.version)  # fmt: skip
    assert [link.title for link in after.links] == ["News", "Shop"]
    assert created[0] == after.links[0].id and created[1:] == [None, None, None]
    assert after.version == before.version + 1
    entry = store.history("alice", limit=1)[0]
    assert entry.action == "link.batch"
    assert "News" in entry.summary and "Blog" in entry.summary
    store.undo("alice")
    assert [link.id for link in store.get("alice").links] == [shop, blog]


def test_one_bad_operation_leaves_everything_as_it_was(store: Content, add_profile: Any) -> None:
    before = add_profile("alice", ("Shop", "https://shop.example"))
    operations = [LinkOperation("add", new=_new(f"L{n}")) for n in range(10)]
    operations.insert(7, LinkOperation("move", before.links[0].id, position=99))
    with pytest.raises(InvalidInput, match=r"^operations\[7\]\.position: must be between 1 and 8"):
        store.batch("alice", operations)
    assert store.get("alice") == before
    with pytest.raises(NotFound, match=r"^operations\[0\]: link 'nope'"):
        store.batch("alice", [LinkOperation("remove", "nope")])
    assert store.get("alice") == before


def test_a_write_inside_a_write_is_undone_alone_or_with_it(
    store: Content, add_profile: Any
) -> None:
    add_profile("alice")
    database = store.database
    with database.writing():
        _, kept = store.add_link("alice", _new("Kept"))
        with pytest.raises(InvalidInput):  # its first step was written, then taken back
            store.batch("alice", [LinkOperation("add", new=_new("Refused")),
                                  LinkOperation("move", kept.id, position=9)])  # fmt: skip
        assert database.conn.in_transaction
    assert [link.title for link in store.get("alice").links] == ["Kept"]
    with pytest.raises(RuntimeError), database.writing():
        store.add_link("alice", _new("Gone"))
        raise RuntimeError("the outer work failed")
    assert [link.title for link in store.get("alice").links] == ["Kept"]
    assert not database.conn.in_transaction


def test_a_profile_is_read_as_the_models_would_have_checked_it(
    store: Content, add_profile: Any
) -> None:
    """Rows are built into models without the rules run again: the result must be
    what validating them gives, field for field and in JSON."""
    from linkgen.models import ProfileFields, Style

    add_profile("alice", ("Shop", "https://shop.example"), ("Mail", "mailto:a@example.com"),
                display_name="Alice", bio="two\\nlines")  # fmt: skip
    store.update_profile("alice", ProfileFields(
        style=Style(background="#fafafa", font="serif"), sensitive="18+", language="ja",
        seo_title="Alice's links",
    ))  # fmt: skip
    link = store.get("alice").links[1]
    store.edit_link("alice", link.id, validate(LinkChanges, {
        "starts_at": "2030-01-01T09:00:00+02:00", "ends_at": "2030-02-01T00:00:00Z",
        "sensitive": "sensitive", "icon": "none", "enabled": False, "social": True,
        "rules": [{"url": "https://shop.example/de", "country": ["DE"], "device": ["ios"]},
                  {"url": "https://shop.example/x", "starts_at": "2030-01-01T00:00:00Z",
                   "language": ["pt-br"]}],
    }, strict=False))  # fmt: skip
    store.add_link("alice", validate(NewLink, {"kind": "contact", "contact": {
        "name": "Alice A.", "email": "a@example.com", "phone": "+1 555 123 4567"}}))  # fmt: skip
    store.add_link("alice", validate(NewLink, {"kind": "text", "body": "one\ntwo"}))
    store.add_link("alice", validate(NewLink, {
        "title": "Clip", "url": "https://youtu.be/dQw4w9WgXcQ", "embed": True}))  # fmt: skip
    rows = store.rows
    row = rows.row("alice")
    fast = rows.load(row)

    def as_stored(values: tuple[Any, ...]) -> dict[str, Any]:
        fields = dict(zip(LINK_NAMES, values, strict=True))
        fields.update({name: bool(fields[name]) for name in ("enabled", "social", "embed")})
        return fields | {"contact": json.loads(fields["contact"] or "null"),
                         "rules": json.loads(fields["rules"] or "[]")}  # fmt: skip

    stored = dict(row, style=json.loads(row["style"]), links=[
        as_stored(values) for values in rows.database.conn.execute(
            f"SELECT {LINK_COLUMNS} FROM links WHERE profile_id = ? ORDER BY position",
            (row["id"],),
        )
    ])  # fmt: skip
    stored.pop("content_hash")
    checked = Profile.model_validate(stored, strict=False)  # every rule run on the rows
    assert fast == checked
    assert fast.model_dump_json() == checked.model_dump_json()
    assert fast.links[1].starts_at == checked.links[1].starts_at
    assert fast.links[1].starts_at is not None and fast.links[1].starts_at.utcoffset().seconds == 0
