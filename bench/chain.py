"""The publishing chain on loopback, for the benchmarks that time an edit to the edge.

moto's S3 server (behind a relay adding ``latency`` to each request, as the
network to a real S3 endpoint does), Debian's Varnish with xkey and
linkgen's VCL in front of it, a synthetic site published once, and
`linkgen worker` running on it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import boto3
from moto.server import ThreadedMotoServer

from bench import synth
from linkgen import site as sites
from linkgen.build import build
from linkgen.publish.run import publish
from tests.support.edge import start_varnish
from tests.support.relay import RelayProxy

BUCKET = "fresh"


def fetch(url: str) -> tuple[str, str]:
    """The page the edge serves and its X-Cache; ('', '') while it has none."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.read().decode(), response.headers.get("X-Cache", "")
    except urllib.error.HTTPError:
        return "", ""


@contextmanager
def live_chain(profiles: int, latency_ms: float, work: Path) -> Iterator[tuple[sites.Site, str]]:
    """(the site, the edge's URL), published and with its worker running."""
    os.environ.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench")
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    host, port = moto.get_host_and_port()
    origin = f"http://{host}:{port}"
    proxy = RelayProxy(origin, lambda handler, length: False, latency=latency_ms / 1000)
    boto3.client("s3", endpoint_url=origin, region_name="us-east-1").create_bucket(Bucket=BUCKET)
    shutil.rmtree(work, ignore_errors=True)
    site_dir = work / "site"
    synth.generate(site_dir, profiles)
    varnish_dir = Path(tempfile.mkdtemp(prefix="linkgen-edge-"))
    varnish, edge = start_varnish(origin, f"/{BUCKET}/site", varnish_dir)
    worker = None
    try:
        config = (site_dir / "linkgen.toml").read_text().split("[publish]")[0]
        (site_dir / "linkgen.toml").write_text(
            config + f'[publish]\ntarget = "s3://{BUCKET}/site"\nendpoint_url = "{proxy.url}"\n'
            f'region = "us-east-1"\nacl = "public-read"\nmax_deletes = 100000\n'
            f'[cdn]\nprovider = "varnish"\nvarnish_urls = ["{edge}"]\n'
        )
        site = sites.Site.open(site_dir)
        started = time.perf_counter()
        build(site)
        first = publish(site)
        assert first.ok, first.failures
        site.outbox.done(site.outbox.marks())
        print(
            f"published {len(first.uploaded):,} objects in {time.perf_counter() - started:.1f} s",
            file=sys.stderr,
        )
        linkgen = str(Path(sys.executable).with_name("linkgen"))
        worker = subprocess.Popen(
            [linkgen, "--site", str(site_dir), "worker"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        time.sleep(1.0)  # the worker's start-up is not part of an edit's path
        yield site, edge
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(timeout=30)
        varnish.terminate()
        varnish.wait(timeout=30)
        shutil.rmtree(varnish_dir, ignore_errors=True)
        proxy.close()
        moto.stop()


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, round(share * len(ordered)) - 1)]
