"""Where the built-in templates, themes and assets live.

In a wheel they are packed under ``linkgen/_builtin``; in a source checkout
(editable install) they are the top-level ``templates/`` and ``themes/``.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parents[1]  # linkgen/


def builtin(name: str) -> Path:
    packed = _PACKAGE / "_builtin" / name
    return packed if packed.is_dir() else _PACKAGE.parent / name
