"""The clicks database (``site_data/clicks.db``): events, daily rollups, salts.

Separate from the content database, so a burst of clicks never competes with
an edit for the write lock. Each batch of events is written in one
transaction together with the rollups it changes — per profile, link and
day: totals and unique visitors; per profile and day: referrer hosts,
countries and devices — so no stats query ever scans raw events.

Nothing personal is stored: the visitor hash is keyed with a random salt of
the day; today's and yesterday's salts are kept (late events), older ones
are deleted together with the per-day visitor sets, so hashes from
different days cannot be linked. Multi-day unique counts are therefore sums
of daily uniques.
"""

from __future__ import annotations

import datetime as dt
import functools
import sqlite3
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from linkgen.clicks import seen
from linkgen.store.schema import Schema, run_script

if TYPE_CHECKING:
    import sqlite_utils

CLICKS = Schema("clicks.db")
ALL_LINKS = "*"  # the link id of a profile's rollup over all its links


class Event(NamedTuple):
    """One recorded view or click, as stored (docs/analytics.md: what is recorded,
    and what never is)."""

    at_ms: int
    kind: str  # "click" | "view"
    profile_id: str
    link_id: str  # "" for a view
    visitor: str  # keyed hash of the day; never the IP or the user agent
    referrer_host: str
    country: str
    device: str  # mobile | tablet | desktop | unknown
    bot: bool
    variant: str = ""  # the A/B test variant the page or link said it showed ("b"), or ""

    @property
    def day(self) -> str:
        return day_of(self.at_ms)


DAY_MS = 86_400_000


