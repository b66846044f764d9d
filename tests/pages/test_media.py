from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from PIL import Image

from linkgen import site as sites
from linkgen.build import build
from linkgen.pages.media import prune
from linkgen.publish.run import publish
from tests.support.cli import Cli


def picture(tmp_path: Path, colour: str) -> str:
    path = tmp_path / f"{colour}.png"
    Image.new("RGB", (200, 200), colour).save(path)
    return str(path)


def age(folder: Path, seconds: float) -> None:
    for path in folder.iterdir():
        past = time.time() - seconds
        os.utime(path, (past, past))


def test_only_images_nothing_refers_to_are_pruned(
    run: Cli, site: sites.Site, add_profile: Any, tmp_path: Path
) -> None:
    add_profile("alice", display_name="Alice")
    run("profile", "set", "alice", "--avatar", picture(tmp_path, "red"))
    red = (site.content.get("alice").avatar or "")[4:]
    build(site)
    first_card = {p.name for p in (site.build_dir / "_m").glob("*.jpg")}
    run("profile", "set", "alice", "--avatar", picture(tmp_path, "blue"), "--name", "Alice L.")
    build(site)
    assert publish(site).ok
    avatar = site.content.get("alice").avatar or ""
    assert prune(site).removed == []  # everything is new: a build may still be using it
    age(site.media_dir, 7200)
    age(site.build_dir / "_m", 7200)
    dry = run("media", "prune", "--dry-run").stdout
    assert "would remove 2 unused images" in dry  # the red avatar and the old card
    assert "removed 2 unused images" in run("media", "prune").stdout
    left = {p.name for p in site.media_dir.iterdir() if not p.name.startswith(".")}
    assert avatar[4:] in left and not first_card & left
    assert not first_card & {p.name for p in (site.build_dir / "_m").iterdir()}
    assert len(list((site.build_dir / "_m").glob("*.png"))) == 1  # the site's own card stays
    build(site)  # and the page still has everything it shows
    assert all((site.build_dir / "_m" / name).is_file() for name in left)
    deleted = publish(site).deleted  # the next publish takes them out of the bucket too
    assert sorted(deleted) == sorted(f"_m/{name}" for name in {*first_card, red})
