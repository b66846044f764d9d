"""``linkgen export --bundle``: a profile with its pictures, into another site with
its images shown; a bundle is checked like any other input before anything lands."""

from __future__ import annotations

import hashlib
import re
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from tests.support.cli import Cli
from tests.support.pictures import image_bytes, picture_file


def picture(path: Path, colour: tuple[int, int, int]) -> str:
    return str(picture_file(path, colour))


@pytest.fixture
def bundle(run: Cli, tmp_path: Path) -> Path:
    run(
        "profile",
        "add",
        "ada",
        "--name",
        "Ada",
        "--avatar",
        picture(tmp_path / "a.png", (200, 30, 30)),
    )
    thumb = picture(tmp_path / "t.png", (30, 200, 30))
    run("link", "add", "ada", "Shop", "https://shop.example.com/", "--thumbnail", thumb)
    run("link", "add", "ada", "Blog", "https://blog.example.com/")
    result = run("export", "ada", "--bundle", str(tmp_path / "ada.zip"))
    assert "2 pictures" in result.stdout
    return tmp_path / "ada.zip"


def test_a_bundle_brings_the_profile_and_its_pictures_into_another_site(
    bundle: Path, tmp_path: Path
) -> None:
    other = Cli(tmp_path / "other")
    other("init")
    imported = other("import", str(bundle))
    assert "imported @ada (2 links, 2 pictures)" in imported.stdout
    other("build")
    page = (tmp_path / "other" / "build" / "ada").read_text()
    shown = re.findall(r'src="[^"]*/_m/([0-9a-f]{24}\.webp)"', page)
    assert len(shown) == 2  # the avatar and the thumbnail
    for name in shown:
        with Image.open(tmp_path / "other" / "build" / "_m" / name) as image:
            assert image.format == "WEBP" and image.size[0] > 0


def rewritten(bundle: Path, change: dict[str, bytes | None]) -> Path:
    """The bundle with entries replaced (None: removed) or added."""
    out = bundle.with_name("changed.zip")
    with zipfile.ZipFile(bundle) as old, zipfile.ZipFile(out, "w") as new:
        for info in old.infolist():
            if info.filename in change:
                continue
            new.writestr(info, old.read(info))
        for name, data in change.items():
            if data is not None:
                new.writestr(name, data)
    return out


def test_a_hostile_bundle_is_refused_and_nothing_lands(bundle: Path, tmp_path: Path) -> None:
    with zipfile.ZipFile(bundle) as opened:
        pictures = [n for n in opened.namelist() if n.startswith("media/")]
        real = opened.read(pictures[0])
    other_picture = image_bytes((1, 2, 3), (8, 8), "WEBP")
    not_an_image = b"<svg onload=alert(1)>" * 10
    cases = {
        "is not a file a bundle holds": {"../../evil.sh": b"echo hi"},
        "is not the picture its name says": {pictures[0]: other_picture},
        "is not an image": {
            f"media/{hashlib.sha256(not_an_image).hexdigest()[:24]}.webp": not_an_image
        },
        "is larger than 15 MB": {pictures[0]: real + b"\0" * (16 * 1024 * 1024)},
        "one profile.json": {"profile.json": None},
    }
    for expected, change in cases.items():
        target = Cli(tmp_path / f"site-{len(expected)}")
        target("init")
        refused = target("import", str(rewritten(bundle, change)), code=1)
        assert expected in refused.stderr, (expected, refused.stderr)
        assert target("profile", "list").stdout.strip() == "(no profiles)"
        media = tmp_path / f"site-{len(expected)}" / "site_data" / "media"
        assert not media.exists() or not any(media.iterdir())


def test_a_picture_the_profile_does_not_use_is_refused(bundle: Path, tmp_path: Path) -> None:
    extra = image_bytes((9, 9, 9), (8, 8), "WEBP")
    name = f"media/{hashlib.sha256(extra).hexdigest()[:24]}.webp"
    target = Cli(tmp_path / "third")
    target("init")
    refused = target("import", str(rewritten(bundle, {name: extra})), code=1)
    assert "is not one the profile uses" in refused.stderr
