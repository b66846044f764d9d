"""A publish killed at any moment is finished by the next run, exactly."""

from __future__ import annotations

import random
import subprocess
import sys
import time
from typing import Any

from linkgen import site as sites
from linkgen.build import build
from linkgen.models import NewLink, NewProfile, ProfileFields, validate
from linkgen.publish.run import publish
from linkgen.publish.targets import S3Target

KILLS = 24


def bucket_state(s3: Any, bucket: str) -> dict[str, tuple[bytes, str, str, dict[str, str]]]:
    state = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for item in page.get("Contents", []):
            got = s3.get_object(Bucket=bucket, Key=item["Key"])
            state[item["Key"]] = (
                got["Body"].read(),
                got.get("ContentType", ""),
                got.get("CacheControl", ""),
                got.get("Metadata", {}),
            )
    return state


def test_kill_9_at_random_points_then_rerun_converges_to_a_clean_publish(
    site: sites.Site, bucket: Any, s3_endpoint: str
) -> None:
    s3, name = bucket
    (site.root / "linkgen.toml").write_text(
        f'[publish]\ntarget = "s3://{name}/links"\nendpoint_url = "{s3_endpoint}"\n'
        f'region = "us-east-1"\nparallel = 2\n'
    )
    live = sites.Site.open(site.root)
    rng = random.Random(7)
    for n in range(30):
        live.store.create_profile(validate(NewProfile, {"username": f"user{n}"}))
        live.store.add_link(f"user{n}", validate(NewLink, {"title": "x", "url": f"e.com/{n}"}))
    command = [sys.executable, "-m", "linkgen", "--site", str(live.root), "publish", "--no-build"]
    next_user = 30
    for kill in range(KILLS):
        for username in rng.sample([p.username for p in live.store.list_profiles()], 5):
            live.store.update_profile(username, ProfileFields(bio=f"kill {kill}"))
        live.store.create_profile(validate(NewProfile, {"username": f"user{next_user}"}))
        next_user += 1
        live.store.delete_profile(rng.choice(live.store.list_profiles()).username)
        build(live)

        victim = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.2, 1.2))  # start-up takes ~0.4 s; the work ~0.5 s more
        victim.kill()
        victim.wait()
        rerun = subprocess.run(command, capture_output=True, text=True, timeout=120)
        assert rerun.returncode == 0, rerun.stderr

        reference = f"{name}-clean-{kill}"
        s3.create_bucket(Bucket=reference)
        clean = S3Target(live.config.publish, reference, "links/")
        assert publish(live, target=clean).ok
        assert bucket_state(s3, name) == bucket_state(s3, reference), f"after kill {kill}"
