"""Fixtures every test can ask for, and the rules the whole suite keeps.

- A test that runs past its time limit fails, even if it went on to finish
  (pytest-timeout's signal can be caught by code under test, Hypothesis among
  it); the limit is pytest-timeout's (``timeout`` in pyproject.toml or a
  ``@pytest.mark.timeout``).
- Hypothesis has no per-example deadline and no "too slow" health check: on a
  loaded machine an example may take longer, and the test's time limit bounds
  the whole run instead.
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from hypothesis import HealthCheck, settings
from moto.server import ThreadedMotoServer

from linkgen import site as sites
from linkgen.models import NewLink, NewProfile, validate
from linkgen.store.content import Content
from tests.support import edge as edges
from tests.support.cli import Cli

settings.register_profile(
    "linkgen", deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True
)
settings.load_profile("linkgen")
pytest_plugins = ["pytester", "tests.support.time_limits"]


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
    """Debian's varnishd with linkgen's VCL in front of ``origin`` (see tests/support/edge.py)."""
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
