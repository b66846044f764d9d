"""Site settings: ``linkgen.toml`` overlaid with ``LINKGEN_<SECTION>__<KEY>`` env vars."""

from __future__ import annotations

import contextlib
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from linkgen import rules
from linkgen.errors import ConfigError
from linkgen.models import describe
from linkgen.store import settings_file
from linkgen.store.settings_file import CONFIG_FILE as CONFIG_FILE
from linkgen.store.settings_file import ENV_PREFIX as ENV_PREFIX
from linkgen.store.settings_file import SETTINGS_CACHE as SETTINGS_CACHE


def _base_url(value: str) -> str:
    normalised = rules.url(value)
    if not normalised.startswith(("https://", "http://")):
        raise ValueError("must be an http(s) URL")
    return normalised.rstrip("/")


BaseUrl = Annotated[str, AfterValidator(_base_url)]


def _home(value: str) -> str:
    if value == "directory":
        return value
    if value.startswith("@"):
        return "@" + rules.username(value[1:])
    if value.startswith(("https://", "http://")):
        return _base_url(value)
    raise ValueError("must be 'directory', '@<username>' or an http(s) URL")


HEADER = r"^[A-Za-z0-9-]{1,64}$"


class _Section(BaseModel):
    # defer_build: the schemas are built on the first validation, which a command
    # whose settings are cached (``load``) never makes.
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class SiteSettings(_Section):
    url: BaseUrl = "http://127.0.0.1:8000"
    title: str = Field("linkgen", max_length=80)
    # The pages' language unless a profile says its own (a BCP 47 tag: en, ja, pt-BR).
    language: Annotated[str, AfterValidator(rules.language)] = "en"
    default_theme: str = "default"
    # What / shows: "directory" (the profiles, by username), "@<username>" (that
    # profile's page), or an http(s) URL to send visitors to.
    home: Annotated[str, AfterValidator(_home)] = "directory"


class RedirectorSettings(_Section):
    base_url: BaseUrl | None = None  # where the pages send clicks and view beacons
    # "edge": links and view beacons are answered by the CDN edge from objects the
    # publisher writes (r/<link id>), no redirector process needed; clicks are then
    # counted from the edge's logs. "origin": through the redirector at base_url.
    mode: Literal["origin", "edge"] = "origin"
    host: str = Field("127.0.0.1", pattern=r"^[A-Za-z0-9.:\[\]-]{1,255}$")
    port: int = Field(8081, ge=1, le=65535)
    workers: int = Field(1, ge=1, le=64)
    # The header a CDN puts the visitor's country in (CloudFront-Viewer-Country,
    # CF-IPCountry, Fastly-Geo-Country-Code, ...).
    country_header: str = Field("CloudFront-Viewer-Country", pattern=HEADER)
    # Behind a proxy or CDN: the header holding the visitor's address
    # (CF-Connecting-IP, X-Forwarded-For). Unset: the connection's address.
    client_ip_header: str | None = Field(None, pattern=HEADER)
    queue_capacity: int = Field(100_000, ge=100, le=10_000_000)
    batch_rows: int = Field(5000, ge=1, le=100_000)
    batch_seconds: float = Field(0.025, gt=0, le=0.1)  # a kill -9 loses at most this much
    events_retention_days: int = Field(90, ge=1, le=3650)
    # Prometheus metrics on their own listener; 0 turns them off. Needs workers = 1
    # (scale out with one process per port behind a balancer, each scraped).
    metrics_host: str = Field("127.0.0.1", pattern=r"^[A-Za-z0-9.:\[\]-]{1,255}$")
    metrics_port: int = Field(9464, ge=0, le=65535)
    # Several redirectors without the editor's database: the publisher writes every
    # link to the bucket (link_map = true, on the machine that publishes), and each
    # redirector reads it from there (links_from = "s3://BUCKET/PREFIX", the
    # publish target; its endpoint_url and region below), polling for changes.
    link_map: bool = False
    links_from: str | None = Field(None, pattern=r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/.*)?$")
    links_endpoint_url: BaseUrl | None = None
    links_region: str | None = None
    links_refresh_seconds: float = Field(1.0, ge=0.1, le=300)