def day_of(at_ms: int) -> str:
    return _day_name(at_ms // DAY_MS)


@functools.lru_cache(maxsize=64)
def _day_name(day_number: int) -> str:
    return (seen.EPOCH + dt.timedelta(days=day_number)).isoformat()  # seen.day_number undoes it


@CLICKS.migration(1, "events, rollups, salts")
def _initial(db: sqlite_utils.Database) -> None:
    run_script(
        db,
        """
        CREATE TABLE events (
            id INTEGER PRIMARY KEY,
            at_ms INTEGER NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('click', 'view')),
            profile_id TEXT NOT NULL,
            link_id TEXT NOT NULL,
            visitor TEXT NOT NULL,
            referrer_host TEXT NOT NULL,
            country TEXT NOT NULL,
            device TEXT NOT NULL,
            bot INTEGER NOT NULL
        );
        CREATE INDEX events_by_time ON events(at_ms);
        -- Per day, profile, link ('' for views, '*' for all of a profile's
        -- links), kind and bot flag: every event and the unique visitors.
        CREATE TABLE daily (
            day TEXT NOT NULL,
            profile_id TEXT NOT NULL,
            link_id TEXT NOT NULL,
            kind TEXT NOT NULL,
            bot INTEGER NOT NULL,
            total INTEGER NOT NULL,
            uniques INTEGER NOT NULL,
            PRIMARY KEY (profile_id, day, link_id, kind, bot)
        ) WITHOUT ROWID;
        -- The visitors already counted in a day's uniques; kept two days.
        CREATE TABLE daily_visitors (
            day TEXT NOT NULL,
            profile_id TEXT NOT NULL,
            link_id TEXT NOT NULL,
            kind TEXT NOT NULL,
            bot INTEGER NOT NULL,
            visitor TEXT NOT NULL,
            PRIMARY KEY (day, profile_id, link_id, kind, bot, visitor)
        ) WITHOUT ROWID;
        -- Per day, profile and kind, humans only: referrer host, country, device.
        CREATE TABLE daily_dimensions (
            day TEXT NOT NULL,
            profile_id TEXT NOT NULL,
            kind TEXT NOT NULL,
            dimension TEXT NOT NULL CHECK (dimension IN ('referrer', 'country', 'device')),
            value TEXT NOT NULL,
            total INTEGER NOT NULL,
            PRIMARY KEY (profile_id, day, kind, dimension, value)
        ) WITHOUT ROWID;
        CREATE TABLE salts (
            day TEXT PRIMARY KEY,
            salt BLOB NOT NULL
        );
        -- Events lost before they could be written (queue full, database
        -- unwritable), per hour: counted, never silently.
        CREATE TABLE losses (
            hour TEXT PRIMARY KEY,
            events INTEGER NOT NULL,
            last_reason TEXT NOT NULL
        );
        """,
    )


@CLICKS.migration(2, "shipped hours")
def _shipped(db: sqlite_utils.Database) -> None:
    run_script(
        db,
        """
        -- Hours of raw events already copied to S3 (linkgen clicks ship).
        CREATE TABLE shipped (
            hour TEXT PRIMARY KEY,
            key TEXT NOT NULL,
            events INTEGER NOT NULL,
            shipped_at TEXT NOT NULL
        );
        """,
    )


@CLICKS.migration(3, "positions in the edge's access logs")
def _ingest_positions(db: sqlite_utils.Database) -> None:
    run_script(
        db,
        """
        -- How far each access log has been counted (linkgen clicks ingest). A log
        -- is known by a digest of its first line, so a renamed (rotated) file
        -- keeps its place, and the same file given twice is counted once.
        CREATE TABLE ingested (
            source TEXT PRIMARY KEY,
            offset INTEGER NOT NULL,
            name TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        """,
    )


@CLICKS.migration(4, "the A/B test variant of each event")
def _variants(db: sqlite_utils.Database) -> None:
    run_script(
        db,
        """
        -- The label a page variant's beacon or link carried (a title test), or ''.
        ALTER TABLE events ADD COLUMN variant TEXT NOT NULL DEFAULT '';
        """,
    )


@CLICKS.migration(5, "the day's visitors as one key each")
def _visitor_keys(db: sqlite_utils.Database) -> None:
    run_script(
        db,
        """
        -- (day number, clicks.seen.key of the rollup key and visitor): kept two days.
        CREATE TABLE day_visitors (
            day INTEGER NOT NULL,
            seen INTEGER NOT NULL,
            PRIMARY KEY (day, seen)
        ) WITHOUT ROWID;
        """,
    )
    rows = db.execute("SELECT day, profile_id, link_id, kind, bot, visitor FROM daily_visitors")
    db.conn.executemany(
        "INSERT OR IGNORE INTO day_visitors VALUES (?, ?)",
        ((seen.day_number(row[0]), seen.key(*row)) for row in rows.fetchall()),
    )
    run_script(db, "DROP TABLE daily_visitors;")


HOUR_MS = 3_600_000


def hour_of(at_ms: int) -> str:
    return dt.datetime.fromtimestamp(at_ms / 1000, dt.UTC).strftime("%Y-%m-%dT%H")


def _insert(
    conn: sqlite3.Connection, head: str, rows: Sequence[tuple[object, ...]], tail: str = ""
) -> list[tuple[Any, ...]]:
    """``head`` (…), (…), … ``tail`` for all ``rows``, in as few statements as fit."""
    if not rows:
        return []
    width = len(rows[0])
    per_statement = conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) // width
    placeholder = "(" + ", ".join(["?"] * width) + ")"
    returned: list[tuple[Any, ...]] = []
    for first in range(0, len(rows), per_statement):
        chunk = rows[first : first + per_statement]
        values = ", ".join([placeholder] * len(chunk))
        cursor = conn.execute(f"{head} {values} {tail}", [v for row in chunk for v in row])
        returned += cursor.fetchall()
    return returned


