"""Smart links against plain ones: redirects/s of a link with 5 rules, in one run.

The same `linkgen redirector` (granian, RSGI, 1 worker) and the same site
(1,000 profiles, 5 links each, bench/redirect_bench.py's), loaded by
`wrk -t2 -c64 --latency` with a browser's headers (an Android user agent,
`Accept-Language: fr-FR,fr;q=0.9`, a country header), alternating run by run:

- **plain**: a link without rules;
- **5 rules, none holds**: a link whose 5 rules (countries, iOS, German,
  a time window that has not begun, countries again) are all tried and fail,
  so it goes to its own URL: the most a request costs;
- **5 rules, the last holds**: the same with the fifth rule for France.

Each run ends with a graceful stop, and the clicks written to clicks.db are
checked against the responses wrk received.

    python bench/smart_bench.py --duration 10 --rounds 5
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
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
        for link, rules in ((links[0], NONE_HOLDS), (links[1], LAST_HOLDS)):
            site.content.edit_link(
                "user0501", link.id, validate(LinkChanges, {"rules": rules}, strict=False)
            )
        site.close()
        cases = {"plain": plain, "5 rules, none holds": links[0].id,
                 "5 rules, the last holds": links[1].id}  # fmt: skip
        results: dict[str, list[dict[str, float]]] = {name: [] for name in cases}
        for round_number in range(args.rounds):
            names = list(cases)
            names = names[round_number % 3 :] + names[: round_number % 3]
            for name in names:
                results[name].append(
                    run_linkgen("granian", work / "site", cases[name], args.duration, HEADERS)
                )
                got = results[name][-1]
                print(f"  {name:24} {got['rps']:9,.0f} req/s  p99 {got['p99']:.2f} ms",
                      file=sys.stderr)  # fmt: skip
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


if __name__ == "__main__":
    main()