class ClicksSettings(_Section):
    # `linkgen clicks ship` writes each closed hour of raw events here as gzip NDJSON.
    ship_to: str | None = Field(None, pattern=r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/.*)?$")
    endpoint_url: BaseUrl | None = None
    region: str | None = None
    instance: str | None = Field(None, pattern=r"^[A-Za-z0-9._-]{1,64}$")  # default: host name


class BuildSettings(_Section):
    output: str = "build"
    jobs: int = Field(0, ge=0, le=256, description="0 = one per CPU core")
    max_links: int = Field(rules.MAX_LINKS, ge=1, le=rules.MAX_LINKS)
    # A 1200x630 card per profile for link previews (og:image), drawn when its
    # name, avatar or colours change; off: the avatar, else one card for the site.
    social_cards: bool = True
    qr_codes: bool = True  # an SVG QR code of each profile's page, under /_m/


class PublishSettings(_Section):
    # s3://BUCKET/PREFIX, or file://DIR (relative to the site) / file:///ABS/DIR
    target: str = Field(
        "file://published", pattern=r"^(s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/.*)?|file://.+)$"
    )
    endpoint_url: BaseUrl | None = None  # any S3-compatible store: MinIO, R2, B2, ...
    region: str | None = None
    acl: Literal["private", "public-read"] | None = None
    max_deletes: int = Field(256, ge=0)
    parallel: int = Field(16, ge=1, le=128)


class CdnSettings(_Section):
    provider: Literal["none", "varnish", "fastly", "cloudflare", "cloudfront"] = "none"
    # varnish: every edge node's address; PURGE requests go to each.
    varnish_urls: list[BaseUrl] = []
    # fastly: the service to purge; the API token comes from $FASTLY_API_TOKEN only.
    fastly_service_id: str | None = Field(None, pattern=r"^[A-Za-z0-9]{1,64}$")
    fastly_api_url: BaseUrl = "https://api.fastly.com"
    soft_purge: bool = False  # mark stale instead of evicting
    # cloudflare: the zone to purge; the API token comes from $CLOUDFLARE_API_TOKEN only.
    cloudflare_zone_id: str | None = Field(None, pattern=r"^[0-9a-f]{32}$")
    cloudflare_api_url: BaseUrl = "https://api.cloudflare.com/client/v4"
    cloudflare_purge_by: Literal["url", "tag"] = "url"  # "tag" needs a Cache-Tag header
    cloudflare_batch: int = Field(100, ge=1, le=500, description="500 on Enterprise")
    # cloudfront: the distribution; credentials from boto3's standard chain.
    cloudfront_distribution_id: str | None = Field(None, pattern=r"^[A-Z0-9]{6,32}$")
    cloudfront_endpoint_url: BaseUrl | None = None
    # More changed paths than this in one run: invalidate "/*" (billed as one path).
    cloudfront_wildcard_over: int = Field(1000, ge=1, le=3000)
    purge_wait: float = Field(60.0, ge=0, le=3600, description="longest wait on rate limits")


def _network(value: str) -> str:
    import ipaddress

    try:
        return str(ipaddress.ip_network(value, strict=False))
    except ValueError:
        raise ValueError(f"{value!r} is not a network (e.g. 192.168.1.0/24)") from None


class FetchSettings(_Section):
    # URLs linkgen downloads (avatars, thumbnails, imported pages) may reach only
    # public addresses; list networks of your own here to allow them too.
    allow_networks: list[Annotated[str, AfterValidator(_network)]] = []


EMBED_PROVIDERS = ("youtube", "vimeo", "spotify", "soundcloud", "applemusic", "tiktok", "bandcamp")


def _providers(value: dict[str, str]) -> dict[str, str]:
    unknown = sorted(set(value) - set(EMBED_PROVIDERS))
    if unknown:
        raise ValueError(f"no provider {', '.join(unknown)} (known: {', '.join(EMBED_PROVIDERS)})")
    return value


