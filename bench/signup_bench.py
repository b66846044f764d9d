"""Sign-up posts: how many a second the redirector accepts into its queue, and
that every one accepted is in audience.db after a graceful stop.

The same `linkgen redirector` (granian, RSGI, 1 worker) as in production
serves a profile with a sign-up form; `wrk -t2 -c64` posts the form with a new
address and a new client address (`X-Real-IP`, trusted by the bench's
`[redirector] client_ip_header`, so the per-client allowance never refuses)
on every request, and counts the `303` answers (bench/signup.lua). Then the
redirector gets SIGTERM, and the addresses in audience.db are counted: none
may be missing. `[email]` is unset, so the confirmations wait in the
database (the mailer is not measured). In the same run, alternating, the
plain redirect of bench/redirect_bench.py on the same server, for reference.

    python bench/signup_bench.py --duration 10 --rounds 3
"""

from __future__ import annotations

import argparse
import shutil
import signal
import sqlite3
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.redirect_bench import free_port, make_site, start_linkgen, wait_up, wrk
from linkgen.models import NewLink, validate

SCRIPT = Path(__file__).with_name("signup.lua")


def signed_up(site_root: Path) -> int:
    path = site_root / "site_data" / "audience.db"
    if not path.exists():
        return 0
    with sqlite3.connect(path) as db:
        return int(db.execute("SELECT count(*) FROM subscribers").fetchone()[0])


def run(site_root: Path, path: str, duration: float, script: Path | None) -> dict[str, float]:
    for name in ("audience.db", "audience.db-wal", "audience.db-shm"):  # every run's own
        (site_root / "site_data" / name).unlink(missing_ok=True)
    port = free_port()
    proc = start_linkgen("granian", site_root, port)
    wait_up(f"http://127.0.0.1:{port}/healthz", proc)
    result = wrk(f"http://127.0.0.1:{port}{path}", duration, script=script)
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=60)
    result["stored"] = signed_up(site_root)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="linkgen-signup-bench-"))
    try:
        site, plain = make_site(work / "site")
        (work / "site" / "linkgen.toml").write_text(
            '[site]\nurl = "https://links.example.com"\n[redirector]\n'
            'base_url = "https://go.example.com"\nclient_ip_header = "X-Real-IP"\n'
        )
        form = validate(NewLink, {"kind": "signup", "title": "Get my letter"})
        _, block = site.content.add_link("user0500", form)
        site.close()
        cases = {
            "sign-up POST": (f"/s/{block.id}", SCRIPT),
            "plain redirect": (f"/r/{plain}", None),
        }
        results: dict[str, list[dict[str, float]]] = {name: [] for name in cases}
        for round_number in range(args.rounds):
            order = list(cases) if round_number % 2 == 0 else list(reversed(cases))
            for name in order:
                got = run(work / "site", *cases[name][:1], args.duration, cases[name][1])
                results[name].append(got)
                print(f"  {name:15} {got['rps']:9,.0f} req/s  p99 {got['p99']:.2f} ms  "
                      f"accepted {got.get('accepted', 0):,.0f} stored {got['stored']:,.0f}",
                      file=sys.stderr)  # fmt: skip
    finally:
        shutil.rmtree(work, ignore_errors=True)
    posts = results["sign-up POST"]
    accepted = sum(r["accepted"] for r in posts)
    stored = sum(r["stored"] for r in posts)
    print(f"\nwrk -t2 -c64 -d{args.duration:g}s, {args.rounds} alternating rounds, medians\n")
    print("| request | requests/s | p50 | p99 |")
    print("|---|---|---|---|")
    for name, runs in results.items():
        rps = statistics.median(r["rps"] for r in runs)
        p50 = statistics.median(r["p50"] for r in runs)
        p99 = statistics.median(r["p99"] for r in runs)
        print(f"| {name} | {rps:,.0f} | {p50:.2f} ms | {p99:.2f} ms |")
    refused = sum(r["bad"] for r in posts)
    lost = sum(max(0.0, r["accepted"] - r["stored"]) for r in posts)
    print(f"\nsign-ups answered 303: {accepted:,.0f}; in audience.db after the stops: "
          f"{stored:,.0f} (the rest were in flight when wrk stopped); lost: {lost:,.0f}; "
          f"other answers: {refused:,.0f}")  # fmt: skip


if __name__ == "__main__":
    main()
