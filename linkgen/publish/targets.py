"""Where objects go: a local folder laid out like the bucket, or any S3 bucket."""

from __future__ import annotations

import base64
import functools
import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from linkgen.errors import ConfigError, PublishError
from linkgen.fsutil import remove, write_file
from linkgen.publish.objects import BuiltObject

if TYPE_CHECKING:  # settings read by name: no models loaded
    from linkgen.config import PublishSettings

DELETE_BATCH = 1000  # the S3 limit for one DeleteObjects request


class Target(Protocol):
    name: str  # identifies the target in the manifest
    prefix: str  # every key we write starts with it; nothing outside is touched

    def connect(self) -> None:
        """Get ready to send requests (no request is sent)."""
        ...

    def check(self) -> None:
        """Fail early, with a clear message, if the target cannot be written."""
        ...

    def put(self, key: str, data: bytes, obj: BuiltObject) -> None: ...

    def put_private(self, key: str, data: bytes) -> None:
        """Store linkgen's own bookkeeping (never public, never cached)."""
        ...

    def get(self, key: str) -> bytes | None:
        """An object's bytes, or None if there is no such object."""
        ...

    def inventory(self) -> dict[str, tuple[int, str]]:
        """Every object under the prefix: key -> (size, MD5 hex). Lists; verify only."""
        ...

    def delete(self, keys: list[str]) -> list[str]:
        """Delete up to DELETE_BATCH keys; return the keys that failed."""
        ...

    def written_by_us(self, key: str) -> bool:
        """Whether the object at ``key`` carries what linkgen writes on every object
        (asked before deleting an entry that only the bucket's copy vouches for)."""
        ...


class FileTarget:
    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.name = self.root.as_uri()
        self.prefix = ""

    def connect(self) -> None:
        return None

    def check(self) -> None:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise PublishError(f"cannot write to {self.root}: {exc.strerror}") from None

    def path(self, key: str) -> Path:
        """Where ``key`` lives: always inside the folder (no ``..``, no link out of it)."""
        path = (self.root / key).resolve()
        if path == self.root or not path.is_relative_to(self.root):
            raise PublishError(f"refusing to touch {key!r}: it is outside {self.root}")
        return path

    def put(self, key: str, data: bytes, obj: BuiltObject) -> None:
        write_file(self.path(key), data)

    def put_private(self, key: str, data: bytes) -> None:
        write_file(self.path(key), data)

    def get(self, key: str) -> bytes | None:
        try:
            return self.path(key).read_bytes()
        except FileNotFoundError:
            return None

    def inventory(self) -> dict[str, tuple[int, str]]:
        found = {}
        for path in self.root.rglob("*") if self.root.is_dir() else []:
            if path.is_file() and not path.name.startswith("."):
                data = path.read_bytes()
                key = path.relative_to(self.root).as_posix()
                found[key] = (len(data), hashlib.md5(data).hexdigest())
        return found

    def delete(self, keys: list[str]) -> list[str]:
        paths = [self.path(key) for key in keys]  # all checked before any is removed
        for path in paths:
            remove(path)
        return []

    def written_by_us(self, key: str) -> bool:
        return self.path(key).is_file()  # a folder keeps no metadata: inside it is enough


