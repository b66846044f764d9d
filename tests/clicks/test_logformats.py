"""Every edge's access log, read into the same record; hostile lines are no record.
And ``linkgen clicks ingest`` on a CloudFront log (gzip, W3C fields) and a
Cloudflare Logpush file counts their clicks once, resuming where it stopped."""

from __future__ import annotations

import gzip
import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from linkgen.clicks.logformats import Reader, Record
from tests.support.cli import Cli

AGENT = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148 Safari/604.1"
W3C_FIELDS = (
    "date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem sc-status "
    "cs(Referer) cs(User-Agent) cs-uri-query cs(Cookie) x-edge-result-type x-edge-request-id"
)
WHEN_MS = 1_796_124_394_000  # 2026-12-01T11:26:34Z: what the format tests read
NOW_MS = int(time.time()) * 1000  # what the ingest tests count: today's figures hold it


def w3c_line(
    path: str, status: int, method: str = "GET", request: str = "r1", at_ms: int = WHEN_MS
) -> str:
    stamp = datetime.fromtimestamp(at_ms / 1000, UTC)
    values = [
        f"{stamp:%Y-%m-%d}", f"{stamp:%H:%M:%S}", "FRA56-C1", "512", "192.0.2.7", method,
        "d1.cloudfront.net",
        path, str(status), "https://instagram.com/", AGENT.replace(" ", "%20"), "-", "-",
        "Hit", request,
    ]  # fmt: skip
    return "\t".join(values) + "\n"


def cloudflare_line(path: str, status: int, stamp: Any = WHEN_MS * 1_000_000) -> str:
    return json.dumps({
        "EdgeStartTimestamp": stamp, "ClientRequestMethod": "GET", "EdgeResponseStatus": status,
        "ClientRequestPath": path, "ClientIP": "192.0.2.7", "ClientCountry": "de",
        "ClientRequestReferer": "https://instagram.com/", "ClientRequestUserAgent": AGENT,
    }) + "\n"  # fmt: skip


EXPECTED = Record(
    WHEN_MS, "GET", 302, "/r/AbCdEf123456", "192.0.2.7", "https://instagram.com/", AGENT, ""
)


