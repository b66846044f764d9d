from __future__ import annotations

import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from .conftest import Cli


def decode(png: Path) -> str:
    """Read a QR code back with zbar (Debian's zbar-tools), as a phone camera would."""
    return subprocess.run(
        ["zbarimg", "--quiet", "--raw", str(png)], capture_output=True, text=True, check=True
    ).stdout.strip()


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
