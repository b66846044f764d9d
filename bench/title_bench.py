"""Title tests at the edge: pages/s of a page with a title test against a plain one.

moto's S3 server, Debian's Varnish with the VCL `linkgen edge vcl` prints in
front of it, and three profiles of 10 links published to it:

- **plain**: a page without a test;
- **title test, drawn A**: a page whose link tests its title, weighted so
  that wrk's one client is drawn A (1000:1): the draw (a SHA-256 of address,
  user agent, day and the draw's metadata) and the page itself;
- **title test, drawn B**: weighted the other way (1:1000): the draw, then a
  restart and a second cache lookup for the variant's page — the most a
  title test costs a request.

Each is loaded by `wrk -t2 -c64 --latency` for ``--duration`` seconds, the
cases alternating round by round (medians reported); every response is
checked to be a 200 and, before each case, the variant served is checked.

    python bench/title_bench.py --duration 10 --rounds 5
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import boto3
from moto.server import ThreadedMotoServer

from bench.redirect_bench import wrk
from linkgen import site as sites
from linkgen.build import build
from linkgen.models import LinkChanges, NewLink, NewProfile, validate
from linkgen.publish.run import publish
from linkgen.records import iso, now
from tests.support.edge import start_varnish

CASES = {"plain": "plain", "title test, drawn A": "drawn-a", "title test, drawn B": "drawn-b"}


def make_site(root: Path, origin: str, edge: str) -> sites.Site:
    site = sites.init(root)
    (root / "linkgen.toml").write_text(
        '[site]\nurl = "https://links.example.com"\n'
        '[redirector]\nbase_url = "https://go.example.com"\n'
        "[build]\nsocial_cards = false\n"
        f'[publish]\ntarget = "s3://titles/site"\nendpoint_url = "{origin}"\n'
        'region = "us-east-1"\nacl = "public-read"\n'
        f'[cdn]\nprovider = "varnish"\nvarnish_urls = ["{edge}"]\n'
    )
    site = sites.Site.open(root)
    for username in CASES.values():
        site.content.create_profile(validate(NewProfile, {"username": username}))
        for k in range(10):
            url = f"https://shop.example.com/{username}/{k}"
            site.content.add_link(username, validate(NewLink, {"title": f"Link {k}", "url": url}))
    for username, (own, other) in (("drawn-a", (1000, 1)), ("drawn-b", (1, 1000))):
        first = site.content.get(username).links[0].id
        split = {"weight": own, "since": iso(now()),
                 "variants": [{"title": "Variant B", "weight": other}]}  # fmt: skip
        site.content.edit_link(username, first, validate(LinkChanges, {"split": split}))
    return site


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    os.environ.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench")
    work = Path(tempfile.mkdtemp(prefix="linkgen-title-bench-"))
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    host, port = moto.get_host_and_port()
    origin = f"http://{host}:{port}"
    boto3.client("s3", endpoint_url=origin, region_name="us-east-1").create_bucket(Bucket="titles")
    (work / "varnish").mkdir()
    varnish, edge = start_varnish(origin, "/titles/site", work / "varnish")
    try:
        site = make_site(work / "site", origin, edge)
        build(site)
        assert publish(site).ok
        for name, username in CASES.items():
            with urllib.request.urlopen(f"{edge}/{username}", timeout=10) as answer:
                page = answer.read().decode()
            assert ("Variant B" in page) == (name == "title test, drawn B"), name
        results: dict[str, list[dict[str, float]]] = {name: [] for name in CASES}
        for _ in range(args.rounds):
            for name, username in CASES.items():
                result = wrk(f"{edge}/{username}", args.duration)
                assert result["bad"] == 0 and result["socket_errors"] == 0, (name, result)
                results[name].append(result)
        plain = statistics.median(r["rps"] for r in results["plain"])
        print("| case | pages/s (median) | vs plain | p50 ms | p99 ms |")
        print("|---|---:|---:|---:|---:|")
        for name, runs in results.items():
            rps = statistics.median(r["rps"] for r in runs)
            p50 = statistics.median(r["p50"] for r in runs)
            p99 = statistics.median(r["p99"] for r in runs)
            print(f"| {name} | {rps:,.0f} | {rps / plain:.2f}x | {p50:.2f} | {p99:.2f} |")
        spread = [f"{r['rps']:,.0f}" for r in results["plain"]]
        print(f"\nplain runs: {', '.join(spread)}")
    finally:
        varnish.terminate()
        varnish.wait(timeout=30)
        moto.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
