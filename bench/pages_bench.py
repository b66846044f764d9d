"""The public page: weight and Lighthouse scores of three sample profiles.

Builds the sample profiles of tests/support/sample_pages.py (10 links + 5 social
icons; 50 links; long right-to-left and CJK text), serves them locally with
`linkgen serve` (pages answered as the bucket answers them), then for each:

- the HTML response, raw and gzip-compressed (one TCP initial window is
  14,600 bytes), and every byte the page loads (Lighthouse's total byte
  weight: nothing but the HTML itself when there are no images);
- Lighthouse (npm `lighthouse`, mobile preset, driving Debian's chromium):
  Performance, Accessibility, Best Practices and SEO.

    python bench/pages_bench.py --lighthouse .bench-node/node_modules/.bin/lighthouse
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from linkgen import site as sites
from linkgen.build import build
from tests.support.sample_pages import add_samples

CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
CHROME_FLAGS = "--headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def lighthouse(binary: str, url: str, out: Path) -> dict[str, float]:
    env = {**os.environ, "CHROME_PATH": shutil.which("chromium") or "chromium"}
    subprocess.run(
        [
            binary, url, "--quiet", f"--chrome-flags={CHROME_FLAGS}",
            f"--only-categories={','.join(CATEGORIES)}", "--output=json",
            f"--output-path={out}",
        ],
        check=True,
        env=env,
        timeout=300,
    )  # fmt: skip
    report = json.loads(out.read_text())
    assert report["configSettings"]["formFactor"] == "mobile"
    scores = {name: 100 * report["categories"][name]["score"] for name in CATEGORIES}
    scores["bytes"] = report["audits"]["total-byte-weight"]["numericValue"]
    scores["requests"] = len(report["audits"]["network-requests"]["details"]["items"])
    return scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lighthouse", default="lighthouse", help="the lighthouse command")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="linkgen-pages-bench-"))
    port = free_port()
    site = sites.init(work / "site")
    config = site.root / "linkgen.toml"  # canonical URLs on the origin Lighthouse visits
    config.write_text(
        config.read_text().replace(
            'url = "http://127.0.0.1:8000"', f'url = "http://127.0.0.1:{port}"'
        )
    )
    site.close()
    site = sites.Site.open(work / "site")
    names = add_samples(site)
    build(site)
    linkgen = str(Path(sys.executable).with_name("linkgen"))
    server = subprocess.Popen(
        [linkgen, "--site", str(site.root), "serve", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    rows = []
    try:
        time.sleep(1.5)
        for name in names:
            html = (site.build_dir / name).read_bytes()
            links = len(site.content.get(name).links)
            scores = lighthouse(
                args.lighthouse, f"http://127.0.0.1:{port}/{name}", work / f"{name}.json"
            )
            rows.append((name, links, len(html), len(gzip.compress(html, 6)), scores))
            print(f"{name}: {scores}", flush=True)
    finally:
        server.terminate()
        server.wait()
        site.close()
        shutil.rmtree(work, ignore_errors=True)
    print(
        "\n| page | links | HTML | HTML gzip | all bytes loaded | requests | "
        "Performance | Accessibility | Best Practices | SEO |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, links, raw, packed, s in rows:
        print(
            f"| {name} | {links} | {raw / 1024:.1f} KB | {packed / 1024:.1f} KB | "
            f"{s['bytes'] / 1024:.1f} KB | {s['requests']:.0f} | {s['performance']:.0f} | "
            f"{s['accessibility']:.0f} | {s['best-practices']:.0f} | {s['seo']:.0f} |"
        )


if __name__ == "__main__":
    main()