def test_each_format_is_read_into_the_same_record() -> None:
    varnish = {
        "ms": WHEN_MS, "method": "GET", "status": 302, "path": "/r/AbCdEf123456",
        "ip": "192.0.2.7", "referer": "https://instagram.com/", "agent": AGENT, "country": "",
    }  # fmt: skip
    assert Reader().read(json.dumps(varnish).encode() + b"\n") == EXPECTED
    for stamp in (WHEN_MS * 1_000_000, WHEN_MS, WHEN_MS // 1000, "2026-12-01T11:26:34Z"):
        record = Reader().read(cloudflare_line("/r/AbCdEf123456", 302, stamp).encode())
        assert record == EXPECTED._replace(country="de"), stamp
    reader = Reader()
    assert reader.read(b"#Version: 1.0\n") is None
    assert reader.read(f"#Fields: {W3C_FIELDS}\n".encode()) is None
    assert reader.read(w3c_line("/r/AbCdEf123456", 302).encode()) == EXPECTED


@pytest.mark.parametrize(
    "line",
    [
        b"not json at all\n",
        b'{"ms": "yesterday", "status": 302, "path": "/r/AbCdEf123456"}\n',
        b'{"ms": true, "status": 302, "path": "/r/AbCdEf123456"}\n',
        b'{"ms": 1, "status": [302], "path": "/r/AbCdEf123456"}\n',
        b'["ms", 1]\n',
        b'{"EdgeStartTimestamp": "soon", "EdgeResponseStatus": 302}\n',
        b"\xff\xfe\x00garbage\n",
        b"{" * 10_000 + b"\n",
    ],
)
def test_a_line_that_is_not_a_log_line_is_no_record(line: bytes) -> None:
    assert Reader().read(line) is None


def test_a_w3c_line_with_missing_fields_is_no_record() -> None:
    reader = Reader()
    reader.read(f"#Fields: {W3C_FIELDS}\n".encode())
    assert reader.read(b"2026-12-01\t11:26:34\tFRA\n") is None


@pytest.fixture
def alice(run: Cli) -> tuple[str, str]:
    run("profile", "add", "alice")
    run("link", "add", "alice", "Shop", "https://shop.example.com/")
    shown = run.json("profile", "show", "alice")
    return shown["id"], shown["links"][0]["id"]


def test_a_cloudfront_log_is_counted_once_and_resumed_where_it_stopped(
    run: Cli, alice: tuple[str, str], tmp_path: Path
) -> None:
    profile_id, link_id = alice
    log = tmp_path / "E2ABC.2026-12-01-11.d41d8cd9.gz"
    header = f"#Version: 1.0\n#Fields: {W3C_FIELDS}\n"
    body = w3c_line(f"/r/{link_id}", 302, request="a", at_ms=NOW_MS) + w3c_line(
        f"/v/{profile_id}", 200, request="b", at_ms=NOW_MS
    )
    body += w3c_line(f"/r/{link_id}", 302, "HEAD", request="c", at_ms=NOW_MS) + w3c_line(
        "/alice", 200, request="d", at_ms=NOW_MS
    )
    log.write_bytes(gzip.compress((header + body).encode()))
    first = run.json("clicks", "ingest", str(log))
    assert (first["clicks"], first["views"], first["ignored"], first["lines"]) == (1, 1, 2, 4)
    log.write_bytes(
        gzip.compress(
            (header + body + w3c_line(f"/r/{link_id}", 302, request="e", at_ms=NOW_MS)).encode()
        )
    )
    more = run.json("clicks", "ingest", str(log))
    assert (more["clicks"], more["lines"]) == (1, 1)  # the fields still known mid-file
    other = tmp_path / "E2ABC.2026-12-01-12.aaaaaaaa.gz"  # the same header: another file
    other.write_bytes(
        gzip.compress((header + w3c_line(f"/r/{link_id}", 302, request="f", at_ms=NOW_MS)).encode())
    )
    assert run.json("clicks", "ingest", str(other))["clicks"] == 1
    assert run.json("stats", "alice", "--days", "2")["range"]["clicks"] == 3


def test_a_cloudflare_logpush_file_is_counted_once(
    run: Cli, alice: tuple[str, str], tmp_path: Path
) -> None:
    profile_id, link_id = alice
    log = tmp_path / "20261201T112634Z_20261201T112734Z_abc.log.gz"
    lines = cloudflare_line(f"/r/{link_id}", 302, NOW_MS) + cloudflare_line(
        f"/v/{profile_id}", 200, NOW_MS
    )
    lines += cloudflare_line("/r/ZZZZZZZZZZZZ", 302, NOW_MS)  # a link that does not exist
    log.write_bytes(gzip.compress(lines.encode()))
    report = run.json("clicks", "ingest", str(log))
    assert (report["clicks"], report["views"], report["ignored"]) == (1, 1, 1)
    assert run.json("clicks", "ingest", str(log))["lines"] == 0
    stats = run.json("stats", "alice", "--days", "2")
    assert stats["range"]["clicks"] == 1 and stats["range"]["views"] == 1


def test_logs_are_read_from_a_bucket_once_each(
    run: Cli, alice: tuple[str, str], bucket: Any, s3_endpoint: str
) -> None:
    s3, name = bucket
    profile_id, link_id = alice
    header = f"#Version: 1.0\n#Fields: {W3C_FIELDS}\n"
    for hour, request in (("10", "a"), ("11", "b")):
        body = header + w3c_line(f"/r/{link_id}", 302, request=request, at_ms=NOW_MS)
        s3.put_object(
            Bucket=name, Key=f"cf/E2ABC.2026-12-01-{hour}.x.gz", Body=gzip.compress(body.encode())
        )
    logpush = cloudflare_line(f"/v/{profile_id}", 200, NOW_MS)
    s3.put_object(
        Bucket=name, Key="cf/20261201T11_logpush.log.gz", Body=gzip.compress(logpush.encode())
    )
    s3.put_object(Bucket=name, Key="elsewhere/other.log", Body=b"not ours\n")
    first = run.json("clicks", "ingest", f"s3://{name}/cf/", "--endpoint-url", s3_endpoint)
    assert (first["clicks"], first["views"], first["files"]) == (2, 1, 3)
    body = header + w3c_line(f"/r/{link_id}", 302, request="c", at_ms=NOW_MS)
    s3.put_object(Bucket=name, Key="cf/E2ABC.2026-12-01-12.x.gz", Body=gzip.compress(body.encode()))
    again = run.json("clicks", "ingest", f"s3://{name}/cf/", "--endpoint-url", s3_endpoint)
    assert (again["clicks"], again["files"], again["already"]) == (1, 1, 3)  # only the new one
    assert run.json("stats", "alice", "--days", "2")["range"]["clicks"] == 3
