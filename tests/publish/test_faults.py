"""A publish killed at any moment is finished by the next run, exactly."""

from __future__ import annotations

import random
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler
from typing import Any

from linkgen import site as sites
from linkgen.build import build
from linkgen.models import NewLink, NewProfile, ProfileFields, validate
from linkgen.publish.run import publish
from linkgen.publish.targets import S3Target
from tests.support.buckets import bucket_state
from tests.support.relay import RelayProxy, answer

# Kills spread evenly over the publish's lifetime (start-up ~0.4 s, work ~0.5 s more),
# one at a random moment within each slice of 1/7 s: 7 cover it as 24 random ones did.
KILLS = 7
# Each round changes 7 of them (5 edited, one added, one removed): the publish killed
# is as long as with more, the clean one to compare with shorter.
PROFILES = 15
KILL_WINDOW = (0.2, 1.2)


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
    for n in range(PROFILES):
        live.content.create_profile(validate(NewProfile, {"username": f"user{n}"}))
        live.content.add_link(f"user{n}", validate(NewLink, {"title": "x", "url": f"e.com/{n}"}))
    command = [sys.executable, "-m", "linkgen", "--site", str(live.root), "publish", "--no-build"]
    next_user = PROFILES
    for kill in range(KILLS):
        for username in rng.sample([p.username for p in live.content.list_profiles()], 5):
            live.content.update_profile(username, ProfileFields(bio=f"kill {kill}"))
        live.content.create_profile(validate(NewProfile, {"username": f"user{next_user}"}))
        next_user += 1
        live.content.delete_profile(rng.choice(live.content.list_profiles()).username)
        build(live)

        victim = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        first, last = KILL_WINDOW
        time.sleep(first + (kill + rng.random()) * (last - first) / KILLS)
        victim.kill()
        victim.wait()
        rerun = subprocess.run(command, capture_output=True, text=True, timeout=120)
        assert rerun.returncode == 0, rerun.stderr

        reference = f"{name}-clean-{kill}"
        s3.create_bucket(Bucket=reference)
        clean = S3Target(live.config.publish, reference, "links/")
        assert publish(live, target=clean).ok
        assert bucket_state(s3, name) == bucket_state(s3, reference), f"after kill {kill}"


SLOWDOWN = (
    b"<?xml version='1.0' encoding='UTF-8'?><Error><Code>SlowDown</Code>"
    b"<Message>Please reduce your request rate.</Message></Error>"
)


class FaultyProxy(RelayProxy):
    """S3 traffic relayed, but PUTs 1, 3, 5 and 7 get 503 SlowDown and PUT 2 a
    connection reset mid-request."""

    def __init__(self, upstream: str) -> None:
        self.faults: Counter[str] = Counter()
        self.puts = 0
        lock = threading.Lock()

        def fault(handler: BaseHTTPRequestHandler, length: int) -> bool:
            if handler.command != "PUT":
                return False
            with lock:
                self.puts += 1
                n = self.puts
            if n == 2:
                self.faults["reset"] += 1
                linger = b"\x01\x00\x00\x00\x00\x00\x00\x00"  # close = RST
                handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
                handler.close_connection = True
                return True
            if n <= 7 and n % 2 == 1:
                if handler.headers.get("Expect", "").lower() == "100-continue":
                    handler.send_response_only(100)
                    handler.end_headers()
                handler.rfile.read(length)
                self.faults["SlowDown"] += 1
                return answer(handler, 503, SLOWDOWN, "application/xml")
            return False

        super().__init__(upstream, fault)


def test_s3_throttling_and_connection_resets_are_retried(
    site: sites.Site, bucket: Any, s3_endpoint: str
) -> None:
    s3, name = bucket
    proxy = FaultyProxy(s3_endpoint)
    try:
        (site.root / "linkgen.toml").write_text(
            f'[publish]\ntarget = "s3://{name}/links"\nendpoint_url = "{proxy.url}"\n'
            f'region = "us-east-1"\n'
        )
        live = sites.Site.open(site.root)
        for n in range(12):
            live.content.create_profile(validate(NewProfile, {"username": f"user{n}"}))
        build(live)
        report = publish(live)
        assert report.ok, report.failures
        assert proxy.faults == Counter({"SlowDown": 4, "reset": 1})
        reference = f"{name}-clean"
        s3.create_bucket(Bucket=reference)
        direct = S3Target(
            live.config.publish.model_copy(update={"endpoint_url": s3_endpoint}),
            reference,
            "links/",
        )
        assert publish(live, target=direct).ok
        assert bucket_state(s3, name) == bucket_state(s3, reference)
    finally:
        proxy.close()


def test_the_network_in_front_of_the_bucket_keeps_a_heads_size(
    bucket: Any, s3_endpoint: str
) -> None:
    """The relay the fault and speed tests put in front of moto: a HEAD after an
    upload (as rclone and boto3 do to check it) sees the object's real size."""
    import boto3

    s3, name = bucket
    s3.put_object(Bucket=name, Key="links/alice", Body=b"hello world")
    relay = RelayProxy(s3_endpoint, lambda handler, length: False, latency=0.001)
    try:
        through = boto3.client("s3", endpoint_url=relay.url, region_name="us-east-1")
        assert through.head_object(Bucket=name, Key="links/alice")["ContentLength"] == 11
        body = through.get_object(Bucket=name, Key="links/alice")["Body"].read()
        assert body == b"hello world"
    finally:
        relay.close()
