"""What a bucket holds, to compare two publishes byte for byte."""

from __future__ import annotations

from typing import Any

GENERATION = "_linkgen/generation"  # a random id per site and publish target: never equal


def bucket_state(s3: Any, bucket: str) -> dict[str, tuple[bytes, str, str, dict[str, str]]]:
    """Every object's bytes, Content-Type, Cache-Control and metadata, by key; the
    generation marker left out (linkgen.publish.generation)."""
    state = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for item in page.get("Contents", []):
            if item["Key"].endswith(GENERATION):
                continue
            got = s3.get_object(Bucket=bucket, Key=item["Key"])
            state[item["Key"]] = (
                got["Body"].read(),
                got.get("ContentType", ""),
                got.get("CacheControl", ""),
                got.get("Metadata", {}),
            )
    return state
