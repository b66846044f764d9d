"""Redirect throughput: linkgen's redirector against nginx `return 302`, in one run.

`wrk -t2 -c64 -d10s --latency` on loopback, one server worker each; nginx and
linkgen alternate for `--rounds` runs (default 3) and the median run of each
is reported, so a slow minute on a shared machine hits both:

1. nginx (Debian) with `return 302` — the ceiling for a 302 on this machine;
2. the redirector on granian through RSGI, as `linkgen redirector` runs it;
3. links served by the edge (`[redirector] mode = "edge"`): Debian's Varnish
   with linkgen's VCL (`linkgen edge vcl`) in front of moto's S3 server, the
   site published there, the link's object cached at the edge;
4. a bare 302 application on granian (RSGI, `bench/bare_302.py`) and a
   Varnish answering every request with a synthetic 302 (no cache lookup,
   no backend): what each server itself costs;
5. the redirector on granian through ASGI;
6. the same application on uvicorn (httptools + uvloop).

nginx, the redirector and the edge alternate. For each linkgen server:
requests/s, latency percentiles, and after a graceful stop (SIGTERM) the
clicks recorded in clicks.db against the responses wrk received. Then the
edge's log: clicks counted by `linkgen clicks ingest` across a rotation and
three runs of it, against the redirects answered. Then a
`kill -9` in the middle of a load run: the clicks lost (answered but never
written) are measured against the batch window. Last, the redirector with a
new visitor on every request (`bench/visitors.lua`: a new client address and
one of three user agents), so the click writer counts a visitor it has not
seen today each time — clicks recorded against responses again.

    python bench/redirect_bench.py --duration 10 --rounds 3
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import logging
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import boto3
from moto.server import ThreadedMotoServer

from linkgen import site as sites
from linkgen.build import build
from linkgen.clicks.db import ClickStore, clicks_path
from linkgen.config import Config
from linkgen.models import NewLink, NewProfile, validate
from linkgen.publish.run import publish
from tests.support.edge import start_varnish

VISITORS = Path(__file__).resolve().with_name("visitors.lua")
NGINX_CONF = """
worker_processes 1;
daemon off;
pid {work}/nginx.pid;
error_log {work}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {work}/tmp; proxy_temp_path {work}/tmp;
    fastcgi_temp_path {work}/tmp; uwsgi_temp_path {work}/tmp; scgi_temp_path {work}/tmp;
    server {{
        listen 127.0.0.1:{port};
        location /r/ {{ add_header Cache-Control "private, no-store" always;
                       return 302 https://shop.example.com/item; }}
    }}
}}
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


START_SECONDS = 120  # a loaded machine starts a server slowly; never left running


def wait_up(url: str, proc: subprocess.Popen[bytes]) -> None:
    """Until the server answers anything (redirects are not followed); a server
    that does not come up in time is stopped before the error is raised."""
    parts = urlsplit(url)
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args} exited: {proc.stderr.read() if proc.stderr else ''}")
        try:
            conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=1)
            conn.request("GET", parts.path)
            conn.getresponse().read()
            conn.close()
            return
        except OSError:
            time.sleep(0.05)
    for pid in _tree(proc.pid):  # with its workers and the click writer
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    proc.wait(timeout=30)
    raise RuntimeError(f"{url} did not come up in {START_SECONDS} s")


def wrk(
    url: str,
    duration: float,
    connections: int = 64,
    headers: dict[str, str] | None = None,
    script: Path | None = None,
) -> dict[str, float]:
    """wrk's figures; with a Lua ``script`` that prints ``accepted N``, that too."""
    sent = [arg for name, value in (headers or {}).items() for arg in ("-H", f"{name}: {value}")]
    if script is not None:
        sent += ["-s", str(script)]
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{duration:g}s", "--latency", *sent, url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    result = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))}  # type: ignore[union-attr]
    result["requests"] = float(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    for pct in ("50", "90", "99"):
        value, unit = re.search(rf"\s{pct}%\s+([\d.]+)(us|ms|s)", out).groups()  # type: ignore[union-attr]
        result[f"p{pct}"] = float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    result["bad"] = float(errors.group(1)) if errors else 0.0
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
    )
    result["socket_errors"] = float(sum(map(int, socket_errors.groups()))) if socket_errors else 0.0
    accepted = re.search(r"^accepted (\d+)$", out, re.MULTILINE)
    if accepted:
        result["accepted"] = float(accepted.group(1))
    return result


def make_site(root: Path) -> tuple[sites.Site, str]:
    site = sites.init(root)
    for n in range(1000):
        username = f"user{n:04d}"
        site.content.create_profile(validate(NewProfile, {"username": username}))
        for k in range(5):
            url = f"https://shop.example.com/{n}/{k}"
            site.content.add_link(username, validate(NewLink, {"title": f"Link {k}", "url": url}))
    link_id = site.content.get("user0500").links[0].id
    return site, link_id


