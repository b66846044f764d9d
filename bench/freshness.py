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
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.chain import fetch, live_chain, percentile
from linkgen.models import ProfileFields


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", type=int, default=10_000)
    parser.add_argument("--edits", type=int, default=50)
    parser.add_argument("--latency-ms", type=float, default=30.0)
    parser.add_argument("--work", type=Path, default=Path("/dev/shm/linkgen-freshness-bench"))
    args = parser.parse_args()
    rng = random.Random(5)
    latencies, others_hit = [], 0
    with live_chain(args.profiles, args.latency_ms, args.work) as (site, edge):
        usernames = [p.username for p in site.content.list_profiles()]
        for n in range(args.edits):
            username, other = rng.sample(usernames, 2)
            fetch(f"{edge}/{username}")
            assert fetch(f"{edge}/{username}")[1] == "HIT"
            fetch(f"{edge}/{other}")
            marker = f"freshness{n}x{rng.randrange(10**9)}"
            edited = time.perf_counter()
            site.content.update_profile(username, ProfileFields(bio=marker))
            while marker not in fetch(f"{edge}/{username}")[0]:
                if time.perf_counter() - edited > 30:
                    raise RuntimeError(f"edit {n} not at the edge after 30 s")
                time.sleep(0.005)
            latencies.append(time.perf_counter() - edited)
            others_hit += fetch(f"{edge}/{other}")[1] == "HIT"
            time.sleep(rng.uniform(0.1, 0.5))  # edits arrive one by one, not in a burst

    ordered = sorted(latencies)
    p95 = percentile(ordered, 0.95)
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
