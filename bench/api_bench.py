"""The HTTP API under load, and an API write to live at the edge beside the editor's.

1. Reads and writes against `linkgen editor` (one process) on loopback: GET of a
   50-link profile at a fixed 1,000 requests/s (Debian's ``hey``, 10 clients at
   100/s each), then PATCH of a link as fast as 4 connections go (``wrk`` with a
   script that sends a new title each time, so every request is a real edit:
   store, history, outbox). Latencies are the load generators' own.
2. On the chain of bench/chain.py (moto S3 with latency added per request,
   Varnish/xkey, `linkgen worker`): the same change of a profile's name made
   through the API and through the editor's form, alternating, each timed from
   the request until the edge first answers with the new page.

    python bench/api_bench.py --seconds 10 --edits 20
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.chain import fetch, live_chain, percentile
from bench.editor_bench import PASSWORD, Client
from bench.redirect_bench import free_port, wait_up
from linkgen import site as sites
from linkgen.api.tokens import SCOPES, Tokens
from linkgen.models import NewLink, NewProfile, validate

WRITES = """
n = 0
request = function()
  n = n + 1
  local body = '{"title": "Title ' .. n .. ' ' .. math.random(1, 1000000000) .. '"}'
  return wrk.format("PATCH", "%s", {["Authorization"] = "Bearer %s",
    ["If-Match"] = "*", ["Content-Type"] = "application/json"}, body)
