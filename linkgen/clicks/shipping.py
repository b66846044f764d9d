"""Raw events beyond one machine: hourly gzip NDJSON files in S3, and stats over them.

``linkgen clicks ship`` writes each closed hour of events to
``<prefix>clicks/dt=YYYY-MM-DD/hour=HH/<instance>.ndjson.gz``. An hour counts
as closed five minutes after it ends (the writer commits within a fraction
of a second; the margin covers a slow batch). What was shipped is recorded
in clicks.db, so a re-run ships nothing twice; the file of an hour is
byte-for-byte the same each time it is written, so a run killed between the
upload and the record only rewrites the same object.

``linkgen stats --from-s3`` reads every instance's files with DuckDB and
computes the same figures as the local rollups: the files are the source of
truth for a fleet of redirectors, each of which only sees its own clicks.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import gzip
import hashlib
import json
import socket
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from linkgen.clicks.db import ALL_LINKS, HOUR_MS, ClickStore, Dimension, Event, Row
from linkgen.config import ClicksSettings
from linkgen.errors import ConfigError, PublishError

SETTLE_MS = 5 * 60_000
FIELDS = ["at_ms", "day", "kind", "profile_id", "link_id", "visitor"]
FIELDS += ["referrer_host", "country", "device", "bot"]


@dataclasses.dataclass
class ShipReport:
    shipped: list[tuple[str, int]] = dataclasses.field(default_factory=list)  # (key, events)


def _destination(settings: ClicksSettings) -> tuple[str, str]:
    if not settings.ship_to:
        raise ConfigError("clicks.ship_to: set an s3://BUCKET/PREFIX to ship events to")
    bucket, _, prefix = settings.ship_to.removeprefix("s3://").partition("/")
    prefix = prefix.strip("/")
    return bucket, f"{prefix}/" if prefix else ""


def _client(settings: ClicksSettings) -> Any:
    import boto3
    from botocore.config import Config as BotoConfig

    retries = BotoConfig(retries={"mode": "standard", "max_attempts": 8}, connect_timeout=5)
    return boto3.client(
        "s3", endpoint_url=settings.endpoint_url, region_name=settings.region, config=retries
    )


def encode(events: list[Event]) -> bytes:
    """One JSON object per line, gzip with a fixed header: the same events, the same bytes."""
    lines = []
    for event in events:
        record = event._asdict()
        record["day"] = event.day
        lines.append(json.dumps({name: record[name] for name in FIELDS}, separators=(",", ":")))
    return gzip.compress(("\n".join(lines) + "\n").encode(), mtime=0)


def ship(store: ClickStore, settings: ClicksSettings, *, now_ms: int) -> ShipReport:
    from botocore.exceptions import BotoCoreError, ClientError

    bucket, prefix = _destination(settings)
    instance = settings.instance or socket.gethostname()
    client = _client(settings)
    report = ShipReport()
    for start in store.unshipped_hours(now_ms - SETTLE_MS):
        events = store.events_in(start, start + HOUR_MS)
        moment = dt.datetime.fromtimestamp(start / 1000, dt.UTC)
        key = f"{prefix}clicks/dt={moment:%Y-%m-%d}/hour={moment:%H}/{instance}.ndjson.gz"
        data = encode(events)
        try:
            client.put_object(
                Bucket=bucket,
                Key=key,
                Body=data,
                ContentType="application/x-ndjson",
                ContentMD5=base64.b64encode(hashlib.md5(data).digest()).decode(),
            )
        except (BotoCoreError, ClientError) as exc:
            raise PublishError(f"clicks ship: {key}: {exc}") from None
        store.mark_shipped(start, key, len(events))
        report.shipped.append((key, len(events)))
    return report


class S3Events:
    """The shipped events, read with DuckDB; answers what ClickStore's rollups answer."""

    def __init__(self, directory: Path) -> None:
        import duckdb

        self.db = duckdb.connect()
        pattern = str(directory / "**" / "*.ndjson.gz").replace("'", "''")
        columns = {
            "at_ms": "BIGINT",
            "day": "VARCHAR",
            "kind": "VARCHAR",
            "profile_id": "VARCHAR",
            "link_id": "VARCHAR",
            "visitor": "VARCHAR",
            "referrer_host": "VARCHAR",
            "country": "VARCHAR",
            "device": "VARCHAR",
            "bot": "BOOLEAN",
        }
        self.db.execute(
            "CREATE VIEW events AS SELECT * FROM read_json("
            f"'{pattern}', format = 'newline_delimited', columns = {columns!r})"
        )

    def daily(self, profile_id: str, first: str, last: str, *, bots: bool = False) -> list[Row]:
        rows = self.db.execute(
            """
            WITH e AS (
                SELECT * FROM events
                WHERE profile_id = $pid AND day BETWEEN $first AND $last AND (NOT bot OR $bots)
            ), groups AS (
                SELECT day, link_id, kind, bot, count(*) AS total,
                       count(DISTINCT visitor) AS uniques
                FROM e GROUP BY day, link_id, kind, bot
                UNION ALL
                SELECT day, $all, kind, bot, count(*), count(DISTINCT visitor)
                FROM e WHERE kind = 'click' GROUP BY day, kind, bot
            )
            SELECT day, link_id, kind, sum(total)::BIGINT, sum(uniques)::BIGINT
            FROM groups GROUP BY day, link_id, kind ORDER BY day
            """,
            {"pid": profile_id, "first": first, "last": last, "bots": bots, "all": ALL_LINKS},
        ).fetchall()
        return [Row(*row) for row in rows]

    def dimensions(self, profile_id: str, first: str, last: str) -> list[Dimension]:
        rows = self.db.execute(
            """
            WITH e AS (
                SELECT * FROM events
                WHERE profile_id = $pid AND day BETWEEN $first AND $last AND NOT bot
            ), d AS (
                SELECT kind, 'referrer' AS dimension, referrer_host AS value FROM e
                UNION ALL SELECT kind, 'country', country FROM e
                UNION ALL SELECT kind, 'device', device FROM e
            )
            SELECT kind, dimension, value, count(*)::BIGINT AS total FROM d
            GROUP BY kind, dimension, value ORDER BY total DESC, value
            """,
            {"pid": profile_id, "first": first, "last": last},
        ).fetchall()
        return [Dimension(*row) for row in rows]

    def first_day(self, profile_id: str) -> str | None:
        row = self.db.execute(
            "SELECT min(day) FROM events WHERE profile_id = ?", [profile_id]
        ).fetchone()
        return row[0] if row else None


@contextmanager
def s3_events(settings: ClicksSettings) -> Iterator[S3Events]:
    """Every shipped file under the prefix, fetched once, queried locally with DuckDB."""
    bucket, prefix = _destination(settings)
    client = _client(settings)
    with tempfile.TemporaryDirectory(prefix="linkgen-clicks-") as work:
        root = Path(work)
        (root / "empty.ndjson.gz").write_bytes(gzip.compress(b""))  # a glob must match
        pages = client.get_paginator("list_objects_v2").paginate(
            Bucket=bucket, Prefix=f"{prefix}clicks/"
        )
        for page in pages:
            for item in page.get("Contents", []):
                key = item["Key"]
                if not key.endswith(".ndjson.gz"):
                    continue
                local = root / key.removeprefix(prefix)
                local.parent.mkdir(parents=True, exist_ok=True)
                client.download_file(bucket, key, str(local))
        yield S3Events(root)
