"""The redirector's links read from the bucket's link map (``[redirector] links_from``).

The same index as from the database (``LinkIndex``: link id -> route, and the
profiles that exist), filled from ``_linkgen/links/`` (publish/linkmap.py):
the index is polled every ``links_refresh_seconds`` (a conditional GET: one
small answer when nothing changed), and only the shards whose digest changed
are fetched. Everything read is hostile until checked: sizes are capped, a
shard must match the digest the index gives it and hold only profiles of its
own shard, every id and username must be one linkgen could have made, and
every address (a smart link's rules and A/B variants too) must pass the same
rules as an edit. A shard that fails is logged and skipped — the last good
one keeps serving — and tried again on the next poll.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from linkgen import rules
from linkgen.clicks.link_index import Form, Route, choices, epoch, split_test
from linkgen.clicks.locks import gate
from linkgen.models import RULES_MAX, Lock, Rule, Split, describe
from linkgen.publish import linkmap

log = logging.getLogger(__name__)

INDEX_MAX = 1 << 20
SHARD_MAX = 64 << 20
ID = Annotated[str, Field(pattern=r"^[A-Za-z0-9]{12}$")]
STAMP = Annotated[str, Field(pattern=r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")] | None
DIGEST = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class MapIndex(_Strict):
    format: int = Field(ge=linkmap.FORMAT, le=linkmap.FORMAT)
    site_url: str = Field(max_length=rules.URL_MAX)
    shards: dict[Annotated[str, Field(pattern=r"^[0-9a-f]{2}$")], DIGEST]

    @field_validator("site_url")
    @classmethod
    def _web_address(cls, value: str) -> str:
        base = value.rstrip("/") + "/"
        if not base.startswith(("https://", "http://")) or rules.url(base) != base or "?" in base:
            raise ValueError("must be the site's http(s) address")
        return base.rstrip("/")

    @field_validator("shards")
    @classmethod
    def _every_shard(cls, value: dict[str, str]) -> dict[str, str]:
        if len(value) != linkmap.SHARDS:
            raise ValueError(f"must list all {linkmap.SHARDS} shards")
        return value


Address = Annotated[str, Field(max_length=rules.URL_MAX)]


class MapSmart(_Strict):
    """A smart link's rules, lock and A/B test, checked as an edit checks them."""

    rules: list[Rule] = Field(default_factory=list, max_length=RULES_MAX)
    lock: Lock | None = None
    split: Split | None = None


LinkRow = tuple[ID, Address, bool, STAMP, STAMP] | tuple[ID, Address, bool, STAMP, STAMP, MapSmart]


class MapProfile(_Strict):
    username: str = Field(max_length=rules.USERNAME_MAX)
    links: list[LinkRow] = Field(max_length=rules.MAX_LINKS)

    @field_validator("username")
    @classmethod
    def _username(cls, value: str) -> str:
        if rules.username(value) != value:
            raise ValueError("not a username")
        return value

    @field_validator("links")
    @classmethod
    def _addresses(cls, value: list[Any]) -> list[Any]:
        for _, url, *_rest in value:
            if rules.url(url) != url:
                raise ValueError(f"{url!r} is not an address linkgen would store")
        return value


class MapShard(_Strict):
    format: int = Field(ge=linkmap.FORMAT, le=linkmap.FORMAT)
    shard: int = Field(ge=0, lt=linkmap.SHARDS)
    profiles: dict[ID, MapProfile]


