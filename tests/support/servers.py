"""Starting linkgen's servers as real processes, and waiting for them."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.error
from typing import Any

import requests

from linkgen import site as sites


def free_port(*taken: int) -> int:
    """A port nothing listens on, other than ``taken`` (closed probes may hand one out twice)."""
    while True:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        if port not in taken:
            return port


def start_linkgen(site: sites.Site, *args: str) -> tuple[subprocess.Popen[bytes], int]:
    """`linkgen --site SITE ARGS... --port N` as a real process, once /healthz answers."""
    port = free_port(site.config.redirector.metrics_port)
    proc = subprocess.Popen(
        [sys.executable, "-m", "linkgen", "--site", str(site.root), *args, "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc, port
        except requests.ConnectionError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError(f"linkgen {' '.join(args)} did not start: {proc.communicate()}")


def wait_for(condition: Any, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if condition():
                return
        except (FileNotFoundError, urllib.error.URLError):
            pass
        time.sleep(0.05)
    raise AssertionError("condition not met in time")
