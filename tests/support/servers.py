"""Starting linkgen's servers as real processes, and waiting for them."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import requests

from linkgen import config
from linkgen import site as sites


def free_port(*taken: int) -> int:
    """A port nothing listens on, other than ``taken`` (closed probes may hand one out twice)."""
    while True:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        if port not in taken:
            return port


METRICS_PORT_ENV = "LINKGEN_REDIRECTOR__METRICS_PORT"


def own_metrics_port(root: Path) -> dict[str, str]:
    """The environment that gives a redirector on this site a metrics port of its own
    when its settings keep the default (9464): that is one port for every test
    worker on the machine, and a second redirector on it would refuse to start."""
    default = config.RedirectorSettings.model_fields["metrics_port"].default
    if METRICS_PORT_ENV in os.environ or config.load(root).redirector.metrics_port != default:
        return {}
    return {METRICS_PORT_ENV: str(free_port(default))}


def start_linkgen(
    site: sites.Site, *args: str, env: Mapping[str, str] | None = None
) -> tuple[subprocess.Popen[bytes], int]:
    """`linkgen --site SITE ARGS... --port N` as a real process, once /healthz answers
    (``env``: more environment variables for it)."""
    port = free_port(site.config.redirector.metrics_port)
    env = {**own_metrics_port(site.root), **(env or {})}
    proc = subprocess.Popen(
        [sys.executable, "-m", "linkgen", "--site", str(site.root), *args, "--port", str(port)],
        env={**os.environ, **env} if env else None,
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


@contextlib.contextmanager
def previewing(build_dir: Path) -> Iterator[str]:
    """``linkgen serve``'s preview server over ``build_dir`` on a free port: its URL."""
    from linkgen.preview.serve import make_server

    server = make_server(build_dir, port=0, reload=None)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    host, port = server.server_address[:2]
    try:
        yield f"http://{host}:{port}"
    finally:
        server.shutdown()
        server.server_close()
