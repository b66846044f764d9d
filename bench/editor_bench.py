"""The web editor: save → preview, and save → live at the edge.

On the chain of bench/chain.py (moto S3 with latency added per request,
Varnish/xkey, `linkgen worker`), `linkgen editor` runs as a process; a
client signs in over HTTP as a browser does (form tokens and cookie) and:

1. on a profile with 50 links, saves the profile form and loads the preview
   the page then shows — the time a creator waits to see their change;
2. saves a new name ``--saves`` times, one at a time, and times each save
   until the edge first answers with the new page.

    python bench/editor_bench.py --profiles 1000 --saves 30
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.chain import fetch, live_chain, percentile
from bench.redirect_bench import free_port, wait_up
from linkgen.models import NewLink, validate

PASSWORD = "benchmark password"


class Client:
    def __init__(self, url: str) -> None:
        self.url, self.http = url, requests.Session()

    def token(self, path: str) -> tuple[str, str]:
        page = self.http.get(self.url + path, timeout=10).text
        csrf = re.search(r'name="csrf" value="([^"]+)"', page)
        version = re.search(r'name="version" value="(\d+)"', page)
        return (csrf.group(1) if csrf else ""), (version.group(1) if version else "")

    def sign_in(self, email: str) -> None:
        csrf, _ = self.token("/sign-in")
        answer = self.http.post(
            f"{self.url}/sign-in",
            data={"csrf": csrf, "email": email, "password": PASSWORD},
            allow_redirects=False,
            timeout=10,
        )
        assert answer.status_code == 303, answer.text

    def save_name(self, username: str, name: str, csrf: str, version: int) -> None:
        answer = self.http.post(
            f"{self.url}/p/{username}/profile",
            data={"csrf": csrf, "display_name": name, "bio": "", "theme": "default",
                  "version": str(version)},
            allow_redirects=False,
            timeout=10,
        )  # fmt: skip
        assert answer.status_code == 303, answer.text[:500]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", type=int, default=1000)
    parser.add_argument("--saves", type=int, default=30)
    parser.add_argument("--latency-ms", type=float, default=30.0)
    parser.add_argument("--work", type=Path, default=Path("/dev/shm/linkgen-editor-bench"))
    args = parser.parse_args()
    preview_times: list[float] = []
    live_times: list[float] = []
    with live_chain(args.profiles, args.latency_ms, args.work) as (site, edge):
        store = site.content
        busy, other = [p.username for p in store.list_profiles()[:2]]
        for n in range(len(store.get(busy).links), 50):  # a profile with 50 links
            store.add_link(busy, validate(NewLink, {"title": f"Link {n}", "url": f"ex.com/{n}"}))
        ids = [store.get(name).id for name in (busy, other)]
        _, token = site.accounts.add_user("bench@example.com", ids)
        site.accounts.set_password_with_link(token, PASSWORD)
        port = free_port()
        linkgen = str(Path(sys.executable).with_name("linkgen"))
        editor = subprocess.Popen(
            [linkgen, "--site", str(site.root), "editor", "--port", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            url = f"http://127.0.0.1:{port}"
            wait_up(f"{url}/healthz", editor)
            client = Client(url)
            client.sign_in("bench@example.com")
            csrf, _ = client.token(f"/p/{busy}")
            for n in range(args.saves):  # save → the preview the page then shows
                version = store.get(busy).version
                started = time.perf_counter()
                client.save_name(busy, f"Busy {n}", csrf, version)
                preview = client.http.get(f"{url}/p/{busy}/preview", timeout=10).text
                preview_times.append(time.perf_counter() - started)
                assert f"Busy {n}" in preview
            for n in range(args.saves):  # save → live at the edge
                fetch(f"{edge}/{other}")
                version = store.get(other).version
                marker = f"Live {n} {time.time_ns()}"
                started = time.perf_counter()
                client.save_name(other, marker, csrf, version)
                while marker not in fetch(f"{edge}/{other}")[0]:
                    if time.perf_counter() - started > 30:
                        raise RuntimeError(f"save {n} not at the edge after 30 s")
                    time.sleep(0.005)
                live_times.append(time.perf_counter() - started)
                time.sleep(0.2)  # saves arrive one by one
        finally:
            editor.terminate()
            editor.wait(timeout=30)
    print(
        f"\n{args.profiles:,} profiles; moto S3 ({args.latency_ms:g} ms added per request), "
        "Varnish/xkey and `linkgen worker` on loopback\n"
    )
    print("| measure | saves | p50 | p95 | max |")
    print("|---|---|---|---|---|")
    for name, values in (
        ("save → preview updated (50 links)", preview_times),
        ("save → live at the edge", live_times),
    ):
        print(
            f"| {name} | {len(values)} | {1000 * statistics.median(values):.0f} ms | "
            f"{1000 * percentile(values, 0.95):.0f} ms | {1000 * max(values):.0f} ms |"
        )


if __name__ == "__main__":
    main()
