"""QR codes of profile pages (segno): SVG for the build and the editor, PNG for print.

A profile's SVG is written into the build as ``/_m/<digest>.svg``, named by a
digest of the address it holds, so it is made once per address (segno takes a
few milliseconds a code, most of it choosing the best mask) and never needs a
purge: a renamed profile gets a new file, the old one is pruned.
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path
from typing import Literal

from linkgen.fsutil import write_file

QrFormat = Literal["svg", "png"]
VERSION = "1"  # bump when the drawing changes: every code is made again


def profile_qr(url: str, fmt: QrFormat = "svg", *, scale: int = 10) -> bytes:
    """A QR code of ``url``; the smallest symbol that holds it, error level M or better."""
    import segno

    code = segno.make(url, error="m", boost_error=True, micro=False)
    out = io.BytesIO()
    if fmt == "svg":
        # A viewBox and no fixed size: it scales to wherever it is shown.
        code.save(out, kind="svg", scale=1, border=4, xmldecl=False, omitsize=True, title=url)
    else:
        code.save(out, kind="png", scale=scale, border=4)
    return out.getvalue()


def qr_name(url: str) -> str:
    """The file name of the SVG code of ``url`` under /_m/."""
    digest = hashlib.blake2b(f"qr{VERSION}\0{url}".encode(), digest_size=12)
    return f"{digest.hexdigest()}.svg"


def ensure_qr(media_dir: Path, url: str) -> str:
    """The SVG code's file name in ``media_dir``, making it first if it is not there."""
    name = qr_name(url)
    target = media_dir / name
    if not target.exists():
        write_file(target, profile_qr(url, "svg"))
    return name