class ClickStore:
    """The only code that touches clicks.db."""

    def __init__(
        self, path: Path, *, retention_days: int = 90, busy_timeout_ms: int = 5000
    ) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.retention_days = retention_days
        self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.conn.execute("PRAGMA journal_mode = WAL")
        self.conn.execute("PRAGMA synchronous = NORMAL")
        self.conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        if CLICKS.pending(self.conn):  # sqlite-utils imported only to migrate
            import sqlite_utils

            CLICKS.migrate(sqlite_utils.Database(self.conn))
        self._salts: dict[str, bytes] = {}

    def close(self) -> None:
        self.conn.close()

    # -- salts ------------------------------------------------------------------

    def salt(self, day: str) -> bytes:
        """The salt of ``day`` (created on first use); older than yesterday: forgotten."""
        salt = self._salts.get(day)
        if salt is not None:
            return salt
        import secrets  # OpenSSL: loaded by what records a visitor only

        self.conn.execute("BEGIN IMMEDIATE")
        try:
            self.conn.execute(
                "INSERT OR IGNORE INTO salts VALUES (?, ?)", (day, secrets.token_bytes(32))
            )
            salt = self.conn.execute("SELECT salt FROM salts WHERE day = ?", (day,)).fetchone()[0]
            self._forget_before(_day_before(day))
            self.conn.execute("COMMIT")
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self._salts = {d: s for d, s in self._salts.items() if d >= _day_before(day)}
        self._salts[day] = salt
        return bytes(salt)

    def _forget_before(self, day: str) -> None:
        self.conn.execute("DELETE FROM salts WHERE day < ?", (day,))
        self.conn.execute("DELETE FROM day_visitors WHERE day < ?", (seen.day_number(day),))
        oldest = dt.date.fromisoformat(day) - dt.timedelta(days=self.retention_days)
        cutoff_ms = int(dt.datetime.combine(oldest, dt.time(), dt.UTC).timestamp() * 1000)
        self.conn.execute("DELETE FROM events WHERE at_ms < ?", (cutoff_ms,))

    # -- writing ----------------------------------------------------------------

    def seen(self, name: str) -> bool:
        """Whether a log of this name was read already."""
        row = self.conn.execute("SELECT 1 FROM ingested WHERE name = ? LIMIT 1", (name,))
        return row.fetchone() is not None

    def position(self, source: str) -> int:
        """How many bytes of the access log ``source`` were counted already."""
        row = self.conn.execute("SELECT offset FROM ingested WHERE source = ?", (source,))
        found = row.fetchone()
        return int(found[0]) if found else 0

    def write(
        self, events: Sequence[Event], *, position: tuple[str, int, str] | None = None
    ) -> None:
        """Store a batch of events and update every rollup, in one transaction.

        A fixed handful of statements per batch, however many profiles and
        links it touches: events, the day's new visitors (those SQLite did
        not already have come back from RETURNING and make the uniques), the
        daily totals and the dimensions — each a multi-row statement, so the
        writer hands the GIL back and forth a few times a batch, not once a row.
        """
        if not events and position is None:
            return
        rows, per_pair, totals, dimensions = _tally(events)
        conn = self.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            _insert(
                conn,
                "INSERT INTO events (at_ms, kind, profile_id, link_id, visitor, referrer_host, "
                "country, device, bot, variant) VALUES",
                rows,
            )
            keys = seen.keys(per_pair)
            returned = _insert(
                conn, "INSERT OR IGNORE INTO day_visitors VALUES", list(keys), "RETURNING day, seen"
            )
            new = Counter(keys[day, key] for day, key in returned)
            _insert(
                conn,
                "INSERT INTO daily VALUES",
                [(*key, total, new[key]) for key, total in totals.items()],
                "ON CONFLICT (profile_id, day, link_id, kind, bot) DO UPDATE SET "
                "total = total + excluded.total, uniques = uniques + excluded.uniques",
            )
            _insert(
                conn,
                "INSERT INTO daily_dimensions VALUES",
                [(*key, count) for key, count in dimensions.items()],
                "ON CONFLICT (profile_id, day, kind, dimension, value) DO UPDATE SET "
                "total = total + excluded.total",
            )
            if position is not None:  # with the events it covers: never one without the other
                source, offset, name = position
                conn.execute(
                    "INSERT INTO ingested VALUES (?, ?, ?, ?) ON CONFLICT (source) DO UPDATE "
                    "SET offset = excluded.offset, name = excluded.name, "
                    "updated_at = excluded.updated_at",
                    (source, offset, name, dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")),
                )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def record_loss(self, at_ms: int, events: int, reason: str) -> None:
        hour = dt.datetime.fromtimestamp(at_ms / 1000, dt.UTC).strftime("%Y-%m-%dT%H")
        self.conn.execute(
            "INSERT INTO losses VALUES (?, ?, ?) ON CONFLICT (hour) DO UPDATE SET "
            "events = events + excluded.events, last_reason = excluded.last_reason",
            (hour, events, reason),
        )

    # -- reading ----------------------------------------------------------------

    def daily(self, profile_id: str, first: str, last: str, *, bots: bool = False) -> list[Row]:
        rows = self.conn.execute(
            "SELECT day, link_id, kind, sum(total), sum(uniques) FROM daily "
            "WHERE profile_id = ? AND day BETWEEN ? AND ? AND (bot = 0 OR ?) "
            "GROUP BY day, link_id, kind ORDER BY day",
            (profile_id, first, last, int(bots)),
        )
        return [Row(*row) for row in rows]

    def dimensions(self, profile_id: str, first: str, last: str) -> list[Dimension]:
        rows = self.conn.execute(
            "SELECT kind, dimension, value, sum(total) FROM daily_dimensions "
            "WHERE profile_id = ? AND day BETWEEN ? AND ? "
            "GROUP BY kind, dimension, value ORDER BY sum(total) DESC, value",
            (profile_id, first, last),
        )
        return [Dimension(*row) for row in rows]

    def first_day(self, profile_id: str) -> str | None:
        row = self.conn.execute(
            "SELECT min(day) FROM daily WHERE profile_id = ?", (profile_id,)
        ).fetchone()
        return row[0] if row else None

    def losses(self) -> int:
        return int(self.conn.execute("SELECT total(events) FROM losses").fetchone()[0])

    # -- shipping -------------------------------------------------------------

    def unshipped_hours(self, before_ms: int) -> list[int]:
        """Start (ms) of every hour ending by ``before_ms`` that has events and was not shipped."""
        rows = self.conn.execute(
            "SELECT DISTINCT at_ms / ? * ? FROM events WHERE at_ms < ? / ? * ? ORDER BY 1",
            (HOUR_MS, HOUR_MS, before_ms, HOUR_MS, HOUR_MS),
        )
        shipped = {row[0] for row in self.conn.execute("SELECT hour FROM shipped")}
        return [row[0] for row in rows if hour_of(row[0]) not in shipped]

    def events_in(self, start_ms: int, end_ms: int) -> list[Event]:
        return self._events("at_ms >= ? AND at_ms < ?", (start_ms, end_ms))

    def mark_shipped(self, start_ms: int, key: str, events: int) -> None:
        stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        self.conn.execute(
            "INSERT OR REPLACE INTO shipped VALUES (?, ?, ?, ?)",
            (hour_of(start_ms), key, events, stamp),
        )

    def events(self, kinds: Iterable[str] = ("click", "view")) -> list[Event]:
        wanted = tuple(kinds)
        return self._events(f"kind IN ({', '.join('?' * len(wanted))})", wanted)

    def _events(self, where: str, parameters: tuple[object, ...]) -> list[Event]:
        rows = self.conn.execute(
            f"SELECT {', '.join(Event._fields)} FROM events WHERE {where} ORDER BY id", parameters
        )
        return [Event._make((*row[:8], bool(row[8]), row[9])) for row in rows]


class Row(NamedTuple):
    day: str
    link_id: str
    kind: str
    total: int
    uniques: int


class Dimension(NamedTuple):
    kind: str
    dimension: str
    value: str
    total: int


def _tally(
    events: Sequence[Event],
) -> tuple[list[tuple[object, ...]], Counter[seen.Pair], Counter[Any], Counter[Any]]:
    """The rows to insert, and the counts behind the rollups, of one batch.

    One pass in Python, the counting in C: every (rollup key, visitor) pair
    and each event's dimension values, then Counter over each; the totals
    and the three dimensions are derived from what was counted (a batch under
    load repeats a few). The rows are plain tuples with the bot flag as 0 or
    1: sqlite3 binds a NamedTuple or a bool through its adapters, about
    2.5 µs a row more (measured).
    """
    pairs_seen: list[seen.Pair] = []
    seen_values: list[tuple[str, str, str, str, str, str]] = []
    rows: list[tuple[object, ...]] = []  # plain tuples of ints and strs: the fastest to bind
    days: dict[int, str] = {}
    for e in events:
        at_ms, kind, profile_id, link_id, visitor, referrer, country, device, bot, variant = e
        flag = 1 if bot else 0
        rows.append(
            (at_ms, kind, profile_id, link_id, visitor, referrer, country, device, flag, variant)
        )
        day = days.get(at_ms // DAY_MS)
        if day is None:
            day = days[at_ms // DAY_MS] = day_of(at_ms)
        pairs_seen.append((day, profile_id, link_id, kind, flag, visitor))
        if kind == "click":
            pairs_seen.append((day, profile_id, ALL_LINKS, kind, flag, visitor))
        if not flag:
            seen_values.append((day, profile_id, kind, referrer, country, device))
    per_pair = Counter(pairs_seen)
    totals: Counter[tuple[str, str, str, str, int]] = Counter()
    for pair, count in per_pair.items():
        totals[pair[:5]] += count
    dimensions: Counter[Any] = Counter()
    for (day, profile_id, kind, referrer, country, device), count in Counter(seen_values).items():
        dimensions[day, profile_id, kind, "referrer", referrer] += count
        dimensions[day, profile_id, kind, "country", country] += count
        dimensions[day, profile_id, kind, "device", device] += count
    return rows, per_pair, totals, dimensions


def _day_before(day: str) -> str:
    return (dt.date.fromisoformat(day) - dt.timedelta(days=1)).isoformat()


def clicks_path(site_root: Path) -> Path:
    return site_root / "site_data" / "clicks.db"