class Edge:
    """The site published in edge mode to moto, and Varnish in front of it."""

    def __init__(self, work: Path) -> None:
        os.environ.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench")
        self.moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self.moto.start()
        host, port = self.moto.get_host_and_port()
        origin = f"http://{host}:{port}"
        boto3.client("s3", endpoint_url=origin, region_name="us-east-1").create_bucket(
            Bucket="edge"
        )
        (work / "varnish").mkdir()
        self.varnish, self.url = start_varnish(origin, "/edge/site", work / "varnish")
        self.varnish_name = work / "varnish" / "varnish"
        site, self.link_id = make_site(work / "site-edge")
        self.site_root = site.root
        (site.root / "linkgen.toml").write_text(
            '[site]\nurl = "https://links.example.com"\n[redirector]\nmode = "edge"\n'
            "[build]\nsocial_cards = false\nqr_codes = false\n"
            f'[publish]\ntarget = "s3://edge/site"\nendpoint_url = "{origin}"\n'
            'region = "us-east-1"\nacl = "public-read"\n'
            f'[cdn]\nprovider = "varnish"\nvarnish_urls = ["{self.url}"]\n'
        )
        site.close()
        site = sites.Site.open(site.root)
        try:
            build(site)
            result = publish(site)
            assert result.ok, result.failures
        finally:
            site.close()

    def run(self, duration: float) -> dict[str, float]:
        url = f"{self.url}/r/{self.link_id}"
        wait_up(url, self.varnish)
        return wrk(url, duration)

    def counted_from_log(self, duration: float) -> dict[str, int]:
        """wrk through the edge while varnishncsa logs (the format `linkgen edge
        varnishncsa` gives); halfway the log is rotated (renamed, varnishncsa
        started again on the old name); `linkgen clicks ingest` runs as a new
        process a third of the way in, after the rotation and at the end, and once
        more over both files: every redirect answered against every click counted."""
        linkgen = str(Path(sys.executable).with_name("linkgen"))
        root = self.site_root
        log = root / "edge.log"
        command = subprocess.run(
            [linkgen, "--site", str(root), "edge", "varnishncsa", "--log", str(log)],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        argv = shlex.split(command)
        name = ["-n", str(self.varnish_name)]

        def ncsa() -> subprocess.Popen[bytes]:
            return subprocess.Popen([argv[0], *name, *argv[1:]])

        def ingest(*files: Path) -> int:
            out = subprocess.run(
                [linkgen, "--site", str(root), "clicks", "ingest", *map(str, files), "--json"],
                capture_output=True, text=True, check=True,
            ).stdout  # fmt: skip
            return int(json.loads(out)["clicks"])

        logger = ncsa()
        time.sleep(1.0)
        url = f"{self.url}/r/{self.link_id}"
        load = subprocess.Popen(
            ["wrk", "-t2", "-c16", f"-d{duration:g}s", url], stdout=subprocess.PIPE, text=True
        )
        counted = 0
        time.sleep(duration / 3)
        counted += ingest(log)
        time.sleep(duration / 2 - duration / 3)
        log.rename(root / "edge.log.1")
        logger.terminate()
        logger.wait(timeout=10)
        logger = ncsa()
        counted += ingest(root / "edge.log.1", log)
        out, _ = load.communicate()
        answered = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
        bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            logged = sum(_lines(path) for path in (root / "edge.log.1", log))
            if logged >= answered:
                break
            time.sleep(0.5)
        logger.terminate()
        logger.wait(timeout=10)
        counted += ingest(root / "edge.log.1", log)
        again = ingest(log, root / "edge.log.1")
        return {
            "answered": answered,
            "bad": int(bad.group(1)) if bad else 0,
            "logged": sum(_lines(path) for path in (root / "edge.log.1", log)),
            "counted": counted,
            "again": again,
        }

    def close(self) -> None:
        self.varnish.terminate()
        self.varnish.wait(timeout=30)
        self.moto.stop()


SYNTH_VCL = """vcl 4.1;
backend none none;
sub vcl_recv { return (synth(302, "Found")); }
sub vcl_synth {
    set resp.http.Location = "https://shop.example.com/item";
    set resp.http.Cache-Control = "no-store, private";
    set resp.body = "";
    return (deliver);
}
"""


def run_varnish_synth(work: Path, duration: float) -> dict[str, float]:
    work.mkdir(exist_ok=True)
    (work / "synth.vcl").write_text(SYNTH_VCL)
    port = free_port()
    return load_run(
        ["varnishd", "-F", "-j", "none", "-n", str(work / "n"), "-a", f"127.0.0.1:{port}",
         "-f", str(work / "synth.vcl"), "-s", "malloc,32m"],
        port, duration,
    )  # fmt: skip


def run_bare(duration: float) -> dict[str, float]:
    port = free_port()
    bench_dir = str(Path(__file__).resolve().parent)
    return load_run(
        [
            str(Path(sys.executable).with_name("granian")), "--interface", "rsgi",
            "--host", "127.0.0.1", "--port", str(port), "--loop", "uvloop", "--http", "1",
            "--no-ws", "--log-level", "warning", "bare_302:app",
        ],
        port, duration, env={**os.environ, "PYTHONPATH": bench_dir},
    )  # fmt: skip


def load_run(
    command: list[str], port: int, duration: float, env: dict[str, str] | None = None
) -> dict[str, float]:
    """Start ``command`` (a server on ``port``), load /r/x with wrk, stop it."""
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_up(f"http://127.0.0.1:{port}/r/x", proc)
        return wrk(f"http://127.0.0.1:{port}/r/x", duration)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _lines(path: Path) -> int:
    try:
        with path.open("rb") as file:
            return sum(1 for _ in file)
    except FileNotFoundError:
        return 0


def recorded(site_root: Path) -> int:
    store = ClickStore(clicks_path(site_root))
    try:
        return len(store.events(["click"]))
    finally:
        store.close()


def start_linkgen(server: str, site_root: Path, port: int) -> subprocess.Popen[bytes]:
    """`linkgen redirector` (granian, as shipped), or the same application on uvicorn."""
    env = {**os.environ, "LINKGEN_SITE": str(site_root)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if server == "granian":
        linkgen = str(Path(sys.executable).with_name("linkgen"))
        command = [linkgen, "--site", str(site_root), "redirector", "--port", str(port)]
    elif server == "granian-asgi":  # the same application through ASGI on granian
        command = [
            str(Path(sys.executable).with_name("granian")), "--interface", "asgi", "--factory",
            "--host", "127.0.0.1", "--port", str(port), "--loop", "uvloop", "--http", "1",
            "--no-ws", "--log-level", "warning", "linkgen.clicks.server:app_from_env",
        ]  # fmt: skip
    else:
        command = [
            sys.executable, "-m", "uvicorn", "--factory", "--host", "127.0.0.1",
            "--port", str(port), "--loop", "uvloop", "--http", "httptools",
            "--no-access-log", "--log-level", "warning",
            "linkgen.clicks.server:app_from_env",
        ]  # fmt: skip
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def run_nginx(work: Path, duration: float) -> dict[str, float]:
    port = free_port()
    (work / "nginx.conf").write_text(NGINX_CONF.format(work=work, port=port))
    return load_run(["nginx", "-p", str(work), "-c", str(work / "nginx.conf")], port, duration)


def run_linkgen(
    server: str,
    site_root: Path,
    link_id: str,
    duration: float,
    headers: dict[str, str] | None = None,
    script: Path | None = None,
) -> dict[str, float]:
    """A load run, then SIGTERM: result["saved"] is the clicks recorded during it."""
    port = free_port()
    proc = start_linkgen(server, site_root, port)
    wait_up(f"http://127.0.0.1:{port}/healthz", proc)
    warm = recorded(site_root)
    result = wrk(f"http://127.0.0.1:{port}/r/{link_id}", duration, headers=headers, script=script)
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=60)
    result["saved"] = recorded(site_root) - warm
    return result


def kill_under_load(site_root: Path, link_id: str, duration: float) -> tuple[int, int]:
    """`linkgen redirector` killed with SIGKILL halfway through a run: (answered, recorded)."""
    before = recorded(site_root)
    port = free_port()
    proc = start_linkgen("granian", site_root, port)
    wait_up(f"http://127.0.0.1:{port}/healthz", proc)
    load = subprocess.Popen(
        ["wrk", "-t2", "-c64", f"-d{duration:g}s", f"http://127.0.0.1:{port}/r/{link_id}"],
        stdout=subprocess.PIPE,
        text=True,
    )
    time.sleep(duration / 2)
    # The whole tree at once — server, worker and click writer — as a machine crash would.
    for pid in _tree(proc.pid):
        os.kill(pid, signal.SIGKILL)
    out, _ = load.communicate()
    answered = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    return answered, recorded(site_root) - before


def median_run(results: list[dict[str, float]]) -> dict[str, float]:
    return sorted(results, key=lambda result: result["rps"])[len(results) // 2]


def main() -> None:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's request log
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument(
        "--rounds", type=int, default=3, help="nginx and linkgen alternate this many times"
    )
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="linkgen-redirect-bench-"))
    nginx_runs: list[dict[str, float]] = []
    linkgen_runs: list[dict[str, float]] = []
    edge_runs: list[dict[str, float]] = []
    edge = None
    try:
        (work / "nginx" / "tmp").mkdir(parents=True)
        sites_made = {}
        for server in ("granian", "granian-asgi", "uvicorn", "visitors"):
            site, link_id = make_site(work / f"site-{server}")
            site.close()
            sites_made[server] = (work / f"site-{server}", link_id)
        (work / "site-visitors" / "linkgen.toml").write_text(
            '[site]\nurl = "https://links.example.com"\n'
            '[redirector]\nclient_ip_header = "X-Real-IP"\n'
        )
        edge = Edge(work)
        # Alternating, so a slow minute of a shared machine hits both.
        for round_number in range(1, args.rounds + 1):
            nginx_runs.append(run_nginx(work / "nginx", args.duration))
            linkgen_runs.append(run_linkgen("granian", *sites_made["granian"], args.duration))
            edge_runs.append(edge.run(args.duration))
            print(
                f"round {round_number}: nginx {nginx_runs[-1]['rps']:,.0f} req/s, "
                f"linkgen {linkgen_runs[-1]['rps']:,.0f} req/s "
                f"(p99 {linkgen_runs[-1]['p99']:.2f} ms), "
                f"edge {edge_runs[-1]['rps']:,.0f} req/s (p99 {edge_runs[-1]['p99']:.2f} ms)",
                flush=True,
            )
        bare = run_bare(args.duration)
        varnish_synth = run_varnish_synth(work / "synth", args.duration)
        from_log = edge.counted_from_log(args.duration)
        asgi = run_linkgen("granian-asgi", *sites_made["granian-asgi"], args.duration)
        uvicorn = run_linkgen("uvicorn", *sites_made["uvicorn"], args.duration)
        answered, kept = kill_under_load(*sites_made["granian"], args.duration)
        distinct = run_linkgen("granian", *sites_made["visitors"], args.duration, script=VISITORS)
    finally:
        if edge is not None:
            edge.close()
        shutil.rmtree(work, ignore_errors=True)

    nginx, linkgen = median_run(nginx_runs), median_run(linkgen_runs)
    rows = [
        ("nginx `return 302` (1 worker)", nginx),
        ("linkgen's redirector on granian, RSGI (`linkgen redirector`), 1 worker", linkgen),
        ("links served by the edge: Varnish with `linkgen edge vcl`", median_run(edge_runs)),
        ("a bare 302 application on granian (RSGI), 1 worker", bare),
        ("Varnish answering a synthetic 302 (no cache, no backend)", varnish_synth),
        ("the same application on granian through ASGI, 1 worker", asgi),
        ("the same application on uvicorn (ASGI), 1 worker", uvicorn),
    ]
    print(
        f"\nwrk -t2 -c64 -d{args.duration:g}s --latency, loopback, this machine; "
        f"nginx, the redirector and the edge: the median of {args.rounds} alternating rounds\n"
    )
    print("| server | requests/s | vs nginx | p50 | p90 | p99 | clicks recorded / responses |")
    print("|---|---|---|---|---|---|---|")
    for name, result in rows:
        share = f"{100 * result['rps'] / nginx['rps']:.0f} %"
        saved = result.get("saved")
        kept_text = "-" if saved is None else f"{int(saved):,} / {int(result['requests']):,}"
        print(
            f"| {name} | {result['rps']:,.0f} | {share} | {result['p50']:.2f} ms | "
            f"{result['p90']:.2f} ms | {result['p99']:.2f} ms | {kept_text} |"
        )
    print(
        f"\nedge-served links counted from the edge's log (rotated halfway, the ingester run "
        f"as a new process three times): {from_log['answered']:,} redirects answered "
        f"({from_log['bad']} not 3xx), {from_log['logged']:,} lines logged, "
        f"{from_log['counted']:,} clicks counted, {from_log['again']} counted again by a rerun"
    )
    print(
        f"\nthe redirector with a new visitor every request (bench/visitors.lua): "
        f"{distinct['rps']:,.0f} req/s ({100 * distinct['rps'] / nginx['rps']:.0f} % of nginx), "
        f"p99 {distinct['p99']:.2f} ms; clicks recorded / responses: "
        f"{int(distinct['saved']):,} / {int(distinct['requests']):,}"
    )
    window = Config().redirector.batch_seconds
    rate = answered / (args.duration / 2)
    lost = answered - kept
    print(
        f"\nkill -9 at {args.duration / 2:g} s under load: wrk received {answered:,} responses, "
        f"clicks.db holds {kept:,}; lost {lost:,} = {1000 * lost / rate:.0f} ms of traffic "
        f"({lost / (rate * window):.2f} of the {1000 * window:.0f} ms batch window)"
    )


def _tree(pid: int) -> list[int]:
    """pid and all its descendants."""
    found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [pid] + [each for child in found.split() for each in _tree(int(child))]


if __name__ == "__main__":
    main()
