"""Build benchmarks: linkgen against Hugo and Eleventy on the same profiles, in one run.

For each size N it makes a synthetic site (bench/synth.py) and the same
profiles as a Hugo site and an Eleventy site with equivalent templates
(bench/hugo_site.py, bench/eleventy_site.py), then times, rotating the tools:

- a full build into an empty output directory: wall time and pages/s over
  --runs runs, then one more run for peak memory of the whole process tree
  (RSS summed, and PSS, which counts pages shared between forked workers
  once), sampled every 20 ms;
- a no-op rebuild and a rebuild after one profile edit (linkgen only), as
  whole commands, interpreter start included.

    python bench/run.py --sizes 10000,100000 --runs 5

Inputs and outputs go under --work (default: /dev/shm/linkgen-bench, a
tmpfs, so both tools are measured without this machine's disk in the way;
pass a directory on disk to measure that too).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import psutil

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bench import eleventy_site, hugo_site, synth  # noqa: E402


class PeakMemory:
    """Samples a process tree every 20 ms: the peak of summed RSS and of summed PSS."""

    def __init__(self, pid: int) -> None:
        self.root = psutil.Process(pid)
        self.rss = 0
        self.pss = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                procs = [self.root, *self.root.children(recursive=True)]
            except psutil.NoSuchProcess:
                return
            rss = pss = 0
            for proc in procs:
                rss += _field(proc.pid, "/status", "VmRSS:")
                pss += _field(proc.pid, "/smaps_rollup", "Pss:")
            self.rss, self.pss = max(self.rss, rss), max(self.pss, pss)
            self._stop.wait(0.02)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def _field(pid: int, name: str, key: str) -> int:
    try:
        for line in Path(f"/proc/{pid}{name}").read_text().splitlines():
            if line.startswith(key):
                return int(line.split()[1]) * 1024
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        pass
    return 0


def timed(
    cmd: list[str], env: dict[str, str] | None = None, *, sample: bool = False
) -> dict[str, float]:
    """Run ``cmd``; with ``sample``, measure its memory instead of trusting its time.

    Reading /proc/PID/smaps_rollup walks a process's page tables under its
    memory lock, which slows the process: timed runs are never sampled.
    """
    os.sync()  # start each run with no writeback of the previous one pending
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    memory = PeakMemory(proc.pid) if sample else None
    _, err = proc.communicate()
    wall = time.perf_counter() - started
    if memory is not None:
        memory.stop()
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}): {err.decode()[-2000:]}")
    if memory is None:
        return {"wall": wall}
    return {"wall": wall, "rss_mb": memory.rss / 2**20, "pss_mb": memory.pss / 2**20}


def prepare(work: Path, size: int, eleventy: bool) -> tuple[Path, Path, Path]:
    site_dir, hugo_dir = work / f"site-{size}", work / f"hugo-{size}"
    eleventy_dir = work / f"eleventy-{size}"
    marker = site_dir / ".bench-size"
    if not marker.exists() or marker.read_text() != str(size):
        shutil.rmtree(site_dir, ignore_errors=True)
        shutil.rmtree(hugo_dir, ignore_errors=True)
        shutil.rmtree(eleventy_dir, ignore_errors=True)
        print(f"generating {size} profiles ...", file=sys.stderr)
        synth.generate(site_dir, size)
        marker.write_text(str(size))
    if not (hugo_dir / "hugo.toml").exists():
        print(f"writing the Hugo site for {size} profiles ...", file=sys.stderr)
        hugo_site.export(site_dir, hugo_dir)
    if eleventy and not (eleventy_dir / "eleventy.config.cjs").exists():
        print(f"writing the Eleventy site for {size} profiles ...", file=sys.stderr)
        eleventy_site.export(site_dir, eleventy_dir)
    return site_dir, hugo_dir, eleventy_dir


def bench_size(
    work: Path,
    size: int,
    runs: int,
    linkgen: str,
    hugo: str,
    eleventy: str | None,
    media: bool = True,
) -> dict[str, Any]:
    site_dir, hugo_dir, eleventy_dir = prepare(work, size, eleventy is not None)
    _forget_cards(site_dir)
    out_linkgen, out_hugo = work / f"out-linkgen-{size}", work / f"out-hugo-{size}"
    # Hugo draws no images: linkgen's social cards and QR codes are measured on
    # their own below.
    env = {
        **os.environ,
        "LINKGEN_BUILD__OUTPUT": str(out_linkgen),
        "LINKGEN_BUILD__SOCIAL_CARDS": "false",
        "LINKGEN_BUILD__QR_CODES": "false",
    }
    # A normal install has compiled .pyc files; some sandboxes forbid writing them.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    subprocess.run([linkgen, "--version"], env=env, check=True, stdout=subprocess.DEVNULL)
    build = [linkgen, "--site", str(site_dir), "build"]
    commands = {
        "linkgen": (build, env, out_linkgen),
        "hugo": ([hugo, "--quiet", "-s", str(hugo_dir), "-d", str(out_hugo)], None, out_hugo),
    }
    out_eleventy = work / f"out-eleventy-{size}"
    if eleventy is not None:
        commands["eleventy"] = (
            [eleventy, "--quiet", "--input", str(eleventy_dir), "--output", str(out_eleventy),
             "--config", str(eleventy_dir / "eleventy.config.cjs")],
            None, out_eleventy,
        )  # fmt: skip
    tools = list(commands)
    results: dict[str, list[dict[str, float]]] = {tool: [] for tool in tools}
    memory: dict[str, dict[str, float]] = {}
    for run in range(runs + 1):
        for tool in tools[run % len(tools) :] + tools[: run % len(tools)]:
            cmd, tool_env, out = commands[tool]
            shutil.rmtree(out, ignore_errors=True)
            if run == runs:  # one more run, for memory only
                memory[tool] = timed(cmd, tool_env, sample=True)
                continue
            result = timed(cmd, tool_env)
            results[tool].append(result)
            print(f"  N={size} {tool:8} full build {result['wall']:6.2f}s", file=sys.stderr)
    pages = {
        "linkgen": sum(1 for p in out_linkgen.iterdir() if not p.suffix and p.is_file()) - 1,
        "hugo": sum(1 for p in out_hugo.glob("*.html") if p.name != "404.html"),
    }
    if eleventy is not None:
        pages["eleventy"] = sum(1 for p in out_eleventy.glob("*.html") if p.name != "404.html")
    noop = [timed(build, env)["wall"] for _ in range(5)]
    rng = random.Random(size)
    edit = []
    for n in range(5):
        user = f"user{rng.randrange(size):06d}"
        subprocess.run(
            [linkgen, "--site", str(site_dir), "-q", "profile", "set", user, "--bio", f"edit {n}"],
            check=True,
            env=env,
            stdout=subprocess.DEVNULL,
        )
        edit.append(timed(build, env)["wall"])
    summary: dict[str, Any] = {"size": size, "pages": pages, "runs": results, "tools": tools}
    for tool in tools:
        walls = [r["wall"] for r in results[tool]]
        summary[tool] = {
            "wall_median": statistics.median(walls),
            "wall_all": walls,
            "pages_per_s": size / statistics.median(walls),
            "peak_rss_mb": memory[tool]["rss_mb"],
            "peak_pss_mb": memory[tool]["pss_mb"],
        }
    summary["ratio"] = summary["linkgen"]["pages_per_s"] / summary["hugo"]["pages_per_s"]
    if eleventy is not None:
        summary["ratio_eleventy"] = (
            summary["linkgen"]["pages_per_s"] / summary["eleventy"]["pages_per_s"]
        )
    summary["noop_median"], summary["noop_all"] = statistics.median(noop), noop
    summary["edit_median"], summary["edit_all"] = statistics.median(edit), edit
    if not media:
        return summary
    # The same full build drawing a social card, then writing a QR code, for every
    # profile (none cached).
    summary["with_cards"], summary["cards"] = _with_media(
        build, env, site_dir, work / f"out-cards-{size}", "SOCIAL_CARDS", "*.jpg"
    )
    print(f"  N={size} linkgen  full build with {summary['cards']} social cards "
          f"{summary['with_cards']:6.2f}s", file=sys.stderr)  # fmt: skip
    summary["with_qr"], summary["codes"] = _with_media(
        build, env, site_dir, work / f"out-cards-{size}", "QR_CODES", "*.svg"
    )
    print(f"  N={size} linkgen  full build with {summary['codes']} QR codes "
          f"{summary['with_qr']:6.2f}s", file=sys.stderr)  # fmt: skip
    return summary


def _with_media(
    build: list[str], env: dict[str, str], site_dir: Path, out: Path, setting: str, made: str
) -> tuple[float, int]:
    """A full build with [build] ``setting`` on: its wall time and how many files
    matching ``made`` it wrote; what it made is removed again afterwards."""
    _forget_cards(site_dir)
    shutil.rmtree(out, ignore_errors=True)
    wall = timed(
        build, {**env, f"LINKGEN_BUILD__{setting}": "true", "LINKGEN_BUILD__OUTPUT": str(out)}
    )
    count = sum(1 for _ in (out / "_m").glob(made))
    _forget_cards(site_dir)  # later runs copy none of it into their build
    shutil.rmtree(out, ignore_errors=True)
    return wall["wall"], count


def _forget_cards(site_dir: Path) -> None:
    """Remove drawn social cards and QR codes, so the next build makes them again."""
    media = site_dir / "site_data" / "media"
    for made in [*media.glob("*.jpg"), *media.glob("*.svg")]:
        made.unlink()


def table(results: list[dict[str, Any]]) -> str:
    rows = [
        "| N | tool | full build (median) | pages/s | peak RSS (tree) | peak PSS (tree) |",
        "|---|---|---|---|---|---|",
    ]
    for r in results:
        for tool in r["tools"]:
            t = r[tool]
            rows.append(
                f"| {r['size']:,} | {tool} | {t['wall_median']:.2f} s "
                f"({', '.join(f'{w:.2f}' for w in t['wall_all'])}) | {t['pages_per_s']:,.0f} | "
                f"{t['peak_rss_mb']:.0f} MB | {t['peak_pss_mb']:.0f} MB |"
            )
    rows += [
        "",
        "| N | linkgen ÷ Hugo pages/s | linkgen ÷ Eleventy | no-op rebuild (median) "
        "| one-edit rebuild (median) "
        "| full build with a social card per profile | full build with a QR code per profile |",
    ]
    rows += ["|---|---|---|---|---|---|---|"]
    for r in results:
        versus = f"{r['ratio_eleventy']:.2f}x" if "ratio_eleventy" in r else "-"
        rows.append(
            f"| {r['size']:,} | {r['ratio']:.2f}x | {versus} | {r['noop_median']:.2f} s "
            f"({', '.join(f'{w:.2f}' for w in r['noop_all'])}) | {r['edit_median']:.2f} s "
            f"({', '.join(f'{w:.2f}' for w in r['edit_all'])}) | " + (
                f"{r['with_cards']:.2f} s ({r['cards']:,} cards) | "
                f"{r['with_qr']:.2f} s ({r['codes']:,} codes) |"
                if "with_cards" in r else "not run (--no-media) | not run (--no-media) |"
            )
        )  # fmt: skip
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--runs", type=int, default=5)
    default_work = "/dev/shm/linkgen-bench" if Path("/dev/shm").is_dir() else "bench/out"
    parser.add_argument("--work", type=Path, default=Path(default_work))
    parser.add_argument("--json", type=Path, help="Also write the raw results here.")
    parser.add_argument(
        "--eleventy", type=Path, default=HERE.parent / ".bench-node/node_modules/.bin/eleventy",
        help="Eleventy's command (npm @11ty/eleventy; scripts/bench installs it); "
        "left out when missing.",
    )  # fmt: skip
    parser.add_argument(
        "--no-media", action="store_true",
        help="Leave out the full builds drawing every social card and QR code (minutes at 100k).",
    )  # fmt: skip
    args = parser.parse_args()
    linkgen = str(Path(sys.executable).with_name("linkgen"))
    eleventy = str(args.eleventy) if args.eleventy.is_file() else None
    if eleventy is None:
        print(f"{args.eleventy} is missing: measuring without Eleventy", file=sys.stderr)
    hugo = shutil.which("hugo")
    if hugo is None:
        raise SystemExit("hugo is not installed: apt-get install hugo (scripts/bench does)")
    args.work.mkdir(parents=True, exist_ok=True)
    results = [
        bench_size(args.work, int(size), args.runs, linkgen, hugo, eleventy, not args.no_media)
        for size in args.sizes.split(",")
    ]
    version = subprocess.run([hugo, "version"], capture_output=True, text=True).stdout.split()[1]
    print(
        f"\nmachine: {os.cpu_count()} cores, Python {platform.python_version()}, Hugo {version},"
        f" work dir {args.work}\n"
    )
    print(table(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
