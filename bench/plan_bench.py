"""A one-edit publish's plan: from the build journal against a walk of build/, side by side.

Generates N synthetic profiles (bench/synth.py), builds them and publishes
them once to a local ``file://`` target (no network: what is timed is the
plan, which is the same for S3). Then, ``--edits`` times: one profile edited
and rebuilt, and

- the plan from the journal (what `linkgen publish` now makes), in-process;
- the plan from a walk of every file in build/ (what it made before, and
  still makes with ``--verify``), in-process, for the same change;
- `linkgen publish --no-build` as a whole command (interpreter start
  included), which publishes the change.

Both plans are checked to be the same. Medians are reported.

    python bench/plan_bench.py --profiles 10000 --edits 5
    python bench/plan_bench.py --profiles 100000 --edits 5 --no-cards
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

from bench import synth
from linkgen import site as sites
from linkgen.build import build
from linkgen.models import ProfileFields
from linkgen.publish.plan import make_plan
from linkgen.publish.run import publish
from linkgen.publish.targets import open_target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", type=int, default=10_000)
    parser.add_argument("--edits", type=int, default=5)
    parser.add_argument("--no-cards", action="store_true", help="No social cards or QR codes.")
    parser.add_argument("--work", type=Path, default=Path("/dev/shm/linkgen-plan-bench"))
    parser.add_argument("--keep", action="store_true", help="Leave the site in --work.")
    args = parser.parse_args()
    shutil.rmtree(args.work, ignore_errors=True)
    site_dir = args.work / "site"
    synth.generate(site_dir, args.profiles)
    settings = site_dir / "linkgen.toml"
    text = settings.read_text().split("[publish]")[0]
    if args.no_cards:
        text = text.replace("[build]\n", "[build]\nsocial_cards = false\nqr_codes = false\n", 1)
    settings.write_text(text + f'[publish]\ntarget = "file://{args.work / "published"}"\n')
    site = sites.Site.open(site_dir)
    started = time.perf_counter()
    build(site)
    first = publish(site)
    assert first.ok, first.failures
    site.outbox.done(site.outbox.marks())  # as `linkgen publish` leaves it
    objects = len(first.uploaded)
    print(f"built and published {objects:,} objects in {time.perf_counter() - started:.0f} s",
          file=sys.stderr)  # fmt: skip
    target = open_target(site.config.publish, site.root)
    linkgen = str(Path(sys.executable).with_name("linkgen"))
    timings: dict[str, list[float]] = {"journal": [], "walk": [], "command": []}
    for n in range(args.edits):
        site.content.update_profile(f"user{n * 97:06d}", ProfileFields(bio=f"edit {n}"))
        build(site)
        began = time.perf_counter()
        journalled = make_plan(site, target.name, target.prefix)
        timings["journal"].append(time.perf_counter() - began)
        began = time.perf_counter()
        walked = make_plan(site, target.name, target.prefix, walk=True)
        timings["walk"].append(time.perf_counter() - began)
        assert not journalled.walked and walked.walked
        same = [
            [u.key for u in p.uploads] + [d.key for d in p.deletes] for p in (journalled, walked)
        ]
        assert same[0] == same[1] and same[0], same
        began = time.perf_counter()
        subprocess.run([linkgen, "--site", str(site_dir), "publish", "--no-build"],
                       check=True, capture_output=True)  # fmt: skip
        timings["command"].append(time.perf_counter() - began)
    print(f"\n{args.profiles:,} profiles, {objects:,} objects, {args.edits} one-profile edits\n")
    print("| one edit | median | min | max |")
    print("|---|---:|---:|---:|")
    for name, label in (("journal", "plan from the journal (in-process)"),
                        ("walk", "plan from a walk of build/ (in-process)"),
                        ("command", "`linkgen publish --no-build` (whole command)")):  # fmt: skip
        values = timings[name]
        print(f"| {label} | {statistics.median(values) * 1000:.1f} ms | "
              f"{min(values) * 1000:.1f} ms | {max(values) * 1000:.1f} ms |")  # fmt: skip
    if not args.keep:
        shutil.rmtree(args.work, ignore_errors=True)


if __name__ == "__main__":
    main()