class S3Target:
    def __init__(self, settings: PublishSettings, bucket: str, prefix: str) -> None:
        self.bucket = bucket
        self.prefix = prefix
        self.name = f"s3://{bucket}/{prefix}"
        self.acl = settings.acl
        self.settings = settings

    @functools.cached_property
    def client(self) -> Any:
        """Made on first use, with botocore itself: boto3's own layer (and s3transfer)
        would add a tenth of a second to every start and nothing we use."""
        import botocore.session
        from botocore.config import Config as BotoConfig

        return botocore.session.get_session().create_client(
            "s3",
            endpoint_url=self.settings.endpoint_url,
            region_name=self.settings.region,
            config=BotoConfig(
                max_pool_connections=self.settings.parallel * 2,
                retries={"mode": "standard", "max_attempts": 8},
                connect_timeout=5,
                read_timeout=30,
            ),
        )

    def connect(self) -> None:
        self.client  # noqa: B018 - made now, on this thread

    def check(self) -> None:
        """One HEAD request: credentials, endpoint and bucket (never a LIST)."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.head_bucket(Bucket=self.bucket)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            reason = {
                "404": "does not exist",
                "NoSuchBucket": "does not exist",
                "403": "is not accessible with these credentials",
            }.get(code, f"cannot be used ({code})")
            raise PublishError(f"bucket {self.bucket!r} {reason}") from None
        except BotoCoreError as exc:
            raise PublishError(f"cannot reach the bucket {self.bucket!r}: {exc}") from None

    def put(self, key: str, data: bytes, obj: BuiltObject) -> None:
        extra: dict[str, Any] = {}
        if self.acl:
            extra["ACL"] = self.acl
        metadata = {"surrogate-key": obj.surrogate_keys}
        if "x-amz-meta-surrogate-control" in obj.headers:
            metadata["surrogate-control"] = obj.headers["x-amz-meta-surrogate-control"]
        if obj.draw:  # a title test: the edge draws each visitor's page variant
            metadata["ab"] = obj.draw
        if obj.redirect:  # the address the edge answers this link with
            metadata["location"] = data.decode("ascii")
        self.client.put_object(
            Bucket=self.bucket,
            Key=key,
            Body=data,
            ContentType=obj.content_type,
            CacheControl=obj.cache_control,
            Metadata=metadata,
            ContentMD5=base64.b64encode(hashlib.md5(data).digest()).decode(),
            **extra,
        )

    def put_private(self, key: str, data: bytes) -> None:
        self.client.put_object(
            Bucket=self.bucket,
            Key=key,
            Body=data,
            ContentType="application/json",
            CacheControl="private, no-store",
            ContentMD5=base64.b64encode(hashlib.md5(data).digest()).decode(),
        )

    def get(self, key: str) -> bytes | None:
        from botocore.exceptions import ClientError

        try:
            response = self.client.get_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise
        return bytes(response["Body"].read())

    def inventory(self) -> dict[str, tuple[int, str]]:
        found = {}
        pages = self.client.get_paginator("list_objects_v2")
        for page in pages.paginate(Bucket=self.bucket, Prefix=self.prefix):
            for item in page.get("Contents", []):
                found[item["Key"]] = (int(item["Size"]), str(item["ETag"]).strip('"'))
        return found

    def delete(self, keys: list[str]) -> list[str]:
        assert len(keys) <= DELETE_BATCH
        outside = [key for key in keys if not key.startswith(self.prefix)]
        if outside:  # never reached through the planner; a guard all the same
            raise PublishError(
                f"refusing to delete outside the prefix {self.prefix!r}: {outside[0]}"
            )
        if any(not plain_key(key) for key in keys):
            raise PublishError(f"refusing to delete a key that is not a plain path: {keys}")
        response = self.client.delete_objects(
            Bucket=self.bucket,
            Delete={"Objects": [{"Key": key} for key in keys], "Quiet": True},
        )
        return [error["Key"] for error in response.get("Errors", [])]

    def written_by_us(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            head = self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError:
            return False
        return "surrogate-key" in head.get("Metadata", {})


def plain_key(key: str) -> bool:
    """A key with no empty, ``.`` or ``..`` segment."""
    return all(part not in ("", ".", "..") for part in key.split("/"))


def open_target(settings: PublishSettings, site_root: Path) -> Target:
    target = settings.target
    if target.startswith("file://"):
        path = Path(target.removeprefix("file://"))
        return FileTarget(path if path.is_absolute() else site_root / path)
    if target.startswith("s3://"):
        bucket, _, prefix = target.removeprefix("s3://").partition("/")
        prefix = prefix.strip("/")
        return S3Target(settings, bucket, prefix + "/" if prefix else "")
    raise ConfigError(f"publish.target: {target!r} is neither s3://BUCKET/PREFIX nor file://DIR")
