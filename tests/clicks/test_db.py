"""Recording clicks and views: rollups, salts, the batch writer and its losses."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from linkgen.clicks import seen, visitors
from linkgen.clicks.db import ALL_LINKS, ClickStore, Event
from linkgen.clicks.hits import Hit, to_events
from linkgen.clicks.recorder import Recorder, WriterSettings

DAY1 = int(dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC).timestamp() * 1000)
DAY2 = DAY1 + 86_400_000
IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148 Safari/604.1"
DESKTOP = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


def hit(at: float, kind: str, profile: str, link: str, *headers: str) -> Hit:
    """A hit as the redirector queues it: the IP, user agent, referrer and country as bytes."""
    ip, agent, referrer, country = (value.encode() for value in headers)
    return (at, kind, profile, link, "", ip, agent, referrer, country)


def event(at: int, kind: str, visitor: str, link: str = "", *, bot: bool = False) -> Event:
    link = link if kind == "click" else ""
    return Event(at, kind, "p1", link, visitor, "instagram.com", "DE", "mobile", bot)


def test_rollups_count_every_event_and_each_visitor_once_a_day(tmp_path: Path) -> None:
    store = ClickStore(tmp_path / "clicks.db")
    store.write(
        [
            event(DAY1, "view", "a"),
            event(DAY1 + 1, "view", "a"),  # a reload: a view, not a new visitor
            event(DAY1 + 2, "view", "b"),
            event(DAY1 + 3, "click", "a", "l1"),
            event(DAY1 + 4, "click", "a", "l2"),
            event(DAY1 + 5, "click", "b", "l1"),
            event(DAY1 + 6, "view", "bot", bot=True),
        ]
    )
    store.write([event(DAY1 + 7, "click", "a", "l1")])  # a later batch, same visitor
    rows = {
        (r.link_id, r.kind): (r.total, r.uniques)
        for r in store.daily("p1", "2026-11-20", "2026-11-20")
    }
    assert rows == {
        ("", "view"): (3, 2),
        ("l1", "click"): (3, 2),
        ("l2", "click"): (1, 1),
        (ALL_LINKS, "click"): (4, 2),  # unique clickers of the whole profile
    }
    with_bots = store.daily("p1", "2026-11-20", "2026-11-20", bots=True)
    assert sum(r.total for r in with_bots if r.kind == "view") == 4
    dims = {
        (d.kind, d.dimension, d.value): d.total
        for d in store.dimensions("p1", "2026-11-20", "2026-11-21")
    }
    assert dims[("view", "referrer", "instagram.com")] == 3  # the bot is not in the dimensions
    assert dims[("click", "country", "DE")] == 4


def test_salts_rotate_daily_and_old_visitor_sets_are_deleted(tmp_path: Path) -> None:
    store = ClickStore(tmp_path / "clicks.db")
    day1, day2, day3 = "2026-11-20", "2026-11-21", "2026-11-22"
    salt1 = store.salt(day1)
    store.write(
        [event(DAY1, "view", visitors.visitor_hash(salt1, b"203.0.113.9", IPHONE.encode(), "p1"))]
    )
    salt2 = store.salt(day2)
    assert salt1 != salt2
    same_person = [
        visitors.visitor_hash(s, b"203.0.113.9", IPHONE.encode(), "p1") for s in (salt1, salt2)
    ]
    assert same_person[0] != same_person[1]  # not linkable across days
    day1_visitors = "SELECT count(*) FROM day_visitors WHERE day = ?", (seen.day_number(day1),)
    assert store.conn.execute(*day1_visitors).fetchone() == (1,)
    store.salt(day3)  # day 1 is now older than yesterday
    kept = {row[0] for row in store.conn.execute("SELECT day FROM salts")}
    assert kept == {day2, day3}
    assert store.conn.execute(*day1_visitors).fetchone() == (0,)
    assert store.daily("p1", day1, day1)[0].uniques == 1  # the rollup itself is kept


def test_nothing_personal_is_stored(tmp_path: Path) -> None:
    db = tmp_path / "clicks.db"
    recorder = Recorder(WriterSettings(db), batch_seconds=0.01)
    recorder.start()
    recorder.offer(
        hit(time.time(), "click", "p1", "l1", "198.51.100.23", IPHONE, "https://t.co/x?y=1", "fr")
    )
    recorder.stop()
    raw = db.read_bytes() + b"".join(p.read_bytes() for p in tmp_path.glob("clicks.db-*"))
    assert b"198.51.100.23" not in raw and b"iPhone" not in raw and b"t.co/x" not in raw
    (stored,) = ClickStore(db).events()
    assert (stored.referrer_host, stored.country, stored.device, stored.bot) == (
        "t.co",
        "FR",
        "mobile",
        False,
    )
    assert len(stored.visitor) == 16


def test_the_writer_drains_everything_queued_when_stopped(tmp_path: Path) -> None:
    db = tmp_path / "clicks.db"
    recorder = Recorder(WriterSettings(db, batch_rows=500), batch_seconds=5)
    recorder.start()
    for n in range(12_345):
        assert recorder.offer(
            hit(time.time(), "view", "p1", "", f"10.0.{n % 200}.1", DESKTOP, "", "")
        )
    recorder.stop()
    assert recorder.counters.written == 12_345 and recorder.counters.lost == 0
    assert recorder.counters.batches >= 25  # at most 500 a transaction
    (views,) = [
        r for r in ClickStore(db).daily("p1", "2000-01-01", "2100-01-01") if r.kind == "view"
    ]
    assert views.total == 12_345 and views.uniques == 200


def test_a_full_queue_drops_and_counts_without_blocking(tmp_path: Path) -> None:
    db = tmp_path / "clicks.db"
    recorder = Recorder(WriterSettings(db), capacity=100)
    accepted = [
        recorder.offer(hit(time.time(), "view", "p1", "", "ip", DESKTOP, "", ""))
        for _ in range(150)
    ]
    assert accepted.count(True) == 100 and recorder.counters.dropped == 50
    recorder.start()
    recorder.stop()
    store = ClickStore(db)
    assert recorder.counters.written == 100
    assert store.losses() == 50  # the loss is on record, not only in a log


def test_an_unwritable_database_loses_the_batch_but_not_the_writer(tmp_path: Path) -> None:
    db = tmp_path / "clicks.db"
    ClickStore(db).close()
    blocker = sqlite3.connect(db, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")  # another process holds the write lock

    recorder = Recorder(WriterSettings(db, busy_timeout_ms=50), batch_seconds=0.01)
    recorder.start()
    recorder.offer(hit(time.time(), "view", "p1", "", "ip", DESKTOP, "", ""))
    deadline = time.monotonic() + 10
    while recorder.counters.lost == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert recorder.counters.lost == 1
    blocker.execute("ROLLBACK")
    recorder.offer(hit(time.time(), "view", "p1", "", "ip", DESKTOP, "", ""))
    recorder.stop()
    assert recorder.counters.written == 1  # it went on writing once the lock was free


class OnALoop:
    """A recorder handing over on an event loop, as inside the server (RSGI, ASGI)."""

    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def call(self, function: Any, *args: Any) -> Any:
        async def run() -> Any:
            return function(*args)

        return asyncio.run_coroutine_threadsafe(run(), self.loop).result(timeout=30)

    def start(self) -> None:
        self.call(self.recorder.start, self.loop)

    def stop(self) -> None:
        self.call(self.recorder.stop)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)


def started(recorder: Recorder, mode: str) -> Any:
    """The recorder started in ``mode`` ("thread" or "loop"); returns its stop."""
    if mode == "thread":
        recorder.start()
        return recorder.stop
    on_loop = OnALoop(recorder)
    on_loop.start()
    return on_loop.stop


@pytest.mark.parametrize("mode", ["thread", "loop"])
def test_a_dead_writer_process_is_counted_and_replaced(tmp_path: Path, mode: str) -> None:
    db = tmp_path / "clicks.db"
    recorder = Recorder(WriterSettings(db), batch_seconds=0.01)
    stop = started(recorder, mode)
    first_writer = recorder.writer_pid
    assert first_writer is not None
    os.kill(first_writer, signal.SIGKILL)
    os.waitpid(first_writer, 0)
    recorder.offer(hit(time.time(), "view", "p1", "", "ip", DESKTOP, "", ""))
    deadline = time.monotonic() + 10
    # The loss is counted, then the new writer started: wait for both.
    while (recorder.counters.lost == 0 or recorder.writer_pid == first_writer) and (
        time.monotonic() < deadline
    ):
        time.sleep(0.01)
    assert recorder.counters.lost == 1 and recorder.writer_pid != first_writer
    recorder.offer(hit(time.time(), "view", "p1", "", "ip", DESKTOP, "", ""))
    stop()  # redirects never noticed; the next hit is written
    assert recorder.counters.written == 1
    assert ClickStore(db).losses() == 1  # and the loss is on record


def test_a_stuck_writer_never_blocks_the_loop_and_what_it_misses_is_counted(
    tmp_path: Path,
) -> None:
    db = tmp_path / "clicks.db"
    recorder = Recorder(WriterSettings(db), capacity=2000, batch_seconds=0.01)
    on_loop = OnALoop(recorder)
    on_loop.start()
    writer = recorder.writer_pid
    assert writer is not None
    os.kill(writer, signal.SIGSTOP)  # alive, reading nothing: the pipe fills up
    try:
        offered = 0
        for _ in range(20):
            for _ in range(1000):
                offered += recorder.offer(
                    hit(time.time(), "view", "p1", "", "ip", DESKTOP * 3, "", "")
                )
            started_at = time.monotonic()
            on_loop.call(lambda: None)  # the loop still answers at once
            assert time.monotonic() - started_at < 1.0
            time.sleep(0.02)
    finally:
        os.kill(writer, signal.SIGCONT)
    on_loop.stop()
    counted = recorder.counters
    assert counted.dropped > 0  # the queue's bound held while the writer was stuck
    assert counted.written + counted.dropped == 20_000  # every hit written or counted
    assert ClickStore(db).losses() == counted.dropped


@pytest.mark.parametrize(
    ("agent", "device", "bot"),
    [
        (IPHONE, "mobile", False),
        ("Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X) AppleWebKit/605.1.15", "tablet", False),
        (
            "Mozilla/5.0 (Linux; Android 14; SM-X710) AppleWebKit/537.36 Safari/537.36",
            "tablet",
            False,
        ),
        (
            "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Mobile Safari/537.36",
            "mobile",
            False,
        ),
        (DESKTOP, "desktop", False),
        (
            "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
            "desktop",
            True,
        ),
        ("WhatsApp/2.23.20.0 A", "desktop", True),
        ("Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)", "desktop", True),
        ("Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)", "desktop", True),
        ("Twitterbot/1.0", "desktop", True),
        ("TelegramBot (like TwitterBot)", "desktop", True),
        ("Mastodon/4.2.0 (http.rb/5.1.1; +https://mastodon.social/)", "desktop", True),
        (
            "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
            "desktop",
            True,
        ),
        ("curl/8.5.0", "desktop", True),
        ("", "unknown", True),
    ],
)
def test_devices_and_bots(agent: str, device: str, bot: bool) -> None:
    assert visitors.classify(agent) == (device, bot)


@pytest.mark.parametrize(
    ("referrer", "host"),
    [
        ("https://www.instagram.com/stories/x", "instagram.com"),
        ("https://l.facebook.com/l.php?u=x", "l.facebook.com"),
        ("android-app://com.google.android.gm/", "com.google.android.gm"),
        ("", ""),
        ("not a url", ""),
        ("https://exa mple.com/", ""),
        ("https://[::1]/", ""),
        ("javascript:alert(1)", ""),
        ("https://" + "a" * 300 + ".com/", ""),
    ],
)
def test_referrer_hosts(referrer: str, host: str) -> None:
    assert visitors.referrer_host(referrer) == host


def test_countries_are_two_letter_codes_or_nothing() -> None:
    assert [visitors.country(v) for v in ("de", "US ", "XX", "T1", "DEU", "", "<b>")] == [
        "DE",
        "US",
        "",
        "",
        "",
        "",
        "",
    ]


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=3000), st.text(max_size=300), st.text(max_size=20))
def test_any_header_values_give_clean_fields(referrer: str, agent: str, country: str) -> None:
    host = visitors.referrer_host(referrer)
    assert host == "" or (len(host) <= 253 and visitors.HOST.match(host))
    device, bot = visitors.classify(agent)
    assert device in ("mobile", "tablet", "desktop", "unknown") and isinstance(bot, bool)
    assert visitors.country(country) in ("",) or visitors.COUNTRY.match(visitors.country(country))


def test_raw_events_older_than_the_retention_are_deleted_rollups_kept(tmp_path: Path) -> None:
    store = ClickStore(tmp_path / "clicks.db", retention_days=1)
    store.write([event(DAY1, "view", "a"), event(DAY2, "view", "b")])
    store.salt("2026-11-23")  # a new day: raw events older than a day before yesterday go
    assert [e.at_ms for e in store.events()] == [DAY2]
    assert [r.total for r in store.daily("p1", "2026-11-20", "2026-11-21")] == [1, 1]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(*[st.binary(max_size=600)] * 4), min_size=1, max_size=20))
def test_any_header_bytes_are_ingested_as_clean_rows(
    tmp_path_factory: pytest.TempPathFactory, headers: list[tuple[bytes, bytes, bytes, bytes]]
) -> None:
    store = ClickStore(tmp_path_factory.mktemp("fuzz") / "clicks.db")
    hits: list[Hit] = [(time.time(), "click", "p1", "l1", "", *values) for values in headers]
    store.write(to_events(store, hits, frozenset()))
    for stored in store.events():
        assert len(stored.visitor) == 16 and stored.device in (
            "mobile",
            "tablet",
            "desktop",
            "unknown",
        )
        assert stored.referrer_host == "" or visitors.HOST.match(stored.referrer_host)
        assert stored.country == "" or visitors.COUNTRY.match(stored.country)
    store.close()
