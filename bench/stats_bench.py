"""`linkgen stats` on a profile with 10 million raw events.

Builds a clicks.db the way the redirector does — hits classified and
written in batches with their rollups by linkgen's own writer (to_events +
ClickStore.write), a year of traffic, 10 links, a pool of visitors — then
times, for the 30-day and 365-day ranges:

1. the stats themselves (`stats.compute`: open the click store, read the
   rollups, build every figure), in process, median of 21;
2. the whole command, `linkgen stats USER --json`, as a user runs it
   (interpreter start included), median of 7;
3. for reference, the same per-link totals straight from the raw events
   (one GROUP BY over the events table): what stats would cost without rollups;
4. an A/B test's numbers (`split_stats.report`, the one report read from raw
   events) for a test on the first link begun 30 and 365 days ago, median of 3.

    python bench/stats_bench.py --events 10000000
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from linkgen import site as sites
from linkgen.clicks import stats
from linkgen.clicks.db import ClickStore, clicks_path
from linkgen.clicks.hits import Hit, to_events
from linkgen.models import NewLink, NewProfile, validate

AGENTS = [
    b"Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148 Safari/604.1",
    b"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/124.0 Mobile",
    b"Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
    b"Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
    b"facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
]
REFERRERS = [b"", b"https://www.instagram.com/", b"https://t.co/abc", b"https://www.tiktok.com/@x"]
COUNTRIES = [b"US", b"DE", b"FR", b"BR", b"JP", b"IN"]
BATCH = 5000


def fill(site_root: Path, username: str, events: int, days: int) -> None:
    site = sites.Site.open(site_root)
    profile = site.content.get(username)
    link_ids = [link.id for link in profile.links]
    site.close()
    store = ClickStore(clicks_path(site_root), retention_days=3650)
    start = time.time() - days * 86_400
    step = days * 86_400 / events
    written = 0
    began = time.perf_counter()
    while written < events:
        hits: list[Hit] = []
        for n in range(written, min(events, written + BATCH)):
            view = n % 3 != 0  # two views for each click
            hits.append(
                (
                    start + n * step,
                    "view" if view else "click",
                    profile.id,
                    "" if view else link_ids[n % len(link_ids)],
                    "",
                    f"10.{n % 7}.{(n // 7) % 250}.{n % 211}".encode(),
                    AGENTS[n % len(AGENTS)],
                    REFERRERS[n % len(REFERRERS)],
                    COUNTRIES[n % len(COUNTRIES)],
                )
            )
        store.write(to_events(store, hits, frozenset()))
        written += len(hits)
        if written % 500_000 == 0:
            rate = written / (time.perf_counter() - began)
            print(f"  {written:,} events written ({rate:,.0f}/s)", flush=True)
    store.close()


def timed(function: object, repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        began = time.perf_counter()
        function()  # type: ignore[operator]
        samples.append(time.perf_counter() - began)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--days", type=int, default=365, help="the events span this many days")
    parser.add_argument("--keep", type=Path, help="build (or reuse) the site here")
    args = parser.parse_args()
    root = args.keep or Path(tempfile.mkdtemp(prefix="linkgen-stats-bench-")) / "site"
    username = "star"
    if not (root / "linkgen.toml").exists():
        site = sites.init(root)
        site.content.create_profile(validate(NewProfile, {"username": username}))
        for k in range(10):
            link = {"title": f"Link {k}", "url": f"https://shop.example.com/{k}"}
            site.content.add_link(username, validate(NewLink, link))
        site.close()
        print(f"writing {args.events:,} events over {args.days} days …", flush=True)
        fill(root, username, args.events, args.days)
    db = clicks_path(root)
    clicks = ClickStore(db)
    total = clicks.conn.execute("SELECT count(*) FROM events").fetchone()[0]
    size = sum(p.stat().st_size for p in db.parent.glob("clicks.db*")) / 1e6
    print(f"clicks.db: {total:,} raw events, {size:,.0f} MB")
    site = sites.Site.open(root)
    today = dt.datetime.now(dt.UTC).date()
    rows = []
    for days in (30, 365):

        def compute(days: int = days) -> stats.Stats:
            store = ClickStore(db)
            try:
                return stats.compute(site.database, store, username, days=days, today=today)
            finally:
                store.close()

        in_process = timed(compute, 21)
        linkgen = str(Path(sys.executable).with_name("linkgen"))
        command = [linkgen, "--site", str(root), "stats", username, "--days", str(days), "--json"]
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        subprocess.run(command, check=True, capture_output=True, env=env)  # warm the caches

        def whole(command: list[str] = command, env: dict[str, str] = env) -> None:
            subprocess.run(command, check=True, capture_output=True, env=env)

        command_time = timed(whole, 7)
        since = int((time.time() - days * 86_400) * 1000)

        def raw(since: int = since) -> None:
            clicks.conn.execute(
                "SELECT link_id, kind, count(*), count(DISTINCT visitor) FROM events "
                "WHERE profile_id = ? AND at_ms >= ? AND bot = 0 GROUP BY link_id, kind",
                (site.content.get(username).id, since),
            ).fetchall()

        raw_time = timed(raw, 3)
        rows.append((days, in_process, command_time, raw_time))
    splits = [(days, *split_time(site, clicks, username, days)) for days in (30, 365)]
    site.close()
    clicks.close()
    print(f"\n{total:,} raw events, one profile, 10 links\n")
    print("| range | stats (in process) | `linkgen stats --json` (whole command) | raw GROUP BY |")
    print("|---|---|---|---|")
    for days, in_process, command_time, raw_time in rows:
        print(
            f"| {days} days | {1000 * in_process:.1f} ms | {1000 * command_time:.0f} ms | "
            f"{1000 * raw_time:,.0f} ms |"
        )
    print("\n| A/B test begun | events read | `split show` numbers (in process) |")
    print("|---|---|---|")
    for days, read, seconds in splits:
        print(f"| {days} days ago | {read:,} | {1000 * seconds:,.0f} ms |")


def split_time(site: sites.Site, clicks: ClickStore, username: str, days: int) -> tuple[int, float]:
    """(events the report reads, seconds) for an A/B test on the first link."""
    from linkgen.clicks.split_stats import report
    from linkgen.models import LinkChanges

    since = dt.datetime.now(dt.UTC) - dt.timedelta(days=days)
    test = {"weight": 50, "since": since.isoformat(),
            "variants": [{"url": "https://shop.example.com/b", "weight": 50}]}  # fmt: skip
    profile = site.content.get(username)
    changes = validate(LinkChanges, {"split": test}, strict=False)
    _, link = site.content.edit_link(username, profile.links[0].id, changes)
    seconds = timed(lambda: report(clicks.conn, profile.id, link), 3)
    events = clicks.conn.execute(
        "SELECT count(*) FROM events WHERE at_ms >= ? AND profile_id = ? AND bot = 0 "
        "AND (kind = 'view' OR link_id = ?)",
        (int(since.timestamp() * 1000), profile.id, link.id),
    ).fetchone()[0]
    return int(events), seconds


if __name__ == "__main__":
    main()
