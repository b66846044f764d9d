"""Smart links against plain ones: redirects/s of a link with 5 rules, in one run.

The same `linkgen redirector` (granian, RSGI, 1 worker) and the same site
(1,000 profiles, 5 links each, bench/redirect_bench.py's), loaded by
`wrk -t2 -c64 --latency` with a browser's headers (an Android user agent,
`Accept-Language: fr-FR,fr;q=0.9`, a country header), alternating run by run:

- **plain**: a link without rules;
- **5 rules, none holds**: a link whose 5 rules (countries, iOS, German,
  a time window that has not begun, countries again) are all tried and fail,
  so it goes to its own URL: the most a request costs;
- **5 rules, the last holds**: the same with the fifth rule for France;
- **5 rules and 2 variants**: the five rules that fail, then an A/B test of
  two URLs (50/50): the visitor hash of the day and the variant drawn on
  every request (the issue's "5 rules and 2 variants").

Each run ends with a graceful stop, and the clicks written to clicks.db are
checked against the responses wrk received. Last, the same four links are
answered in-process (``Redirector.respond`` and ``settled``, a different
visitor each time, nothing recorded): the CPU a request costs the application
itself, apart from the HTTP server, wrk and the click writer sharing the cores.

    python bench/smart_bench.py --duration 10 --rounds 5
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.redirect_bench import make_site, run_linkgen
from linkgen.models import LinkChanges, validate

HEADERS = {
    "User-Agent": "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Mobile Safari",
    "Accept-Language": "fr-FR,fr;q=0.9",
    "CloudFront-Viewer-Country": "FR",
}
NONE_HOLDS = [
    {"url": "https://shop.example.de/", "country": ["DE", "AT", "CH"]},
    {"url": "https://apps.apple.com/app/id1", "device": ["ios"]},
    {"url": "https://shop.example.com/de", "language": ["de"]},
    {"url": "https://sale.example.com/", "starts_at": "2099-01-01T00:00:00Z"},
    {"url": "https://shop.example.co.uk/", "country": ["GB", "IE"]},
]
LAST_HOLDS = [*NONE_HOLDS[:4], {"url": "https://shop.example.fr/", "country": ["FR", "BE"]}]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="linkgen-smart-bench-"))
    try:
        site, plain = make_site(work / "site")
        links = site.content.get("user0501").links
        for link, rules in ((links[0], NONE_HOLDS), (links[1], LAST_HOLDS),
                            (links[2], NONE_HOLDS)):  # fmt: skip
            site.content.edit_link(
                "user0501", link.id, validate(LinkChanges, {"rules": rules}, strict=False)
            )
        split = {"weight": 50, "since": "2026-01-01T00:00:00Z",
                 "variants": [{"url": "https://shop.example.com/b", "weight": 50}]}  # fmt: skip
        site.content.edit_link(
            "user0501", links[2].id, validate(LinkChanges, {"split": split}, strict=False)
        )
        site.close()
        cases = {"plain": plain, "5 rules, none holds": links[0].id,
                 "5 rules, the last holds": links[1].id,
                 "5 rules and 2 variants": links[2].id}  # fmt: skip
        results: dict[str, list[dict[str, float]]] = {name: [] for name in cases}
        for round_number in range(args.rounds):
            names = list(cases)
            names = names[round_number % len(names) :] + names[: round_number % len(names)]
            for name in names:
                results[name].append(
                    run_linkgen("granian", work / "site", cases[name], args.duration, HEADERS)
                )
                got = results[name][-1]
                print(f"  {name:24} {got['rps']:9,.0f} req/s  p99 {got['p99']:.2f} ms",
                      file=sys.stderr)  # fmt: skip
        costs = in_process(work / "site", cases)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    base = statistics.median(r["rps"] for r in results["plain"])
    print(f"\nwrk -t2 -c64 -d{args.duration:g}s, {args.rounds} alternating rounds, medians\n")
    print("| link | requests/s | vs plain | p99 | clicks recorded / responses |")
    print("|---|---|---|---|---|")
    for name, runs in results.items():
        rps = statistics.median(r["rps"] for r in runs)
        p99 = statistics.median(r["p99"] for r in runs)
        saved = sum(r["saved"] for r in runs)
        answered = sum(r["requests"] for r in runs)
        warn = " (non-3xx seen!)" if sum(r["bad"] for r in runs) else ""
        print(f"| {name} | {rps:,.0f} | {rps / base:.2f}x | {p99:.2f} ms | "
              f"{int(saved):,} / {int(answered):,}{warn} |")  # fmt: skip
    print("\nin-process, median of 5 x 100,000 requests, a new visitor each\n")
    print("| link | µs per request | more than plain |")
    print("|---|---|---|")
    for name, cost in costs.items():
        print(f"| {name} | {cost:.2f} | {cost - costs['plain']:+.2f} µs |")


def in_process(root: Path, cases: dict[str, str]) -> dict[str, float]:
    """µs an answer costs the application: respond, then the visitor's variant."""
    from linkgen.clicks.db import clicks_path
    from linkgen.clicks.link_index import LinkIndex
    from linkgen.clicks.recorder import Recorder, WriterSettings
    from linkgen.clicks.redirector import Redirector, RedirectorOptions
    from linkgen.clicks.variants import DayHasher
    from linkgen.site import DATA_DIR, DB_FILE

    index = LinkIndex(root / DATA_DIR / DB_FILE, "https://links.example.com")
    index.start()
    recorder = Recorder(WriterSettings(root / "unused.db"))  # never started: nothing recorded
    redirector = Redirector(
        index, recorder, RedirectorOptions(), hasher=DayHasher(clicks_path(root))
    )
    headers = {name.lower(): value for name, value in HEADERS.items()}
    header = headers.get
    agent = HEADERS["User-Agent"]
    ips = [f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}" for n in range(100_000)]
    costs: dict[str, float] = {}
    try:
        for name, link_id in cases.items():
            path, rounds = f"/r/{link_id}", []
            for _ in range(5):
                started = time.perf_counter()
                for ip in ips:
                    decided, stub = redirector.respond("GET", path, header)
                    assert stub is not None
                    redirector.settled(decided, stub, ip, agent)
                rounds.append((time.perf_counter() - started) / len(ips) * 1e6)
            costs[name] = statistics.median(rounds)
    finally:
        index.stop()
    return costs


if __name__ == "__main__":
    main()
