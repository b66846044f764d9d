"""Clicks counted from the edge's access log: links answered by Varnish (no
redirector running), logged by ``varnishncsa`` in the format linkgen prints, and
read by ``linkgen clicks ingest`` — once each, across a rotation and a rerun."""

from __future__ import annotations

import shlex
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from linkgen import site as sites
from linkgen.clicks.db import ClickStore, clicks_path
from tests.support.cli import Cli
from tests.support.edge import answer
from tests.support.servers import wait_for

IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148 Safari/604.1"
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"


@pytest.fixture(autouse=True)
def _no_social_cards(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LINKGEN_BUILD__SOCIAL_CARDS", "false")


def lines(path: Path) -> int:
    return len(path.read_bytes().splitlines()) if path.exists() else 0


def visit(url: str, agent: str = IPHONE, referer: str = "https://instagram.com/") -> int:
    return answer(url, **{"User-Agent": agent, "Referer": referer, "X-Country": "DE"})[0]


@pytest.mark.timeout(120)
def test_a_click_at_the_edge_is_counted_once_from_its_log(
    site: sites.Site, run: Cli, bucket: Any, s3_endpoint: str, edge: str, tmp_path: Path
) -> None:
    (site.root / "linkgen.toml").write_text(
        f'[site]\nurl = "https://links.example.com"\n'
        f'[redirector]\nmode = "edge"\ncountry_header = "X-Country"\n'
        f'[publish]\ntarget = "s3://{bucket[1]}/links"\nendpoint_url = "{s3_endpoint}"\n'
        f'region = "us-east-1"\nacl = "public-read"\n'
        f'[cdn]\nprovider = "varnish"\nvarnish_urls = ["{edge}"]\n'
    )
    site.close()
    run("profile", "add", "alice")
    run("link", "add", "alice", "Shop", "https://shop.example.com/")
    shown = run.json("profile", "show", "alice")
    profile_id, link_id = shown["id"], shown["links"][0]["id"]
    run("publish")

    log = tmp_path / "edge.log"
    command = run("edge", "varnishncsa", "--log", str(log)).stdout.strip()
    argv = shlex.split(command)
    assert argv[:4] == ["varnishncsa", "-a", "-j", "-w"]
    ncsa = subprocess.Popen([argv[0], "-n", str(tmp_path / "varnish"), *argv[1:]])
    try:
        time.sleep(1.0)  # attached to the shared log before the first request
        for _ in range(3):
            assert visit(f"{edge}/r/{link_id}") == 302
        assert visit(f"{edge}/v/{profile_id}") == 200
        assert visit(f"{edge}/v/{profile_id}?x=b") == 200  # a title test's page variant
        assert visit(f"{edge}/r/{link_id}", agent=GOOGLEBOT) == 302  # counted as a bot
        assert visit(f"{edge}/alice") == 200  # a page view: not a beacon
        wait_for(lambda: lines(log) == 7)
        first = run.json("clicks", "ingest", str(log))
        assert (first["clicks"], first["views"], first["ignored"]) == (4, 2, 1)
        again = run.json("clicks", "ingest", str(log))  # the same file: nothing new
        assert (again["clicks"], again["views"], again["already"]) == (0, 0, 1)

        log.rename(tmp_path / "edge.log.1")  # logrotate, then SIGHUP: a new file
        assert visit(f"{edge}/r/{link_id}") == 302  # still written to the old file
        wait_for(lambda: lines(tmp_path / "edge.log.1") == 8)
        ncsa.terminate()  # and started again on the old name: a new file
        ncsa.wait(timeout=10)
        ncsa = subprocess.Popen([argv[0], "-n", str(tmp_path / "varnish"), *argv[1:]])
        time.sleep(1.0)
        assert visit(f"{edge}/r/{link_id}") == 302
        wait_for(lambda: lines(log) == 1)
    finally:
        ncsa.terminate()
        ncsa.wait(timeout=10)
    both = run.json("clicks", "ingest", str(tmp_path / "edge.log.1"), str(log))
    assert (both["clicks"], both["lines"]) == (2, 2)  # the rest of the old file, the new one
    assert run.json("clicks", "ingest", str(log), str(tmp_path / "edge.log.1"))["lines"] == 0

    stats = run.json("stats", "alice", "--days", "1")
    assert stats["range"]["clicks"] == 5 and stats["range"]["views"] == 2  # the bot left out
    views = ClickStore(clicks_path(site.root)).events(("view",))
    assert sorted(view.variant for view in views) == ["", "b"]  # the variant kept from the log
    assert stats["range"]["unique_clickers"] == 1
    with_bots = run.json("stats", "alice", "--days", "1", "--bots")
    assert with_bots["range"]["clicks"] == 6
    stored = (site.root / "site_data" / "clicks.db").read_bytes()
    assert b"127.0.0.1" not in stored and b"iPhone" not in stored  # neither IP nor agent kept