class EmbedSettings(_Section):
    # A build fetches each embed's thumbnail once (through [fetch]'s rules) so the
    # page asks the provider for nothing; false: embeds show a play mark only.
    thumbnails: bool = True
    deadline: float = Field(5.0, gt=0, le=60)  # seconds for each download
    # Another oEmbed endpoint for a provider (a mirror or proxy of your own).
    oembed: Annotated[dict[str, BaseUrl], AfterValidator(_providers)] = {}


class EditorSettings(_Section):
    # The address creators open the editor at: sign-in links printed by
    # `linkgen user add` point here.
    base_url: BaseUrl = "http://127.0.0.1:8090"
    # Prometheus /metrics of the editor (sign-ins, password resets); 0: off.
    metrics_host: str = Field("127.0.0.1", pattern=r"^[A-Za-z0-9.:\[\]-]{1,255}$")
    metrics_port: int = Field(0, ge=0, le=65535)


class ApiSettings(_Section):
    # The HTTP API under /api/v1/ of the editor (bearer tokens: `linkgen token add`).
    enabled: bool = True
    # Each token's allowance: `rate` requests a second on average, `burst` at once.
    rate: float = Field(10.0, gt=0, le=100_000)
    burst: int = Field(60, ge=1, le=1_000_000)


class WebhookSettings(_Section):
    # A failed delivery is tried again after `retry_seconds`, doubling each time (with
    # jitter) up to `max_retry_seconds`, until `give_up_hours` after the event.
    retry_seconds: float = Field(5.0, gt=0, le=3600)
    max_retry_seconds: float = Field(3600.0, gt=0, le=86400)
    give_up_hours: float = Field(24.0, gt=0, le=720)
    timeout: float = Field(10.0, gt=0, le=60)


class EmailSettings(_Section):
    # Where the editor's e-mail goes out (sign-in links, a forgotten password).
    # No host: nothing is sent, and `linkgen user add` prints the link instead.
    host: str | None = Field(None, pattern=r"^[A-Za-z0-9.:\[\]-]{1,255}$")
    port: int = Field(587, ge=1, le=65535)
    security: Literal["starttls", "tls", "none"] = "starttls"
    user: str | None = Field(None, max_length=254)
    # The password is never in the file: it is read from this environment variable.
    password_env: str = Field("LINKGEN_SMTP_PASSWORD", pattern=r"^[A-Z_][A-Z0-9_]{0,63}$")
    from_address: str = Field("linkgen@localhost", max_length=254)
    ca_file: str | None = None  # a private CA for the server's certificate
    timeout: float = Field(10.0, gt=0, le=120)


class Config(_Section):
    site: SiteSettings = Field(default_factory=SiteSettings)
    editor: EditorSettings = Field(default_factory=EditorSettings)
    api: ApiSettings = Field(default_factory=ApiSettings)
    webhooks: WebhookSettings = Field(default_factory=WebhookSettings)
    email: EmailSettings = Field(default_factory=EmailSettings)
    redirector: RedirectorSettings = Field(default_factory=RedirectorSettings)
    clicks: ClicksSettings = Field(default_factory=ClicksSettings)
    build: BuildSettings = Field(default_factory=BuildSettings)
    publish: PublishSettings = Field(default_factory=PublishSettings)
    cdn: CdnSettings = Field(default_factory=CdnSettings)
    fetch: FetchSettings = Field(default_factory=FetchSettings)
    embeds: EmbedSettings = Field(default_factory=EmbedSettings)


