"""Reading QR codes back, as a phone camera would."""

from __future__ import annotations

import subprocess
from pathlib import Path


def decode(png: Path) -> str:
    """Read a QR code back with zbar (Debian's zbar-tools), as a phone camera would."""
    return subprocess.run(
        ["zbarimg", "--quiet", "--raw", str(png)], capture_output=True, text=True, check=True
    ).stdout.strip()
