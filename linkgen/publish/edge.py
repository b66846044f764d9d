"""The edge configuration for this site: linkgen's Varnish VCL, filled in.

    linkgen edge vcl --origin 127.0.0.1:9000 --bucket-path /my-bucket/links

The origin and the bucket path default to ``[publish] endpoint_url`` and
``target``. What the VCL does is described in docs/publishing.md ("A
self-hosted Varnish edge"), with the same behaviour for CloudFront, Fastly and
Cloudflare.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from linkgen.config import PublishSettings
from linkgen.errors import ConfigError

TEMPLATE = Path(__file__).with_name("varnish.vcl")


def vcl(origin: str, bucket_path: str) -> str:
    """The VCL for an S3 origin at ``origin`` (``HOST:PORT`` or a URL) whose objects
    are under ``bucket_path`` (``/BUCKET/PREFIX``, path-style)."""
    parts = urlsplit(origin if "//" in origin else f"//{origin}")
    host = parts.hostname
    if not host:
        raise ConfigError(f"origin: {origin!r} is not HOST:PORT")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    path = "/" + bucket_path.strip("/")
    if any(char in path for char in '"\\\n\r') or any(char in host for char in '"\\\n\r '):
        raise ConfigError("origin and bucket path may not hold quotes, backslashes or spaces")
    return (
        TEMPLATE.read_text(encoding="utf-8")
        .replace("@ORIGIN_HOST@", host)
        .replace("@ORIGIN_PORT@", str(port))
        .replace("@BUCKET_PATH@", "" if path == "/" else path)
    )


def from_settings(settings: PublishSettings) -> tuple[str, str]:
    """(origin, bucket path) of the site's S3 target, for ``vcl``."""
    if not settings.target.startswith("s3://") or not settings.endpoint_url:
        raise ConfigError(
            "publish.target is not an S3 bucket with an endpoint_url: give --origin and "
            "--bucket-path"
        )
    return settings.endpoint_url, "/" + settings.target.removeprefix("s3://").strip("/")