def load(site_dir: Path, environ: dict[str, str] | None = None) -> Config:
    """The site's settings: ``linkgen.toml`` with the environment's overrides, checked.

    What was checked is kept in ``site_data/.settings.json`` under a key made of
    the file's bytes, the overrides and the code that checks them, so the next
    command with the same settings reads them back without validating them again
    (pydantic's schemas for them cost a tenth of a second to build;
    ``store.settings_file``).
    """
    path = site_dir / CONFIG_FILE
    raw, overrides, key = settings_file.read(site_dir, environ)
    kept = settings_file.kept(site_dir, key)
    if kept is not None:
        with contextlib.suppress(KeyError, TypeError, AttributeError):
            return from_kept(kept)
    try:
        data: dict[str, Any] = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: {exc}") from None
    for section, values in overrides.items():
        if not isinstance(data.setdefault(section, {}), dict):
            raise ConfigError(f"{path}: [{section}] must be a table")
        data[section].update(values)
    try:
        checked = Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{path}: {describe(exc)}") from None
    settings_file.keep(site_dir, key, checked.model_dump(mode="json"))
    return checked


def from_kept(kept: dict[str, dict[str, Any]]) -> Config:
    """Settings checked before (``settings_file.kept``), rebuilt without validation."""
    sections = {
        name: Config.model_fields[name].annotation.model_construct(**values)  # type: ignore[union-attr]
        for name, values in kept.items()
    }
    return Config.model_construct(**sections)


DEFAULT_TOML = """\
# linkgen site settings. Any value can be overridden by an environment
# variable LINKGEN_<SECTION>__<KEY>, e.g. LINKGEN_SITE__URL.

[site]
# The public address of the site; profile pages live at <url>/<username>.
url = "http://127.0.0.1:8000"
title = "linkgen"
language = "en"
default_theme = "default"
home = "directory"   # what / shows: "directory", "@<username>", or an https:// URL

[email]
# The SMTP server the editor sends sign-in links and password resets through.
# Without a host nothing is sent: `linkgen user add` prints the link instead.
# host = "smtp.example.com"
# port = 587
# security = "starttls"                      # or "tls" (port 465), "none"
# user = "links@example.com"                 # the password comes from $LINKGEN_SMTP_PASSWORD
# from_address = "links@example.com"

[redirector]
# Set to send clicks through the redirector (<base_url>/r/<link_id>) and to
# count views (<base_url>/v/<profile_id>); `linkgen redirector` serves both.
# base_url = "https://go.example.com"
host = "127.0.0.1"
port = 8081
workers = 1
country_header = "CloudFront-Viewer-Country"   # or CF-IPCountry, Fastly-Geo-Country-Code
# client_ip_header = "CF-Connecting-IP"        # only behind a proxy that sets it
events_retention_days = 90                     # raw events; daily rollups are kept
metrics_host = "127.0.0.1"                     # Prometheus /metrics, never on the public port
metrics_port = 9464                            # 0: off

[clicks]
# `linkgen clicks ship` copies each closed hour of raw click and view events
# to S3 as clicks/dt=YYYY-MM-DD/hour=HH/<instance>.ndjson.gz (idempotent).
# ship_to = "s3://my-analytics-bucket/linkgen"
# instance = "redirector-1"     # default: this machine's host name

[build]
output = "build"
jobs = 0          # 0 = one per CPU core
max_links = 50

[publish]
# Where `linkgen publish` uploads build/: a local folder laid out exactly
# like the bucket, or any S3-compatible bucket (credentials come from the
# usual AWS variables or files, never from this file).
target = "file://published"
# target = "s3://my-bucket/links"
# endpoint_url = "https://<account>.r2.cloudflarestorage.com"
# acl = "public-read"
max_deletes = 256  # more deletes than this in one run need --max-deletes

[cdn]
# After a publish, drop the changed profiles' pages from the CDN by surrogate
# key. "varnish": a self-hosted Varnish with xkey (`linkgen edge vcl` prints its VCL);
# "fastly": Fastly's batch purge (the token comes from $FASTLY_API_TOKEN only);
# "cloudflare": purge by URL or by tag (the token from $CLOUDFLARE_API_TOKEN only);
# "cloudfront": create_invalidation with the exact paths that changed.
provider = "none"
# varnish_urls = ["http://127.0.0.1:6081"]
# fastly_service_id = "SU1Z0isxPaozGVKXdv0eY"
# cloudflare_zone_id = "023e105f4ecef8ad9ca31a8372d0c353"
# cloudfront_distribution_id = "EDFDVBD6EXAMPLE"
"""
