"""How long a CLI call takes, against the floor of a click command that opens SQLite.

The floor is a bare ``python -c "import click, sqlite3, tomllib"``; beside it, on a
site of ``--profiles`` profiles: ``linkgen --help``, ``linkgen profile show``,
``linkgen stats`` (read) and ``linkgen link add`` (a write); and what a write
checked with pydantic costs at the least (the floor, pydantic imported, one
small strict model validated). The commands alternate run by run (the
machine's speed drifts), each ``--runs`` times; the medians and their ratio
to the floor are printed.

    python bench/startup_bench.py --runs 15
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from linkgen import site as sites
from linkgen.models import NewLink, NewProfile, validate

PYDANTIC_FLOOR = """
import os
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")  # as linkgen does
import click, sqlite3, tomllib
from pydantic import BaseModel, ConfigDict
class Link(BaseModel):
    model_config = ConfigDict(strict=True, frozen=True, extra="forbid")
    title: str
    url: str
Link.model_validate({"title": "x", "url": "https://e.com/"})
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--profiles", type=int, default=100)
    parser.add_argument("--work", type=Path, default=Path("/dev/shm/linkgen-startup-bench"))
    args = parser.parse_args()
    shutil.rmtree(args.work, ignore_errors=True)
    site = sites.init(args.work / "site")
    for n in range(args.profiles):
        site.content.create_profile(validate(NewProfile, {"username": f"user{n:04d}"}))
        site.content.add_link(f"user{n:04d}", validate(NewLink, {"title": "x", "url": "e.com"}))
    site.close()
    linkgen = [str(Path(sys.executable).with_name("linkgen")), "--site", str(site.root)]
    commands = {
        "floor: python -c 'import click, sqlite3, tomllib'": [
            sys.executable, "-c", "import click, sqlite3, tomllib"],
        # What any write checked with pydantic pays before linkgen's own code: the
        # floor, pydantic, and one strict model built and used once.
        "pydantic floor: the floor + one pydantic model checked": [
            sys.executable, "-c", PYDANTIC_FLOOR],
        "linkgen --help": [*linkgen, "--help"],
        "linkgen profile show user0000": [*linkgen, "profile", "show", "user0000"],
        "linkgen stats user0000": [*linkgen, "stats", "user0000"],
    }  # fmt: skip
    times: dict[str, list[float]] = {name: [] for name in commands}
    times["linkgen link add (a write)"] = []
    for run in range(args.runs):
        for name, command in commands.items():
            times[name].append(_timed(command))
        user = f"user{run % args.profiles:04d}"
        times["linkgen link add (a write)"].append(
            _timed([*linkgen, "link", "add", user, f"Run {run}", f"https://e.com/{run}"])
        )
    floor = statistics.median(next(iter(times.values())))
    print(f"\n{args.runs} runs each, alternating; {args.profiles} profiles\n")
    print("| command | median | ratio to the floor |")
    print("|---|---|---|")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"| {name} | {1000 * median:.0f} ms | {median / floor:.2f} x |")


def _timed(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


if __name__ == "__main__":
    main()
