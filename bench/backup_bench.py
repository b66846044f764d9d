"""Backup and restore times, for the RPO/RTO figures in docs/operations.md.

A synthetic site of N profiles (bench/synth.py) is built and published to a
folder target; then, each timed: `linkgen backup` to a folder, `linkgen
restore` into an empty directory, the full `build` of the restored site, and
its first `publish`, which compares every object with the target. The sum of
the last three is the time to bring a lost site back (without the time to copy
the backup across a network).

    python bench/backup_bench.py --profiles 10000
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.synth import generate

LINKGEN = [sys.executable, "-m", "linkgen"]


def timed(*args: str) -> float:
    started = time.perf_counter()
    subprocess.run([*LINKGEN, *args], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def run(profiles: int, work: Path) -> dict[str, float]:
    site, restored, backups, bucket = (work / n for n in ("site", "restored", "backups", "bucket"))
    subprocess.run([*LINKGEN, "init", str(site)], check=True, stdout=subprocess.DEVNULL)
    (site / "linkgen.toml").write_text(
        f'[publish]\ntarget = "{bucket.as_uri()}"\n[build]\nsocial_cards = false\n'
    )
    generate(site, profiles)
    timed("--site", str(site), "build")
    timed("--site", str(site), "publish")
    times = {"backup": timed("--site", str(site), "backup", str(backups))}
    times["restore"] = timed("--site", str(restored), "restore", str(backups))
    times["build"] = timed("--site", str(restored), "build")
    times["publish (verify)"] = timed("--site", str(restored), "publish")
    times["back up and running"] = times["restore"] + times["build"] + times["publish (verify)"]
    size = sum(p.stat().st_size for p in backups.rglob("*") if p.is_file())
    times["backup MB"] = size / 1e6
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", type=int, default=10_000)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="linkgen-backup-bench-"))
    try:
        results = run(args.profiles, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"{args.profiles:,} profiles")
    for name, value in results.items():
        unit = "" if name.endswith("MB") else " s"
        print(f"  {name:<22} {value:8.2f}{unit}")


if __name__ == "__main__":
    main()
