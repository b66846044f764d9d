"""The edge configuration for this site, filled in: linkgen's Varnish VCL, and the
same behaviour for CloudFront (two functions), Fastly (a custom VCL) and
Cloudflare (a Worker), kept in ``edges/``.

    linkgen edge vcl --origin 127.0.0.1:9000 --bucket-path /my-bucket/links
    linkgen edge cloudfront --event viewer-request

The origin and the paths default to ``[publish] endpoint_url`` and ``target``.
What every edge does is described in docs/publishing.md ("What the edge does").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from linkgen.errors import ConfigError

if TYPE_CHECKING:  # settings read by name: no models loaded
    from linkgen.config import PublishSettings

EDGES = Path(__file__).with_name("edges")
CLOUDFRONT_EVENTS = ("viewer-request", "viewer-response")


def _source(name: str) -> str:
    return (EDGES / name).read_text(encoding="utf-8")


def _plain(what: str, value: str) -> str:
    if any(char in value for char in "\"\\\n\r' `$"):
        raise ConfigError(f"{what} may not hold quotes, backslashes, spaces or '$'")
    return value


def _path(value: str) -> str:
    """``/a/b`` from ``a/b``, ``/a/b/`` or ``/``; ``""`` for the root."""
    path = "/" + value.strip("/")
    return "" if path == "/" else _plain("the path", path)


def _domains(domains: Sequence[tuple[str, str]]) -> str:
    """VCL for each (username, domain): the host's root is the page, another page's
    path there is missing, and the profile's address on any other host is a 301."""
    lines: list[str] = []
    for username, domain in domains:
        user, host = _plain("a username", username), _plain("a domain", domain)
        if not re.fullmatch(r"[a-z0-9_-]+", user) or not re.fullmatch(r"[a-z0-9.-]+", host):
            raise ConfigError(f"{username!r} and {domain!r} are not a username and a host")
        pattern = "^" + re.escape(host).replace("\\-", "-") + "(:[0-9]+)?$"
        lines += [
            f'        if (std.tolower(req.http.host) ~ "{pattern}") {{',
            '            if (req.url ~ "^/+$") {',
            f'                set req.url = "/{user}";',
            '            } elsif (req.url ~ "^/[^/._]+/*$") {',
            '                set req.http.x-lg-missing = "1";  # another page: not here',
            '                set req.url = "/404.html";',
            "            }",
            f'        }} elsif (req.url ~ "(?i)^/{user}/*$") {{',
            f'            set req.http.x-lg-location = "https://{host}/";',
            '            return (synth(301, "Moved Permanently"));',
            "        }",
        ]
    return "\n".join(lines) if lines else "        # (none)"


def vcl(origin: str, bucket_path: str, domains: Sequence[tuple[str, str]] = ()) -> str:
    """The VCL for an S3 origin at ``origin`` (``HOST:PORT`` or a URL) whose objects
    are under ``bucket_path`` (``/BUCKET/PREFIX``, path-style); ``domains``: the
    (username, host) of each profile with a domain of its own."""
    parts = urlsplit(origin if "//" in origin else f"//{origin}")
    host = parts.hostname
    if not host:
        raise ConfigError(f"origin: {origin!r} is not HOST:PORT")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return (
        _source("varnish.vcl")
        .replace("@ORIGIN_HOST@", _plain("the origin", host))
        .replace("@ORIGIN_PORT@", str(port))
        .replace("@ORIGIN_AUTHORITY@", _plain("the origin", parts.netloc))
        .replace("@BUCKET_PATH@", _path(bucket_path))
        .replace("@DOMAINS@", _domains(domains))
    )


def cloudfront(event: str) -> str:
    """The CloudFront Function for ``event`` (the origin path is the distribution's)."""
    if event not in CLOUDFRONT_EVENTS:
        raise ConfigError(f"event: {event!r} is not one of {', '.join(CLOUDFRONT_EVENTS)}")
    return _source(f"cloudfront-{event.removeprefix('viewer-')}.js")


def fastly(prefix: str) -> str:
    """Fastly's custom VCL for a bucket backend whose objects are under ``prefix``."""
    return _source("fastly.vcl").replace("@PREFIX@", _path(prefix))


def cloudflare(prefix: str, origin: str = "") -> str:
    """The Cloudflare Worker; ``origin`` "" is the site's own hostname (the bucket
    bound to it), the only choice under which purges by URL reach the cache."""
    if origin:
        parts = urlsplit(origin)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.path.strip("/"):
            raise ConfigError(f"origin: {origin!r} is not an http(s) address without a path")
        origin = _plain("the origin", origin.rstrip("/"))
    return (
        _source("cloudflare-worker.js")
        .replace("@ORIGIN@", origin)
        .replace("@PREFIX@", _path(prefix))
    )


def from_settings(settings: PublishSettings) -> tuple[str, str]:
    """(origin, bucket path) of the site's S3 target, for ``vcl``."""
    if not settings.target.startswith("s3://") or not settings.endpoint_url:
        raise ConfigError(
            "publish.target is not an S3 bucket with an endpoint_url: give --origin and "
            "--bucket-path"
        )
    return settings.endpoint_url, "/" + settings.target.removeprefix("s3://").strip("/")


def key_prefix(settings: PublishSettings) -> str:
    """The key prefix of the site's S3 target (``s3://bucket/links`` → ``/links``)."""
    if not settings.target.startswith("s3://"):
        raise ConfigError("publish.target is not an S3 bucket: give --prefix")
    return _path(settings.target.removeprefix("s3://").partition("/")[2])
