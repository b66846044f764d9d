from __future__ import annotations

import itertools
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from click.testing import CliRunner, Result
from moto.server import ThreadedMotoServer

from bench import edge as edges
from linkgen import site as sites
from linkgen.cli import cli
from linkgen.models import NewLink, NewProfile, validate
from linkgen.store.content import Content

XSS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "'><svg onload=alert(1)>",
    "</style><script>alert(1)</script>",
    "</script><script>alert(1)</script>",
    "{{ 7*7 }}{% raw %}",
    "&lt;b&gt; &amp; \u202egnp.exe",
]


@pytest.fixture
def site(tmp_path: Path) -> Iterator[sites.Site]:
    created = sites.init(tmp_path / "site")
    yield created
    created.close()


@pytest.fixture
def store(site: sites.Site) -> Content:
    return site.content


@pytest.fixture
def add_profile(store: Content) -> Callable[..., Any]:
    def add(username: str, *links: tuple[str, str], **fields: Any) -> Any:
        store.create_profile(validate(NewProfile, {"username": username, **fields}))
        for title, url in links:
            store.add_link(username, validate(NewLink, {"title": title, "url": url}))
        return store.get(username)

    return add


class Cli:
    """Runs ``linkgen --site SITE ...`` in-process against the real database."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.runner = CliRunner()

    def __call__(self, *args: str, code: int = 0, stdin: str | None = None) -> Result:
        result = self.runner.invoke(
            cli, ["--site", str(self.root), *args], input=stdin, catch_exceptions=False
        )
        assert result.exit_code == code, (result.exit_code, result.output, result.stderr)
        return result

    def json(self, *args: str) -> Any:
        return json.loads(self(*args, "--json").stdout)


@pytest.fixture
def run(site: sites.Site) -> Cli:
    return Cli(site.root)


_names = itertools.count()


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def bucket(s3_endpoint: str) -> Any:
    s3 = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")
    name = f"links-{next(_names)}"
    s3.create_bucket(Bucket=name)
    return s3, name


def start_varnish(origin: str, bucket_path: str, work: Path) -> tuple[subprocess.Popen[bytes], str]:
    """Debian's varnishd with linkgen's VCL in front of ``origin`` (see bench/edge.py)."""
    if shutil.which("varnishd") is None:
        pytest.fail("varnishd is missing: scripts/test installs varnish and varnish-modules")
    return edges.start_varnish(origin, bucket_path, work)


@pytest.fixture
def edge(s3_endpoint: str, bucket: Any, tmp_path: Path) -> Iterator[str]:
    """Varnish with xkey in front of the bucket's links/ prefix."""
    _, name = bucket
    proc, url = start_varnish(s3_endpoint, f"/{name}/links", tmp_path)
    yield url
    proc.terminate()
    proc.wait(timeout=10)


def free_port(*taken: int) -> int:
    """A port nothing listens on, other than ``taken`` (closed probes may hand one out twice)."""
    while True:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        if port not in taken:
            return port


def start_linkgen(site: sites.Site, *args: str) -> tuple[subprocess.Popen[bytes], int]:
    """`linkgen --site SITE ARGS... --port N` as a real process, once /healthz answers."""
    port = free_port(site.config.redirector.metrics_port)
    proc = subprocess.Popen(
        [sys.executable, "-m", "linkgen", "--site", str(site.root), *args, "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc, port
        except requests.ConnectionError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError(f"linkgen {' '.join(args)} did not start: {proc.communicate()}")
