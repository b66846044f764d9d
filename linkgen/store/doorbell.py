"""The outbox's doorbell: an edit wakes the worker the moment it is committed.

The worker listens on a Unix datagram socket while it runs (in the abstract
namespace, named after the site's ``site_data``: no file to leave behind, no
path-length limit, gone with the process); every transaction that queues an
edit rings it after its COMMIT — one datagram, never waiting: no worker or a
full queue are ignored, and the edit is in the outbox either way. The worker
still looks at the outbox now and then, so a lost ring delays an edit, never
loses it. A ring carries nothing but "look now".
"""

from __future__ import annotations

import contextlib
import hashlib
import select
import socket
from pathlib import Path


def address(data_dir: Path) -> str:
    digest = hashlib.sha256(str(data_dir.resolve()).encode()).hexdigest()[:32]
    return f"\0linkgen-worker-{digest}"


def ring(data_dir: Path) -> None:
    """Wake the worker of the site whose ``site_data`` is ``data_dir``, if one listens."""
    with contextlib.suppress(OSError), socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as bell:
        bell.setblocking(False)
        bell.sendto(b"!", address(data_dir))


class Doorbell:
    """The worker's end (one worker per site: it holds the site's lock)."""

    def __init__(self, data_dir: Path) -> None:
        self.sock: socket.socket | None = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        try:
            self.sock.bind(address(data_dir))
        except OSError:  # not on this system: the worker looks at the outbox instead
            self.sock.close()
            self.sock = None
        else:
            self.sock.setblocking(False)

    @property
    def listening(self) -> bool:
        return self.sock is not None

    def wait(self, timeout: float) -> bool:
        """Until a ring or ``timeout`` seconds; whether it rang (every ring waiting is
        taken: a burst of edits is one wake-up)."""
        if self.sock is None:
            select.select([], [], [], max(0.0, timeout))
            return False
        ready, _, _ = select.select([self.sock], [], [], max(0.0, timeout))
        if not ready:
            return False
        with contextlib.suppress(BlockingIOError):
            while True:
                self.sock.recv(16)
        return True

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
