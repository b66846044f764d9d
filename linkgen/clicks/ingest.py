"""``linkgen clicks ingest``: clicks and views counted from the edge's access logs.

With links served by the edge (``[redirector] mode = "edge"``), a click is a
``302`` the edge answered for ``/r/<link id>`` and a view a ``200`` for
``/v/<profile id>``; they reach linkgen as lines of the edge's access log. Each
line goes through the redirector's own classifier (bot flag, device, referrer
host, country, the visitor hash of the day's salt): the IP address and the user
agent are used there and never stored.

Varnish writes the log with ``varnishncsa`` in the JSON format of
``varnishncsa_format`` (``linkgen edge varnishncsa`` prints the command). A log is known by a digest
of its first line, and how far it was counted is stored in the same
transaction as the events it gave: counting a file again, or a rotated file
under its new name, adds nothing, and a restart neither loses nor doubles a
line. Lines not yet ended by a newline wait for the next run.
"""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from linkgen.clicks import visitors
from linkgen.clicks.db import ClickStore, clicks_path
from linkgen.clicks.hits import Hit, to_events
from linkgen.clicks.logformats import Reader, Record
from linkgen.clicks.variants import label_of
from linkgen.errors import InvalidInput
from linkgen.site import Site

BATCH = 5000  # lines per transaction
_ID = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")


def varnishncsa_format(country_header: str) -> str:
    """The ``varnishncsa -j -F`` format ``ingest`` reads."""
    return (
        '{"ms": %{msec}t, "method": "%m", "status": %s, "path": "%{x-lg-path}i", '
        '"ip": "%h", "referer": "%{Referer}i", "agent": "%{User-agent}i", '
        f'"country": "%{{{country_header}}}i"}}'
    )


@dataclass
class IngestReport:
    files: int = 0
    lines: int = 0  # new lines read
    clicks: int = 0
    views: int = 0
    ignored: int = 0  # other requests, HEADs, unknown links, lines that are not ours
    already: int = 0  # files counted before, nothing new in them
    sources: list[str] = field(default_factory=list)


def _open(path: Path) -> IO[bytes]:
    if path.suffix == ".gz":
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return path.open("rb")


def _is_id(value: str) -> bool:
    return len(value) == 12 and all(char in _ID for char in value)


def _hit(record: Record) -> tuple[str, str, Hit] | None:
    """(kind, id, hit) for a click or a view, else None."""
    path, status = record.path, record.status
    if record.method == "HEAD":
        return None
    if path.startswith("/r/") and status == 302 and _is_id(path[3:]):
        kind, target = "click", path[3:]
    elif path.startswith("/v/") and status == 200 and _is_id(path[3:]):
        kind, target = "view", path[3:]
    else:
        return None
    stub: Hit = (
        record.ms / 1000,
        kind,
        "",
        "",
        label_of(record.query),
        record.ip,
        record.agent,
        record.referer,
        record.country,
    )
    return kind, target, stub


def _identity(handle: IO[bytes]) -> bytes | None:
    """What names a log: its first line, with any header lines before it (every
    CloudFront log starts with the same two); None until one line is complete."""
    seen = b""
    while True:
        line = handle.readline()
        if not line.endswith(b"\n"):
            return None
        seen += line
        if not line.startswith(b"#"):
            return seen


def _lines(handle: IO[bytes], offset: int) -> Iterator[tuple[bytes, int]]:
    """Complete lines after ``offset``, each with the offset after it."""
    handle.seek(offset)
    position = offset
    for raw in handle:
        if not raw.endswith(b"\n"):
            return  # being written: the next run takes it
        position += len(raw)
        yield raw, position


def ingest(
    site: Site,
    paths: list[str],
    report: IngestReport | None = None,
    *,
    endpoint_url: str | None = None,
) -> IngestReport:
    """Count the clicks and views in ``paths``: log files, or ``s3://BUCKET/PREFIX/``
    for every log object under it (objects read once are not fetched again: log
    objects in a bucket are written whole and never change)."""
    report = report or IngestReport()
    settings = site.config.redirector
    own = frozenset(
        visitors.referrer_host(url) for url in (site.config.site.url, settings.base_url) if url
    )
    store = ClickStore(clicks_path(site.root), retention_days=settings.events_retention_days)
    try:
        for path in paths:
            if path.startswith("s3://"):
                _bucket(site, store, path, own, report, endpoint_url)
            else:
                _one(site, store, Path(path), own, report)
    finally:
        store.close()
    return report


def _bucket(
    site: Site,
    store: ClickStore,
    url: str,
    own: frozenset[str],
    report: IngestReport,
    endpoint_url: str | None,
) -> None:
    import tempfile

    import boto3

    bucket, _, prefix = url.removeprefix("s3://").partition("/")
    if not bucket:
        raise InvalidInput(f"{url}: no bucket named (s3://BUCKET/PREFIX/)")
    publish = site.config.publish
    client = boto3.client(
        "s3", endpoint_url=endpoint_url or publish.endpoint_url, region_name=publish.region
    )
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    keys = sorted(item["Key"] for page in pages for item in page.get("Contents", []))
    with tempfile.TemporaryDirectory(prefix="linkgen-ingest-") as folder:
        for key in keys:
            name = f"s3://{bucket}/{key}"
            if store.seen(name):
                report.already += 1
                continue
            local = Path(folder) / ("log.gz" if key.endswith(".gz") else "log")
            client.download_file(bucket, key, str(local))
            _one(site, store, local, own, report, name)
            local.unlink()


def _one(
    site: Site,
    store: ClickStore,
    path: Path,
    own: frozenset[str],
    report: IngestReport,
    name: str | None = None,
) -> None:
    try:
        handle = _open(path)
    except OSError as exc:
        raise InvalidInput(f"{path}: cannot be read ({exc.strerror or exc})") from None
    with handle:
        first = _identity(handle)
        if first is None:
            return  # not one complete line yet
        source = hashlib.sha256(first).hexdigest()[:32]
        reader = Reader()
        for line in first.splitlines(keepends=True)[:-1]:
            reader.read(line)  # the header a W3C log names its fields in
        report.files += 1
        report.sources.append(source)
        offset = store.position(source)
        batch: list[tuple[str, str, Hit]] = []
        position = offset
        for raw, position in _lines(handle, offset):
            if raw.startswith(b"#"):
                reader.read(raw)
                continue
            report.lines += 1
            record = reader.read(raw)
            found = _hit(record) if record is not None else None
            if found is None:
                report.ignored += 1
            else:
                batch.append(found)
            if report.lines % BATCH == 0:
                _commit(site, store, batch, (source, position, name or str(path)), own, report)
                batch = []
        if position == offset and not batch:
            report.already += 1
            return
        _commit(site, store, batch, (source, position, name or str(path)), own, report)


def _commit(
    site: Site,
    store: ClickStore,
    found: list[tuple[str, str, Hit]],
    position: tuple[str, int, str],
    own: frozenset[str],
    report: IngestReport,
) -> None:
    """The events of ``found`` and the log's new position, in one transaction."""
    owners = site.routes.owners([target for kind, target, _ in found if kind == "click"])
    profiles = site.routes.existing([target for kind, target, _ in found if kind == "view"])
    hits: list[Hit] = []
    for kind, target, stub in found:
        if kind == "click" and target in owners:
            hits.append((stub[0], kind, owners[target], target, *stub[4:]))
            report.clicks += 1
        elif kind == "view" and target in profiles:
            hits.append((stub[0], kind, target, "", *stub[4:]))
            report.views += 1
        else:
            report.ignored += 1
    store.write(to_events(store, hits, own), position=position)
