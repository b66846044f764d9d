"""The click writer's CPU per event: classifying hits and writing them with their rollups.

What the writer process spends per click is CPU the server does not have on
a small machine (docs/benchmarks.md, "Redirects"). Two shapes of traffic,
each into a fresh clicks.db, in batches of one 25 ms window at 45,000 hits/s:

- distinct visitors: random addresses, two user agents, 50 profiles with
  250 links, a quarter of the hits views — every visitor new to the day, as
  in a real burst;
- one visitor: every hit the same address, no headers, one link — what
  `wrk` sends in bench/redirect_bench.py.

CPU time of this process (not wall time), the median of ``--rounds``. To
compare with another version, run the same command with that version's
package first on the path:

    python bench/writer_bench.py --events 90000 --rounds 5
    PYTHONPATH=/path/to/other/checkout python bench/writer_bench.py --events 90000 --rounds 5
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.append(str(Path(__file__).resolve().parents[1]))  # after $PYTHONPATH

from linkgen.clicks.db import ClickStore
from linkgen.clicks.hits import Classifier, Hit

BATCH = 1125  # 25 ms at 45,000 hits/s
AGENTS = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36",
)


def distinct_visitors(count: int, start: float, rng: random.Random) -> list[Hit]:
    hits: list[Hit] = []
    for n in range(count):
        kind = "view" if n % 4 == 0 else "click"
        address = ".".join(str(rng.randrange(256)) for _ in range(3))
        hits.append(
            (
                start + n * 1e-5,
                kind,
                f"p{n % 50:09d}",
                f"l{n % 250:09d}" if kind == "click" else "",
                "",
                f"10.{address}",
                rng.choice(AGENTS),
                rng.choice(("", "https://t.co/x", "https://www.instagram.com/")),
                rng.choice(("", "US", "DE")),
            )
        )
    return hits


def one_visitor(count: int, start: float) -> list[Hit]:
    return [
        (start + n * 1e-5, "click", "p123456789", "l123456789", "", "127.0.0.1", "", "", "")
        for n in range(count)
    ]


def cpu_per_event(hits: list[Hit], work: Path) -> float:
    """µs of CPU per hit to classify and write all of ``hits`` into a fresh store."""
    store = ClickStore(work / f"clicks-{time.monotonic_ns()}.db")
    classifier = Classifier(store)
    store.write(classifier.events(hits[:1]))  # the day's salt, made outside the timing
    started = time.process_time()
    for first in range(1, len(hits), BATCH):
        store.write(classifier.events(hits[first : first + BATCH]))
    spent = time.process_time() - started
    store.close()
    return spent / (len(hits) - 1) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=90_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    start = time.time()
    shapes = {
        "distinct visitors": distinct_visitors(args.events, start, random.Random(1)),
        "one visitor (wrk)": one_visitor(args.events, start),
    }
    import linkgen

    print(f"linkgen from {Path(linkgen.__file__).parent}; {args.events:,} hits a round")
    with tempfile.TemporaryDirectory(prefix="linkgen-writer-bench-") as work:
        for name, hits in shapes.items():
            runs = [cpu_per_event(hits, Path(work)) for _ in range(args.rounds)]
            median = statistics.median(runs)
            print(
                f"{name}: {median:.1f} µs of CPU a hit (median of {args.rounds}: "
                f"{', '.join(f'{run:.1f}' for run in runs)}), {1e6 / median:,.0f} hits/s a core"
            )


if __name__ == "__main__":
    main()
