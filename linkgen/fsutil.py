"""Writing output files: atomically (temp file + rename), or in place when new.

``write_new`` is for a full build's files that did not exist when it began:
nobody has seen them yet, and a full build that dies leaves no marker, so
the next build is full too and compares every file again (a cut-off one
differs, and is replaced atomically)."""

from __future__ import annotations

import os
from pathlib import Path

_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0)


def write_file(path: Path, data: bytes) -> None:
    """Write ``data`` so readers see the old file or the new one, never a mix.

    No fsync: the build output can always be rebuilt, and 100,000 fsyncs would
    cost more than the whole render.
    """
    target = os.fspath(path)
    head, _, name = target.rpartition("/")
    tmp = f"{head}/.{name}.{os.getpid()}.tmp"
    try:
        fd = os.open(tmp, _FLAGS, 0o644)
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(tmp, _FLAGS, 0o644)
    _write_all(fd, data)
    os.replace(tmp, target)


_NEW_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)


def write_new(path: Path | str, data: bytes) -> None:
    """Write a file that does not exist yet in place (half the cost of
    ``write_file``); one that does is replaced atomically. ``path`` may be a
    plain string: a full build writes 100,000 files."""
    target = os.fspath(path)
    try:
        fd = os.open(target, _NEW_FLAGS, 0o644)
    except FileNotFoundError:
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(target, _NEW_FLAGS, 0o644)
    except FileExistsError:
        write_file(Path(target), data)
        return
    _write_all(fd, data)


def _write_all(fd: int, data: bytes) -> None:
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)


def write_if_changed(path: Path, data: bytes) -> bool:
    try:
        if path.read_bytes() == data:
            return False
    except FileNotFoundError:
        pass
    write_file(path, data)
    return True


def remove(path: Path) -> bool:
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    return True
