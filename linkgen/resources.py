"""Where the built-in templates, themes and assets live.

In a wheel they are packed under ``linkgen/_builtin``; in a source checkout
(editable install) they are the top-level ``templates/`` and ``themes/``.
"""

from __future__ import annotations

from pathlib import Path

_HERE = Path(__file__).resolve().parent


def builtin(name: str) -> Path:
    packed = _HERE / "_builtin" / name
    return packed if packed.is_dir() else _HERE.parent / name