class BucketLinkIndex:
    """link id -> Route and the profiles that exist, from the bucket's link map."""

    def __init__(self, client: Any, bucket: str, prefix: str, refresh_seconds: float) -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix
        self.refresh_seconds = refresh_seconds
        self.routes: dict[str, Route] = {}
        self.forms: dict[str, Form] = {}  # sign-up forms need the content database
        self.hashes: dict[str, str] = {}  # profile id -> its shard's digest: those that exist
        self.site_url = ""
        self._shards: dict[int, tuple[str, dict[str, Route], dict[str, str]]] = {}
        self._etag = ""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Load the whole map (or fail: a redirector with no links serves nothing right)."""
        if not self.refresh():
            raise RuntimeError(
                f"no usable link map at s3://{self.bucket}/{self.prefix}{linkmap.INDEX} "
                f"(see the log): publish with [redirector] link_map = true first"
            )
        self._thread = threading.Thread(target=self._watch, daemon=True, name="bucket-links")
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)

    def _watch(self) -> None:
        while not self._stop.wait(self.refresh_seconds):
            try:
                self.refresh()
            except Exception:  # keep serving the last good map
                log.exception("could not refresh the link map; serving the last known one")

    def refresh(self) -> bool:
        """Fetch what changed; False when the bucket has no map at all."""
        found = self._get(linkmap.INDEX, INDEX_MAX, if_none_match=self._etag)
        if found is None:
            return bool(self._shards)
        data, etag = found
        if data is None:  # not modified
            return True
        try:
            index = MapIndex.model_validate_json(data)
        except (ValueError, ValidationError) as exc:
            log.error("link map index refused: %s", _short(exc))
            return bool(self._shards)
        self.site_url = index.site_url
        wanted = {int(name, 16): value for name, value in index.shards.items()}
        stale = [
            shard for shard, value in wanted.items() if self._shards.get(shard, ("",))[0] != value
        ]
        with ThreadPoolExecutor(max_workers=16) as pool:
            loaded = list(pool.map(lambda shard: self._load(shard, wanted[shard]), stale))
        complete = True
        for shard, entry in zip(stale, loaded, strict=True):
            if entry is None:
                complete = False
            else:
                self._shards[shard] = entry
        self._swap()
        if complete:
            self._etag = etag  # else the next poll fetches the index again
        return True

    def _load(
        self, shard: int, expected: str
    ) -> tuple[str, dict[str, Route], dict[str, str]] | None:
        key = f"{linkmap.FOLDER}{shard:02x}.json"
        found = self._get(key, SHARD_MAX)
        if found is None or found[0] is None:
            log.warning("link map shard %02x is missing; tried again on the next poll", shard)
            return None
        data = found[0]
        if linkmap.digest(data) != expected:  # written after the index we read: next poll
            log.warning("link map shard %02x does not match the index yet", shard)
            return None
        try:
            document = MapShard.model_validate_json(data)
        except (ValueError, ValidationError) as exc:
            log.error("link map shard %02x refused: %s", shard, _short(exc))
            return None
        if document.shard != shard or any(linkmap.shard_of(p) != shard for p in document.profiles):
            log.error("link map shard %02x refused: it holds another shard's profiles", shard)
            return None
        routes: dict[str, Route] = {}
        for profile_id, profile in document.profiles.items():
            home = f"{self.site_url}/{profile.username}"
            for link_id, url, enabled, starts, ends, *more in profile.links:
                smart = more[0] if more else MapSmart()
                kept = [rule.model_dump(mode="json") for rule in smart.rules]
                routes[link_id] = Route(
                    url, profile_id, home, enabled, epoch(starts), epoch(ends), choices(kept),
                    gate(smart.lock.model_dump()) if smart.lock else None,
                    split_test(link_id, url, smart.split.model_dump()) if smart.split else None,
                )  # fmt: skip
        return expected, routes, dict.fromkeys(document.profiles, expected)

    def _swap(self) -> None:
        routes: dict[str, Route] = {}
        hashes: dict[str, str] = {}
        for _, shard_routes, shard_profiles in self._shards.values():
            routes.update(shard_routes)
            hashes.update(shard_profiles)
        # Swapped in whole: a request sees the old map or the new one.
        self.routes, self.hashes = routes, hashes

    def _get(
        self, name: str, limit: int, if_none_match: str = ""
    ) -> tuple[bytes | None, str] | None:
        """(body, ETag); (None, ETag) when not modified; None when there is no object."""
        from botocore.exceptions import ClientError

        extra = {"IfNoneMatch": if_none_match} if if_none_match else {}
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=f"{self.prefix}{name}", **extra)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in ("304", "NotModified"):
                return None, if_none_match
            if code in ("NoSuchKey", "404"):
                return None
            raise
        data = answer["Body"].read(limit + 1)
        if len(data) > limit:
            raise ValueError(f"{name} is larger than {limit} bytes")
        return data, str(answer.get("ETag", ""))


def _short(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return describe(exc)[:500]
    return str(exc)[:300] or type(exc).__name__
