"""QR codes of profile pages (segno): SVG for the page and the editor, PNG for print."""

from __future__ import annotations

import io
from typing import Literal

QrFormat = Literal["svg", "png"]


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
