"""A publish killed at any moment is finished by the next run, exactly."""

from __future__ import annotations

import random
import subprocess
import sys
import time
from collections import Counter
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


class FaultyProxy:
    """HTTP proxy to the S3 server: PUTs 1, 3, 5 and 7 get 503 SlowDown, PUT 2 a
    connection reset mid-request; everything else is relayed."""

    def __init__(self, upstream: str) -> None:
        import http.client
        import socket
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
        from urllib.parse import urlsplit

        parts = urlsplit(upstream)
        proxy = self
        self.faults: Counter[str] = Counter()
        self.puts = 0
        self.lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def handle_expect_100(self) -> bool:
                return True  # answered in _relay, after deciding on a fault

            def _relay(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if self.command == "PUT":
                    with proxy.lock:
                        proxy.puts += 1
                        n = proxy.puts
                    if n == 2:
                        proxy.faults["reset"] += 1
                        linger = b"\x01\x00\x00\x00\x00\x00\x00\x00"  # close = RST
                        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
                        self.close_connection = True
                        return
                    if self.headers.get("Expect", "").lower() == "100-continue":
                        self.send_response_only(100)
                        self.end_headers()
                    if n <= 7 and n % 2 == 1:
                        self.rfile.read(length)
                        proxy.faults["SlowDown"] += 1
                        error = (
                            b"<?xml version='1.0' encoding='UTF-8'?><Error><Code>SlowDown</Code>"
                            b"<Message>Please reduce your request rate.</Message></Error>"
                        )
                        self.send_response(503)
                        self.send_header("Content-Type", "application/xml")
                        self.send_header("Content-Length", str(len(error)))
                        self.end_headers()
                        self.wfile.write(error)
                        return
                elif self.headers.get("Expect", "").lower() == "100-continue":
                    self.send_response_only(100)
                    self.end_headers()
                body = self.rfile.read(length) if length else b""
                upstream_conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                headers["Host"] = parts.netloc
                upstream_conn.request(self.command, self.path, body=body, headers=headers)
                response = upstream_conn.getresponse()
                data = response.read()
                self.send_response(response.status)
                for key, value in response.getheaders():
                    if key.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)
                upstream_conn.close()

            do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = _relay

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


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
            live.store.create_profile(validate(NewProfile, {"username": f"user{n}"}))
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
