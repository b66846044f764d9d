from __future__ import annotations

import os
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from linkgen import site as sites
from linkgen.build import build
from linkgen.pages.media import prune
from linkgen.pages.qr import profile_qr, qr_name
from linkgen.publish.run import publish
from tests.support.cli import Cli
from tests.support.qr import decode


def test_the_qr_code_opens_the_profile_page(run: Cli, add_profile: Any, tmp_path: Path) -> None:
    add_profile("alice")
    png = tmp_path / "alice.png"
    assert "wrote" in run("qr", "alice", "--format", "png", "--out", str(png)).stdout
    assert decode(png) == "http://127.0.0.1:8000/alice"


def test_the_svg_scales_and_names_its_url(run: Cli, add_profile: Any, tmp_path: Path) -> None:
    add_profile("alice")
    svg = tmp_path / "alice.svg"
    run("qr", "alice", "--out", str(svg))
    root = ET.fromstring(svg.read_text())
    assert root.get("viewBox") and root.get("width") is None  # no fixed size
    assert root.findtext("{http://www.w3.org/2000/svg}title") == "http://127.0.0.1:8000/alice"


def test_an_unknown_profile_is_a_clear_error(run: Cli) -> None:
    assert "no profile 'nobody'" in run("qr", "nobody", code=1).stderr


def built_code(site: sites.Site, username: str) -> Path:
    return site.build_dir / "_m" / qr_name(f"{site.config.site.url}/{username}")


def test_the_build_writes_each_profiles_code_once(
    run: Cli, site: sites.Site, add_profile: Any
) -> None:
    add_profile("alice", display_name="Alice")
    build(site)
    code = built_code(site, "alice")
    assert code.read_bytes() == profile_qr("http://127.0.0.1:8000/alice", "svg")
    made = code.stat().st_mtime_ns
    run("profile", "set", "alice", "--bio", "new bio")
    build(site)  # the page is built again; the address, so the code, is the same
    assert code.stat().st_mtime_ns == made
    published = publish(site)
    assert published.ok and f"_m/{code.name}" in published.uploaded
    assert (site.root / "published" / "_m" / code.name).read_bytes() == code.read_bytes()


def test_a_renamed_profile_gets_a_new_code_and_the_old_one_is_pruned(
    run: Cli, site: sites.Site, add_profile: Any
) -> None:
    add_profile("alice")
    build(site)
    old = built_code(site, "alice")
    run("profile", "rename", "alice", "alicia")
    build(site)
    assert built_code(site, "alicia").is_file()
    for folder in (site.media_dir, site.build_dir / "_m"):
        for path in folder.iterdir():
            os.utime(path, (time.time() - 7200,) * 2)
    removed = prune(site).removed  # with the card that showed the old address
    assert old.name in removed and [n for n in removed if n.endswith(".svg")] == [old.name]
    assert built_code(site, "alicia").is_file()


def test_codes_can_be_turned_off(monkeypatch: Any, add_profile: Any, site: sites.Site) -> None:
    monkeypatch.setenv("LINKGEN_BUILD__QR_CODES", "false")
    quiet = sites.Site.open(site.root)
    add_profile("alice")
    build(quiet)
    assert not list((quiet.build_dir / "_m").glob("*.svg"))
    quiet.close()
