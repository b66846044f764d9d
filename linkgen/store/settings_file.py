"""``linkgen.toml`` and the settings last checked from it, read without the models.

``config.load`` checks the file (with the environment's overrides) and keeps
what it checked in ``site_data/.settings.json`` under a key of the file's
bytes, the overrides and the code that checks them (``read``). ``kept`` reads that back
while the key still holds: a command that only reads the database opens the
site without loading pydantic, and a file that changed is checked again (and
refused when wrong) before any command runs on it.
"""

from __future__ import annotations

import contextlib
import json
import os
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

CONFIG_FILE = "linkgen.toml"
ENV_PREFIX = "LINKGEN_"
SETTINGS_CACHE = ".settings.json"
# The code that checks the settings: a change to it checks them again.
_CHECKERS = ("config.py", "rules.py")
Overrides = dict[str, dict[str, str]]


def env_overrides(environ: dict[str, str] | None = None) -> Overrides:
    """``LINKGEN_<SECTION>__<KEY>`` variables, by section and key."""
    found: Overrides = {}
    for name, value in (os.environ if environ is None else environ).items():
        if not name.startswith(ENV_PREFIX) or "__" not in name:
            continue
        section, _, key = name[len(ENV_PREFIX) :].lower().partition("__")
        found.setdefault(section, {})[key] = value
    return found


def read(site_dir: Path, environ: dict[str, str] | None = None) -> tuple[bytes, Overrides, str]:
    """The file's bytes (b"" when there is none), the overrides, and their key: the
    file's length and CRC-32, the overrides, and the size and time of the code
    that checks them (as Python keeps its own bytecode). No hash from OpenSSL: a
    reading command would load it for this alone."""
    try:
        raw = (site_dir / CONFIG_FILE).read_bytes()
    except FileNotFoundError:
        raw = b""
    overrides = env_overrides(environ)
    key = json.dumps([len(raw), zlib.crc32(raw), overrides, code_stamp(_CHECKERS)], sort_keys=True)
    return raw, overrides, key


def code_stamp(modules: Sequence[str]) -> list[tuple[int, int]]:
    """The size and time of linkgen's modules (paths under the package), as Python
    tells its own bytecode is stale: part of the key of what they checked."""
    package = Path(__file__).resolve().parents[1]
    return [(found.st_size, found.st_mtime_ns) for found in ((package / m).stat() for m in modules)]


def read_kept(path: Path, key: str) -> Any:
    """What was kept in ``path`` under ``key``; None if absent, stale or unreadable
    (then it is checked again)."""
    try:
        found = json.loads(path.read_bytes())
        return found["value"] if found.get("key") == key else None
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def write_kept(path: Path, key: str, value: Any) -> None:
    """Keep ``value`` in ``path`` under ``key`` (its folder made if its parent exists)."""
    from linkgen.fsutil import write_file

    with contextlib.suppress(OSError):  # a read-only site is checked every time instead
        path.parent.mkdir(exist_ok=True)
        write_file(path, json.dumps({"key": key, "value": value}).encode())


def kept(site_dir: Path, key: str) -> dict[str, dict[str, Any]] | None:
    """The settings checked under ``key``, as JSON by section; None if absent, stale
    or unreadable (then they are checked again)."""
    settings = read_kept(site_dir / "site_data" / SETTINGS_CACHE, key)
    if not isinstance(settings, dict) or not all(isinstance(v, dict) for v in settings.values()):
        return None
    return settings


def keep(site_dir: Path, key: str, settings: dict[str, Any]) -> None:
    """Keep checked settings under ``key`` (not before ``init`` made site_data/)."""
    if (site_dir / "site_data").is_dir():
        write_kept(site_dir / "site_data" / SETTINGS_CACHE, key, settings)


class Section:
    """Checked settings read back: one section's values (or, at the top, the
    sections) as read-only attributes, named as in ``config.Config``. What a
    command reads is what ``config.from_kept`` would have given it, without the
    models (JSON values: lists, not tuples)."""

    __slots__ = ("_values",)

    def __init__(self, values: dict[str, Any]) -> None:
        object.__setattr__(self, "_values", values)

    def __getattr__(self, name: str) -> Any:
        if name == "_values":  # not set yet (a copy being made)
            raise AttributeError(name)
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(f"no setting '{name}'") from None

    def __reduce__(self) -> tuple[type[Section], tuple[dict[str, Any]]]:
        return Section, (self._values,)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("checked settings are read-only")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Section) and self._values == other._values

    def __hash__(self) -> int:
        return hash(json.dumps(self._values, sort_keys=True))

    def __repr__(self) -> str:
        return f"Section({self._values!r})"


def settings(kept: dict[str, dict[str, Any]]) -> Section:
    """The settings checked before (``kept``), by section: ``.site.url``, ``.build.jobs``."""
    return Section({name: Section(values) for name, values in kept.items()})


def as_json(section: Any) -> dict[str, Any]:
    """One section's values as JSON, from checked settings of either kind."""
    if isinstance(section, Section):
        return dict(section._values)
    found: dict[str, Any] = section.model_dump(mode="json")
    return found
