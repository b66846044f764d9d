"""The edge access-log formats ``linkgen clicks ingest`` reads, each line made into
the same ``Record``.

- linkgen's JSON lines: Varnish (``varnishncsa -j``, the format
  ``linkgen edge varnishncsa`` prints) and Fastly (the real-time logging format
  docs/analytics.md gives) write ``{"ms", "method", "status", "path", "ip",
  "referer", "agent", "country"}``;
- Cloudflare Logpush (HTTP requests, NDJSON): ``EdgeStartTimestamp`` (RFC 3339,
  or Unix seconds, milliseconds or nanoseconds), ``ClientRequestMethod``,
  ``EdgeResponseStatus``, ``ClientRequestPath``, ``ClientIP``,
  ``ClientRequestReferer``, ``ClientRequestUserAgent``, ``ClientCountry``;
- CloudFront standard logs (W3C extended, tab-separated, the fields named by
  the ``#Fields:`` line): ``date``, ``time``, ``c-ip``, ``cs-method``,
  ``cs-uri-stem``, ``sc-status``, ``cs(Referer)``, ``cs(User-Agent)``
  (URL-encoded); they have no country.

Whatever a line holds is hostile: a line that is not one of these, or whose
values are not of the right kind, is no record.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, NamedTuple
from urllib.parse import unquote


class Record(NamedTuple):
    ms: int  # when the request came, Unix milliseconds
    method: str
    status: int
    path: str  # the path asked for, without the query
    ip: str
    referer: str
    agent: str
    country: str
    query: str = ""  # what followed the "?" (a title test's page variant: x=b)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _status(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def _cloudflare_ms(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 10**11:  # Unix seconds (unix)
            return value * 1000
        if value < 10**14:  # milliseconds (unixms)
            return value
        return value // 1_000_000  # nanoseconds (unixnano, Logpush's default)
    if isinstance(value, str):
        try:
            return int(dt.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() * 1000)
        except ValueError:
            return None
    return None


def _from_json(line: dict[str, Any]) -> Record | None:
    if "ClientRequestPath" in line or "EdgeStartTimestamp" in line:
        ms = _cloudflare_ms(line.get("EdgeStartTimestamp"))
        status = _status(line.get("EdgeResponseStatus"))
        path, _, query = _text(line.get("ClientRequestPath")).partition("?")
        if ms is None or status is None:
            return None
        return Record(
            ms, _text(line.get("ClientRequestMethod")), status, path,
            _text(line.get("ClientIP")), _text(line.get("ClientRequestReferer")),
            _text(line.get("ClientRequestUserAgent")), _text(line.get("ClientCountry")),
            query or _text(line.get("ClientRequestURI")).partition("?")[2],
        )  # fmt: skip
    ms, status = line.get("ms"), _status(line.get("status"))
    if not isinstance(ms, int) or isinstance(ms, bool) or status is None:
        return None
    path, _, query = _text(line.get("path")).partition("?")
    return Record(
        ms, _text(line.get("method")), status, path,
        _text(line.get("ip")), _text(line.get("referer")), _text(line.get("agent")),
        _text(line.get("country")), query,
    )  # fmt: skip


class Reader:
    """Reads one log's lines in order (a W3C log names its fields in a header)."""

    def __init__(self) -> None:
        self.fields: list[str] | None = None

    def read(self, raw: bytes) -> Record | None:
        text = raw.decode("utf-8", "replace").rstrip("\r\n")
        if text.startswith("#Fields:"):
            self.fields = text.removeprefix("#Fields:").split()
            return None
        if text.startswith("#") or not text:
            return None
        if self.fields is not None:
            return self._w3c(text.split("\t"))
        try:
            parsed = json.loads(text)
        except ValueError:
            return None
        return _from_json(parsed) if isinstance(parsed, dict) else None

    def _w3c(self, values: list[str]) -> Record | None:
        assert self.fields is not None
        if len(values) != len(self.fields):
            return None
        row = dict(zip(self.fields, values, strict=True))
        status = _status(row.get("sc-status"))
        try:
            when = dt.datetime.fromisoformat(f"{row.get('date')}T{row.get('time')}+00:00")
        except ValueError:
            return None
        if status is None:
            return None

        def field(name: str) -> str:
            value = row.get(name, "-")
            return "" if value == "-" else unquote(value)

        return Record(
            int(when.timestamp() * 1000), field("cs-method"), status, field("cs-uri-stem"),
            field("c-ip"), field("cs(Referer)"), field("cs(User-Agent)"), "",
            field("cs-uri-query"),
        )  # fmt: skip
