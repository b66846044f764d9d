"""Upgrading a database from every earlier schema version keeps every row.

The fixtures (tests/store/fixtures/, written by make.py there) are small
databases as each released schema version left them.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import sqlite_utils

from linkgen.clicks.db import CLICKS, ClickStore, Event
from linkgen.errors import ConfigError
from linkgen.store.content import Content
from linkgen.store.database import Database
from linkgen.store.manifest import Manifest
from linkgen.store.migrations import CONTENT
from linkgen.store.outbox import Outbox
from linkgen.store.profile_rows import content_hash
from linkgen.store.schema import Schema, run_script

FIXTURES = Path(__file__).resolve().parent / "fixtures"
LATEST = CONTENT.steps[-1][0]


def restored(fixture: str, path: Path) -> Path:
    conn = sqlite3.connect(path)
    conn.executescript((FIXTURES / fixture).read_text())
    conn.close()
    return path


def applied(path: Path) -> list[int]:
    conn = sqlite3.connect(path)
    try:
        return [row[0] for row in conn.execute("SELECT number FROM _migrations ORDER BY number")]
    finally:
        conn.close()


def test_there_is_a_fixture_for_every_earlier_version() -> None:
    assert {p.name for p in FIXTURES.glob("content-v*.sql")} == {
        f"content-v{n}.sql" for n in range(1, LATEST)
    }
    assert sorted(p.name for p in FIXTURES.glob("clicks-v*.sql")) == [
        f"clicks-v{n}.sql" for n in range(1, CLICKS.steps[-1][0])
    ]


@pytest.mark.parametrize("version", range(1, LATEST))
def test_an_old_database_upgrades_with_its_profiles_links_and_history(
    version: int, tmp_path: Path
) -> None:
    path = restored(f"content-v{version}.sql", tmp_path / "linkgen.db")
    assert applied(path) == list(range(1, version + 1))
    content = Content.open(path)
    assert applied(path) == list(range(1, LATEST + 1))
    ada = content.get("ada")
    assert (ada.display_name, ada.bio, ada.theme) == (
        "Ada Lovelace",
        "Poet of science\nand engines",
        "midnight",
    )
    assert ada.style.button == "#1d3fbb" and ada.version == 3
    assert [(link.id, link.title, link.enabled) for link in ada.links] == [
        ("lShop0000001", "Shop", True),
        ("lBlog0000002", "Blog (hidden)", False),
    ]
    assert ada.links[0].ends_at is not None and ada.links[0].ends_at.year == 2030
    assert [(link.icon, link.social, link.sensitive) for link in ada.links] == [
        (None, False, None),
        (None, False, None),
    ]
    # The stored hash still matches: an upgrade rebuilds and republishes nothing.
    stored = content.database.conn.execute("SELECT content_hash FROM profiles").fetchone()[0]
    assert content_hash(ada) == stored
    assert [entry.action for entry in content.history("ada")] == ["profile.add"]
    assert Outbox(content.database).marks() == [("pAdaLovelace", 3, 0)]
    content.close()


@pytest.mark.parametrize("version", range(2, LATEST))
def test_the_publish_manifest_and_failed_purges_survive(version: int, tmp_path: Path) -> None:
    database = Database(restored(f"content-v{version}.sql", tmp_path / "linkgen.db"))
    manifest = Manifest(database)
    (held,) = manifest.held("s3://links/").values()
    assert (held.key, held.size, held.surrogate_keys) == ("links/ada", 1234, "p-pAdaLovelace all")
    assert manifest.count_held("s3://links/") == 1
    if version == 3:  # kept as a key purge when the queue learnt units
        assert manifest.pending_purges("key") == ["p-pAdaLovelace"]
    if version >= 4:
        assert manifest.pending_purges("path") == ["/ada"]
    database.close()


def test_an_upgraded_database_takes_edits_and_editor_accounts(tmp_path: Path) -> None:
    from linkgen.editor.accounts import Accounts

    content = Content.open(restored("content-v1.sql", tmp_path / "linkgen.db"))
    content.edit_link("ada", "lShop0000001", _changes(icon="github", social=True))
    assert content.get("ada").links[0].icon == "github"
    _, token = Accounts(content.database.conn).add_user("ada@example.com", ["pAdaLovelace"])
    assert token
    content.close()


def _changes(**fields: object) -> object:
    from linkgen.models import LinkChanges, validate

    return validate(LinkChanges, fields, strict=False)


def test_the_clicks_database_upgrades_with_its_events(tmp_path: Path) -> None:
    path = restored("clicks-v1.sql", tmp_path / "clicks.db")
    store = ClickStore(path)
    (event,) = store.events()
    assert (event.kind, event.country, event.device) == ("click", "DE", "ios")
    assert store.unshipped_hours(before_ms=1767322800000 + 3 * 3600_000) == [1767322800000]
    store.close()


def test_the_days_visitors_carry_over_so_no_one_is_counted_twice(tmp_path: Path) -> None:
    store = ClickStore(restored("clicks-v4.sql", tmp_path / "clicks.db"))
    at = 1767322800000 + 60_000  # 2026-01-02, the day the fixture's visitor "v1" was seen
    store.write(
        [
            Event(at, "click", "pAdaLovelace", "lShop0000001", visitor, "", "DE", "ios", False)
            for visitor in ("v1", "v2")
        ]
    )
    rows = store.daily("pAdaLovelace", "2026-01-02", "2026-01-02")
    (row,) = [r for r in rows if r.link_id != "*"]
    assert (row.total, row.uniques) == (3, 2)  # v1 was already counted before the upgrade
    store.close()


def test_migrating_again_changes_nothing(tmp_path: Path) -> None:
    path = restored("content-v2.sql", tmp_path / "linkgen.db")
    Content.open(path).close()
    before = applied(path)
    db = sqlite_utils.Database(sqlite3.connect(path))
    assert CONTENT.migrate(db) == [] and applied(path) == before


def test_a_database_newer_than_linkgen_is_refused_not_touched(tmp_path: Path) -> None:
    path = restored("content-v5.sql", tmp_path / "linkgen.db")
    Content.open(path).close()
    conn = sqlite3.connect(path)
    conn.execute("INSERT INTO _migrations VALUES (?, 'from the future', 'x')", (LATEST + 1,))
    conn.commit()
    conn.close()
    with pytest.raises(ConfigError, match=f"newer than this linkgen knows \\({LATEST}\\)"):
        Content.open(path)


def test_a_step_that_fails_leaves_the_database_at_the_step_before(tmp_path: Path) -> None:
    schema = Schema("a test database")

    @schema.migration(1, "a table")
    def _one(db: sqlite_utils.Database) -> None:
        run_script(db, "CREATE TABLE a (x INTEGER);")

    @schema.migration(2, "a table, then a mistake")
    def _two(db: sqlite_utils.Database) -> None:
        run_script(db, "CREATE TABLE b (x INTEGER);\nINSERT INTO nowhere VALUES (1);")

    db = sqlite_utils.Database(sqlite3.connect(tmp_path / "t.db"))
    with pytest.raises(sqlite3.OperationalError, match="nowhere"):
        schema.migrate(db)
    assert [row[0] for row in db.execute("SELECT number FROM _migrations")] == [1]
    assert set(db.table_names()) == {"_migrations", "a"}
