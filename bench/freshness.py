"""Edit-to-edge freshness: how long until an edit is served by the CDN edge.

A real chain on loopback: moto's S3 server, Debian's Varnish with xkey and
linkgen's VCL in front of it, and `linkgen worker` publishing from the
site's outbox (through a proxy adding ``--latency-ms`` to each S3 request,
as the network to a real S3 endpoint does). Each edit is made through the
store, as the CLI or the editor makes it; the clock stops when the edge
first answers with the new page. Between edits, another profile's page is
fetched to check it stayed cached (purges are precise).

    python bench/freshness.py --profiles 10000 --edits 50
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import boto3
from moto.server import ThreadedMotoServer

from bench import synth
from bench.edge import start_varnish
from bench.relay import RelayProxy
from linkgen import site as sites
from linkgen.build import build
from linkgen.models import ProfileFields
from linkgen.publish.run import publish

BUCKET = "fresh"


def fetch(url: str) -> tuple[str, str]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read().decode(), response.headers.get("X-Cache", "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", type=int, default=10_000)
    parser.add_argument("--edits", type=int, default=50)
    parser.add_argument("--latency-ms", type=float, default=30.0)
    parser.add_argument("--work", type=Path, default=Path("/dev/shm/linkgen-freshness-bench"))
    args = parser.parse_args()
    os.environ.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench")
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)

    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    host, port = moto.get_host_and_port()
    origin = f"http://{host}:{port}"
    proxy = RelayProxy(origin, lambda handler, length: False, latency=args.latency_ms / 1000)
    boto3.client("s3", endpoint_url=origin, region_name="us-east-1").create_bucket(Bucket=BUCKET)
    shutil.rmtree(args.work, ignore_errors=True)
    site_dir = args.work / "site"
    synth.generate(site_dir, args.profiles)
    varnish_dir = Path(tempfile.mkdtemp(prefix="linkgen-edge-"))
    varnish, edge = start_varnish(origin, f"/{BUCKET}/site", varnish_dir)
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
    site.store.outbox_done(site.store.outbox_marks())
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
    rng = random.Random(5)
    usernames = [p.username for p in site.store.list_profiles()]
    latencies, others_hit = [], 0
    try:
        time.sleep(1.0)  # the worker's start-up is not part of an edit's path
        for n in range(args.edits):
            username, other = rng.sample(usernames, 2)
            fetch(f"{edge}/{username}")
            assert fetch(f"{edge}/{username}")[1] == "HIT"
            fetch(f"{edge}/{other}")
            marker = f"freshness{n}x{rng.randrange(10**9)}"
            edited = time.perf_counter()
            site.store.update_profile(username, ProfileFields(bio=marker))
            while marker not in fetch(f"{edge}/{username}")[0]:
                if time.perf_counter() - edited > 30:
                    raise RuntimeError(f"edit {n} not at the edge after 30 s")
                time.sleep(0.005)
            latencies.append(time.perf_counter() - edited)
            others_hit += fetch(f"{edge}/{other}")[1] == "HIT"
            time.sleep(rng.uniform(0.1, 0.5))  # edits arrive one by one, not in a burst
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        varnish.terminate()
        varnish.wait(timeout=30)
        shutil.rmtree(varnish_dir, ignore_errors=True)
        proxy.close()
        moto.stop()

    ordered = sorted(latencies)
    p95 = ordered[max(0, round(0.95 * len(ordered)) - 1)]
    print(
        f"\n{args.profiles:,} profiles, {args.edits} edits, worker + moto S3 "
        f"({args.latency_ms:g} ms added per S3 request) + Varnish/xkey on loopback\n"
    )
    print("| edit to edge | p50 | p95 | max | mean | other pages still cached |")
    print("|---|---|---|---|---|---|")
    print(
        f"| linkgen worker | {statistics.median(ordered):.2f} s | {p95:.2f} s | "
        f"{ordered[-1]:.2f} s | {statistics.mean(ordered):.2f} s | "
        f"{others_hit} of {args.edits} |"
    )


if __name__ == "__main__":
    main()