end
done = function(summary, latency, requests)
  io.write(string.format("non-2xx-or-errors %%d\\n", summary.errors.status +
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
"""


def editor(site: sites.Site) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    linkgen = str(Path(sys.executable).with_name("linkgen"))
    proc = subprocess.Popen(
        [linkgen, "--site", str(site.root), "editor", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    wait_up(f"{url}/healthz", proc)
    return proc, url


def _generous(site: sites.Site) -> None:
    with (site.root / "linkgen.toml").open("a") as out:  # the load is one token's
        out.write("\n[api]\nrate = 100000.0\nburst = 1000000\n")


def load(seconds: int, work: Path) -> list[str]:
    shutil.rmtree(work, ignore_errors=True)
    site = sites.init(work / "site")
    _generous(site)
    site.content.create_profile(validate(NewProfile, {"username": "busy"}))
    for n in range(50):
        site.content.add_link("busy", validate(NewLink, {"title": f"L{n}", "url": f"ex.com/{n}"}))
    _, token = Tokens(site.database).add("bench", frozenset(SCOPES), [site.content.get("busy").id])
    link = site.content.get("busy").links[0].id
    proc, url = editor(site)
    try:
        read = f"{url}/api/v1/profiles/busy"
        requests.get(read, headers={"Authorization": f"Bearer {token}"}, timeout=10)  # warm
        hey = subprocess.run(
            ["hey", "-z", f"{seconds}s", "-c", "10", "-q", "100",
             "-H", f"Authorization: Bearer {token}", read],
            capture_output=True, text=True, check=True, timeout=seconds + 60,
        ).stdout  # fmt: skip
        rate = float(re.search(r"Requests/sec:\s+([\d.]+)", hey).group(1))  # type: ignore[union-attr]
        p50 = float(re.search(r"50% in ([\d.]+) secs", hey).group(1))  # type: ignore[union-attr]
        p99 = float(re.search(r"99% in ([\d.]+) secs", hey).group(1))  # type: ignore[union-attr]
        codes = dict(re.findall(r"\[(\d+)\]\s+(\d+) responses", hey))
        script = work / "writes.lua"
        script.write_text(WRITES % (f"/api/v1/profiles/busy/links/{link}", token))
        before = site.content.get("busy").version
        out = subprocess.run(
            ["wrk", "-t1", "-c4", f"-d{seconds}s", "--latency", "-s", str(script), url],
            capture_output=True, text=True, check=True, timeout=seconds + 60,
        ).stdout  # fmt: skip
        written = site.content.get("busy").version - before
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    w_rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    w_p50, w_p99 = (_ms(re.search(rf"\s{p}%\s+([\d.]+)(us|ms|s)", out)) for p in (50, 99))
    failed = int(re.search(r"non-2xx-or-errors (\d+)", out).group(1))  # type: ignore[union-attr]
    return [
        f"| GET a 50-link profile, hey at 1,000/s | {rate:,.0f}/s | {1000 * p50:.1f} ms | "
        f"{1000 * p99:.1f} ms | {json.dumps(codes)} |",
        f"| PATCH a link (each a new title), wrk -c4 | {w_rate:,.0f}/s | {w_p50:.1f} ms | "
        f"{w_p99:.1f} ms | {failed} failed; {written:,} versions written |",
    ]


def _ms(found: re.Match[str] | None) -> float:
    assert found is not None
    return float(found.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[found.group(2)]


def to_edge(profiles: int, edits: int, latency_ms: float, work: Path) -> list[str]:
    api_times: list[float] = []
    form_times: list[float] = []
    with live_chain(profiles, latency_ms, work) as (site, edge):
        _generous(site)
        names = [p.username for p in site.content.list_profiles()[:2]]
        ids = [site.content.get(name).id for name in names]
        _, token = Tokens(site.database).add("bench", frozenset(SCOPES), ids)
        _, link = site.accounts.add_user("bench@example.com", ids)
        site.accounts.set_password_with_link(link, PASSWORD)
        proc, url = editor(site)
        try:
            form = Client(url)
            form.sign_in("bench@example.com")
            csrf, _ = form.token(f"/p/{names[1]}")
            api = requests.Session()
            api.headers["Authorization"] = f"Bearer {token}"
            for n in range(edits):
                for way in ("api", "form"):
                    username = names[0] if way == "api" else names[1]
                    fetch(f"{edge}/{username}")
                    version = site.content.get(username).version
                    marker = f"Live {way} {n} {time.time_ns()}"
                    started = time.perf_counter()
                    if way == "api":
                        answer = api.patch(
                            f"{url}/api/v1/profiles/{username}", json={"display_name": marker},
                            headers={"If-Match": f'"v{version}"'}, timeout=10,
                        )  # fmt: skip
                        assert answer.status_code == 200, answer.text
                    else:
                        form.save_name(username, marker, csrf, version)
                    while marker not in fetch(f"{edge}/{username}")[0]:
                        if time.perf_counter() - started > 30:
                            raise RuntimeError(f"{way} edit {n} not at the edge after 30 s")
                        time.sleep(0.005)
                    (api_times if way == "api" else form_times).append(
                        time.perf_counter() - started
                    )
                    time.sleep(0.2)  # edits arrive one by one
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    ratio = statistics.median(api_times) / statistics.median(form_times)
    rows = []
    for name, values in (("API PATCH", api_times), ("editor form save", form_times)):
        rows.append(
            f"| {name} → live at the edge | {len(values)} | "
            f"{1000 * statistics.median(values):.0f} ms | "
            f"{1000 * percentile(values, 0.95):.0f} ms | {1000 * max(values):.0f} ms |"
        )
    rows.append(f"| API p50 ÷ editor p50 | | {ratio:.2f} | | |")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--edits", type=int, default=20)
    parser.add_argument("--profiles", type=int, default=10_000)
    parser.add_argument("--latency-ms", type=float, default=30.0)
    parser.add_argument("--work", type=Path, default=Path("/dev/shm/linkgen-api-bench"))
    parser.add_argument("--only", choices=("load", "edge"), help="Run one part only.")
    args = parser.parse_args()
    if args.only != "edge":
        rows = load(args.seconds, args.work)
        print("\n| API under load (one editor process) | achieved | p50 | p99 | answers |")
        print("|---|---|---|---|---|")
        print("\n".join(rows))
    if args.only == "load":
        return
    rows = to_edge(args.profiles, args.edits, args.latency_ms, args.work)
    print(
        f"\n{args.profiles:,} profiles; moto S3 ({args.latency_ms:g} ms added per request), "
        "Varnish/xkey and `linkgen worker` on loopback\n"
    )
    print("| edit | edits | p50 | p95 | max |")
    print("|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
