"""Publish benchmarks: linkgen publish against `aws s3 sync` and `rclone sync --checksum`,
same build, same S3 server.

The tools talk to moto's S3 server through a counting proxy on loopback, so
each one's requests are counted by kind (LIST, PUT, DELETE, GET, HEAD, and
linkgen's PURGE, which the proxy answers as a Varnish edge would). The proxy
adds ``--latency-ms`` to every request, as the network to a real S3
endpoint does (0 shows moto's own speed):

1. first publish of N profiles: wall time, objects/s; linkgen with its
   parallel pool and with one connection (parallel = 1), aws s3 sync, and
   rclone sync --checksum (Debian's rclone, 16 transfers and checkers);
2. one profile edited and rebuilt, ``--edits`` times: requests and median
   wall time of `linkgen publish --no-build` (a whole command, interpreter
   start included) and of `aws s3 sync build/ s3://...` and rclone for the
   same change.

Beside each run: its requests by kind, and what they would cost on S3
(request prices only). moto spends ~550 ms of CPU per 1,000-key LIST page, so
the tools that LIST the bucket (aws, rclone) are slower here than against
real S3: the request counts say how much each would LIST there.

The site is built with the defaults — a page, a social card and a QR code per
profile, about three objects each — or, with ``--no-cards``, pages only.

    python bench/publish_bench.py --profiles 10000 --latency-ms 30
    python bench/publish_bench.py --profiles 10000 --latency-ms 30 --no-cards
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import resource
import shutil
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import boto3
from moto.server import ThreadedMotoServer

from bench import synth
from linkgen import site as sites
from linkgen.build import build
from linkgen.models import ProfileFields
from tests.support.relay import RelayProxy, answer


class CountingProxy(RelayProxy):
    """Counts requests by kind: LIST, PUT, DELETE (batch), GET, HEAD."""

    def __init__(self, upstream: str, latency: float) -> None:
        self.counts: Counter[str] = Counter()
        lock = threading.Lock()

        def count(handler: BaseHTTPRequestHandler, length: int) -> bool:
            if handler.command == "PURGE":  # the CDN edge: answered here, counted
                with lock:
                    self.counts["PURGE"] += 1
                return answer(handler, 200, b"", "text/plain")
            query = parse_qs(urlsplit(handler.path).query, keep_blank_values=True)
            kind = handler.command
            if kind == "GET" and ("list-type" in query or handler.path.count("/") <= 1):
                kind = "LIST"
            if kind == "POST" and "delete" in query:
                kind = "DELETE"
            with lock:
                self.counts[kind] += 1
            return False

        super().__init__(upstream, count, latency=latency)

    def take(self) -> dict[str, int]:
        counts = dict(self.counts)
        self.counts.clear()
        return counts


# S3 Standard's request prices (us-east-1, USD per 1,000): PUT, COPY, POST and LIST
# at one rate, GET and HEAD at another, DELETE free; a CDN purge is not S3's.
PRICE_PER_1000 = {"PUT": 0.005, "POST": 0.005, "LIST": 0.005, "GET": 0.0004, "HEAD": 0.0004}


def request_cost(counts: dict[str, int]) -> float:
    """What the requests would cost on S3 (the cost model beside the wall times)."""
    return sum(PRICE_PER_1000.get(kind, 0.0) * n / 1000 for kind, n in counts.items())


CPU: list[float] = []  # each command's own CPU seconds (user + system), in order


def run(cmd: list[str], env: dict[str, str]) -> float:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if done.returncode != 0:
        raise SystemExit(f"{cmd[0]} failed ({done.returncode}): {done.stderr.decode()[-2000:]}")
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    CPU.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return wall


def configure(site_dir: Path, bucket: str, endpoint: str, parallel: int) -> None:
    text = (site_dir / "linkgen.toml").read_text().split("[publish]")[0]
    text += (
        f'[publish]\ntarget = "s3://{bucket}/site"\nendpoint_url = "{endpoint}"\n'
        f'region = "us-east-1"\nparallel = {parallel}\nmax_deletes = 100000\n'
        f'[cdn]\nprovider = "varnish"\nvarnish_urls = ["{endpoint}"]\n'
    )
    (site_dir / "linkgen.toml").write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", type=int, default=10_000)
    parser.add_argument("--latency-ms", type=float, default=30.0)
    parser.add_argument("--edits", type=int, default=5)
    parser.add_argument(
        "--skip-single", action="store_true", help="Leave out the one-connection first publish."
    )
    parser.add_argument(
        "--no-cards",
        action="store_true",
        help="Build without social cards and QR codes ([build] social_cards, qr_codes = false): "
        "a page per profile and the site's files, as before they were on by default.",
    )
    parser.add_argument(
        "--linkgen-only", action="store_true",
        help="Leave out aws s3 sync and rclone (at 100,000 profiles their first sync takes long).",
    )  # fmt: skip
    parser.add_argument(
        "--keep", action="store_true",
        help="Keep the moto server, proxy and site running after the runs (for profiling).",
    )  # fmt: skip
    parser.add_argument("--work", type=Path, default=Path("/dev/shm/linkgen-publish-bench"))
    args = parser.parse_args()
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    os.environ.update({k: env[k] for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")})
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    host, port = moto.get_host_and_port()
    proxy = CountingProxy(f"http://{host}:{port}", args.latency_ms / 1000)
    s3 = boto3.client("s3", endpoint_url=proxy.url, region_name="us-east-1")
    shutil.rmtree(args.work, ignore_errors=True)
    site_dir = args.work / "site"
    synth.generate(site_dir, args.profiles)
    if args.no_cards:  # into the [build] section synth wrote
        settings = site_dir / "linkgen.toml"
        text = settings.read_text()
        settings.write_text(
            text.replace("[build]\n", "[build]\nsocial_cards = false\nqr_codes = false\n", 1)
        )
    site = sites.Site.open(site_dir)
    build(site)
    objects = sum(1 for p in site.build_dir.rglob("*") if p.is_file() and p.name[0] != ".")
    linkgen = str(Path(sys.executable).with_name("linkgen"))
    aws = shutil.which("aws") or "aws"
    publish_cmd = [linkgen, "--site", str(site_dir), "publish", "--no-build"]
    sync_cmd = [aws, "s3", "sync", "--quiet", "--endpoint-url", proxy.url]
    sync_cmd += [str(site.build_dir), "s3://aws-sync/site"]
    # rclone (Debian's) with its remote from the environment, comparing checksums
    # (the objects' MD5 ETags) rather than sizes and times, 16 transfers like linkgen
    # (AWS_CA_BUNDLE, where a machine sets it, makes rclone's S3 client fail: plain http here)
    rclone_env = {key: value for key, value in env.items() if key != "AWS_CA_BUNDLE"}
    rclone_env.update({
        "RCLONE_CONFIG_BENCH_TYPE": "s3", "RCLONE_CONFIG_BENCH_PROVIDER": "Other",
        "RCLONE_CONFIG_BENCH_ENDPOINT": proxy.url, "RCLONE_CONFIG_BENCH_REGION": "us-east-1",
        "RCLONE_CONFIG_BENCH_ACCESS_KEY_ID": "bench",
        "RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY": "bench",
    })  # fmt: skip
    rclone = shutil.which("rclone") or "rclone"
    rclone_cmd = [rclone, "sync", "--checksum", "--transfers", "16", "--checkers", "16", "-q"]
    rclone_cmd += [str(site.build_dir), "bench:rclone-sync/site"]
    results: dict[str, Any] = {"profiles": args.profiles, "objects": objects}

    runs = [("one connection", 1), ("parallel pool", 16)]
    if args.skip_single:  # the one-connection run alone takes minutes at 10,000
        runs = runs[1:]
    for label, parallel in runs:
        bucket = f"first-{parallel}"
        s3.create_bucket(Bucket=bucket)
        configure(site_dir, bucket, proxy.url, parallel)
        site.database.conn.execute("DELETE FROM publish_manifest")
        site.database.conn.commit()
        proxy.take()
        wall = run(publish_cmd, env)
        results[f"first publish, {label}"] = (wall, objects / wall, proxy.take())
    peers = not args.linkgen_only
    if peers:
        s3.create_bucket(Bucket="aws-sync")
        proxy.take()
        wall = run(sync_cmd, env)
        results["first sync, aws s3 sync"] = (wall, objects / wall, proxy.take())
        s3.create_bucket(Bucket="rclone-sync")
        wall = run(rclone_cmd, rclone_env)
        results["first sync, rclone sync --checksum"] = (wall, objects / wall, proxy.take())

    # moto keeps every object in this process: with 100,000 of them its garbage
    # collector's passes, which walk the whole heap, would slow each request it
    # answers by the bucket's size. Real S3 does not; frozen, they are left alone.
    gc.collect()
    gc.freeze()
    edit_walls: dict[str, list[float]] = {"linkgen publish": [], "aws s3 sync": [], "rclone": []}
    edit_cpu: list[float] = []
    for n in range(args.edits):
        site.content.update_profile(f"user{n * 97:06d}", ProfileFields(bio=f"edit {n}"))
        build(site)
        proxy.take()
        edit_walls["linkgen publish"].append(run(publish_cmd, env))
        edit_cpu.append(CPU[-1])
        results["one edit, linkgen publish"] = (edit_walls["linkgen publish"], None, proxy.take())
        if not peers:
            continue
        edit_walls["aws s3 sync"].append(run(sync_cmd, env))
        results["one edit, aws s3 sync"] = (edit_walls["aws s3 sync"], None, proxy.take())
        edit_walls["rclone"].append(run(rclone_cmd, rclone_env))
        results["one edit, rclone sync --checksum"] = (edit_walls["rclone"], None, proxy.take())

    what = (
        "pages only (no social cards, no QR codes)"
        if args.no_cards
        else ("pages, social cards and QR codes (the defaults)")
    )
    print(
        f"\n{args.profiles:,} profiles, {objects:,} objects: {what}; moto S3 server on "
        f"loopback, {args.latency_ms:g} ms added per request\n"
    )
    print("| run | wall | objects/s | requests | requests' cost on S3 |")
    print("|---|---|---|---|---|")
    for name, value in results.items():
        if not isinstance(value, tuple):
            continue
        wall, rate, counts = value
        if isinstance(wall, list):  # repeated runs: median (and the range)
            shown_wall = f"{statistics.median(wall):.2f} s ({min(wall):.2f} to {max(wall):.2f})"
        else:
            shown_wall = f"{wall:.2f} s"
        shown = ", ".join(f"{k} {v:,}" for k, v in sorted(counts.items()))
        per_run = len(wall) if isinstance(wall, list) else 1
        cost = f"${request_cost(counts) / per_run:.6f}"
        print(f"| {name} | {shown_wall} | {f'{rate:,.0f}' if rate else '-'} | {shown} | {cost} |")
    print(
        f"\none edit: `linkgen publish` used {statistics.median(edit_cpu):.3f} s of CPU "
        f"(median; {min(edit_cpu):.3f} to {max(edit_cpu):.3f}), the rest of its wall waiting"
    )
    if not args.skip_single:
        pool = results["first publish, parallel pool"]
        single = results["first publish, one connection"]
        print(f"\nparallel pool / one connection: {pool[1] / single[1]:.2f}x")
    if args.keep:
        print(f"\nkept: moto through the proxy at {proxy.url}; Ctrl-C ends", file=sys.stderr)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()
    moto.stop()


if __name__ == "__main__":
    main()
