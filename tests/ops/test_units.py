"""The systemd units docs/operations.md gives pass ``systemd-analyze verify``
(Debian's systemd) without a single warning."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs" / "operations.md"
UNIT = re.compile(r"^`(linkgen[\w-]*\.(?:service|timer))`\n\n```ini\n(.*?)```", re.M | re.S)


def units() -> dict[str, str]:
    return {name: body for name, body in UNIT.findall(DOCS.read_text())}


def verify(folder: Path, names: list[str]) -> subprocess.CompletedProcess[str]:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.fail("systemd-analyze is missing: scripts/test installs Debian's systemd")
    return subprocess.run(
        [analyze, "verify", *names], cwd=folder, capture_output=True, text=True, timeout=60
    )


def test_the_units_in_the_docs_verify(tmp_path: Path) -> None:
    found = units()
    assert set(found) == {"linkgen.service", "linkgen-backup.service", "linkgen-backup.timer"}
    linkgen = Path(sys.executable).with_name("linkgen")
    assert linkgen.is_file()
    for name, body in found.items():  # the paths of this machine, as installed here
        body = body.replace("/opt/linkgen/.venv/bin/linkgen", str(linkgen))
        body = body.replace("/srv/links", str(tmp_path)).replace("/var/backups/linkgen", "/tmp")
        (tmp_path / name).write_text(body)
    result = verify(tmp_path, [f"./{name}" for name in sorted(found)])
    assert result.returncode == 0 and result.stderr == "", result.stderr


def test_verify_finds_a_bad_unit(tmp_path: Path) -> None:
    """The check itself: a misspelt setting is reported."""
    body = units()["linkgen.service"].replace("Restart=on-failure", "Restart=sometimes")
    (tmp_path / "linkgen.service").write_text(
        body.replace("/opt/linkgen/.venv/bin/linkgen", sys.executable)
    )
    assert "restart specifier" in verify(tmp_path, ["./linkgen.service"]).stderr
