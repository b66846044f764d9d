"""No process of linkgen's outlives the one that started it.

Two ways, for two kinds of child:

- ``die_with_parent`` (for ``subprocess.Popen(preexec_fn=…)``): the kernel sends
  SIGTERM to the child the moment its parent dies, even of ``kill -9``
  (Linux's parent-death signal). ``linkgen up`` starts its services so.
- ``follow_parent``: a thread that notices the parent is gone (the process
  was handed to init) and stops this process with SIGTERM, then for good if
  that did not end it. The server workers granian forks call it, so killing
  ``linkgen redirector``'s own PID leaves no worker serving on.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)

PR_SET_PDEATHSIG = 1
GRACE = 10.0  # seconds a process has to stop after SIGTERM before it is ended


_prctl: Callable[..., int] | None = None


def prepare() -> None:
    """Load libc's prctl in the parent, so the child only calls it (between fork
    and exec nothing may take a lock or start a process)."""
    global _prctl
    if _prctl is None and sys.platform.startswith("linux"):
        _prctl = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True).prctl


def die_with_parent() -> None:
    """In a child, before it runs anything: SIGTERM when the parent dies
    (``prepare`` must have run in the parent)."""
    if _prctl is None:
        return
    parent = os.getppid()
    _prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before the signal was set
        os._exit(1)


def follow_parent(interval: float = 0.5) -> None:
    """Stop this process once its parent is gone (checked every ``interval`` s)."""
    parent = os.getppid()

    def watch() -> None:
        stopped = threading.Event()
        while not stopped.wait(interval):
            if os.getppid() != parent:
                log.warning("parent process %d is gone: stopping", parent)
                os.kill(os.getpid(), signal.SIGTERM)
                stopped.wait(GRACE)
                os._exit(1)

    threading.Thread(target=watch, name="linkgen-lifeline", daemon=True).start()
