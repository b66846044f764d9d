"""``linkgen up``: the site's services started, watched and stopped together.

Each service is a ``linkgen`` command of its own (the editor, the worker, the
redirector, and with ``--preview`` a local edge serving what was published),
started so that the kernel ends it if the supervisor dies, even of ``kill -9``
(``lifeline.die_with_parent``). Their output is shown line by line under their
name. A service that exits is started again after a delay that doubles with
each quick failure (1 s, 2 s, 4 s … at most 30 s) and resets once it has run a
minute. SIGTERM or SIGINT stops them all: SIGTERM first, then, after 10 s,
for good.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from linkgen.ops.lifeline import GRACE, die_with_parent, prepare

log = logging.getLogger(__name__)

MAX_BACKOFF = 30.0
STEADY = 60.0  # seconds up after which a service's failures are forgotten


@dataclass
class Service:
    name: str
    args: list[str]  # the linkgen command and its options
    health: str | None = None  # a URL answering 200 while the service is well


@dataclass
class _Running:
    service: Service
    process: subprocess.Popen[bytes] | None = None
    started: float = 0.0
    failures: int = 0
    restart_at: float | None = None
    restarts: int = 0
    reader: threading.Thread | None = field(default=None, repr=False)


class Supervisor:
    def __init__(
        self,
        site_root: Path,
        services: Sequence[Service],
        *,
        say: Callable[[str], None] = print,
    ) -> None:
        self.site_root = site_root
        self.running = {service.name: _Running(service) for service in services}
        self.say = say
        prepare()

    def pids(self) -> dict[str, int]:
        return {
            name: run.process.pid
            for name, run in self.running.items()
            if run.process is not None and run.process.poll() is None
        }

    def restarts(self) -> dict[str, int]:
        return {name: run.restarts for name, run in self.running.items()}

    def run(self, stop: threading.Event, ready: Callable[[], None] | None = None) -> None:
        """Start every service, keep them up until ``stop`` is set, then stop them."""
        try:
            for run in self.running.values():
                self._start(run)
            if ready:
                ready()
            while not stop.wait(0.2):
                self._tend()
        finally:
            self._stop_all()

    def _start(self, run: _Running) -> None:
        command = [
            sys.executable,
            "-m",
            "linkgen",
            "--site",
            str(self.site_root),
            *run.service.args,
        ]
        run.process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent,
        )
        run.started = time.monotonic()
        run.restart_at = None
        run.reader = threading.Thread(target=self._relay, args=(run,), daemon=True)
        run.reader.start()

    def _relay(self, run: _Running) -> None:
        assert run.process is not None and run.process.stdout is not None
        for raw in run.process.stdout:
            self.say(f"[{run.service.name}] {raw.decode('utf-8', 'replace').rstrip()}")

    def _tend(self) -> None:
        now = time.monotonic()
        for run in self.running.values():
            if run.restart_at is not None:
                if now >= run.restart_at:
                    run.restarts += 1
                    self._start(run)
                continue
            assert run.process is not None
            code = run.process.poll()
            if code is None:
                continue
            if now - run.started >= STEADY:
                run.failures = 0
            run.failures += 1
            delay = min(MAX_BACKOFF, 2.0 ** (run.failures - 1))
            self.say(f"{run.service.name} exited (code {code}); starting it again in {delay:.0f}s")
            run.restart_at = now + delay

    def _stop_all(self) -> None:
        live = [run.process for run in self.running.values() if run.process is not None]
        for process in live:
            if process.poll() is None:
                process.terminate()
        deadline = time.monotonic() + GRACE
        for process in live:
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for run in self.running.values():
            if run.reader is not None:
                run.reader.join(timeout=2)
