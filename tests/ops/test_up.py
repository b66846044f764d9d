"""``linkgen up``: the whole service in one command, restarted when a part dies,
and gone — every process of it — when it is stopped or killed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from linkgen import site as sites
from linkgen.cli.demo import seed
from tests.support.api import Client, token_for
from tests.support.editor import PASSWORD, Browser
from tests.support.processes import alive, descendants
from tests.support.servers import free_port, own_metrics_port, wait_for


def child_named(parent: int, name: str) -> int | None:
    """The direct child of ``parent`` running ``linkgen … NAME``, if there is one."""
    for pid in descendants(parent):
        try:
            args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            ppid = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1]
        except OSError:
            continue
        if ppid == str(parent) and name.encode() in args:
            return pid
    return None


def answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).ok
    except requests.RequestException:
        return False


@dataclass
class Up:
    proc: subprocess.Popen[bytes]
    ports: dict[str, int]
    site: sites.Site

    def url(self, service: str, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.ports[service]}{path}"


@pytest.fixture
def up(site: sites.Site) -> Iterator[Up]:
    seed(site)
    _, token = site.accounts.add_user("admin@example.com", [], admin=True)
    site.accounts.set_password_with_link(token, PASSWORD)
    ports: dict[str, int] = {}
    for name in ("preview", "editor", "worker", "redirector"):
        ports[name] = free_port(*ports.values())
    site.close()
    proc = subprocess.Popen(
        [sys.executable, "-m", "linkgen", "--site", str(site.root), "up", "--preview",
         "--preview-port", str(ports["preview"]), "--editor-port", str(ports["editor"]),
         "--worker-port", str(ports["worker"]), "--redirector-port", str(ports["redirector"])],
        env={**os.environ, **own_metrics_port(site.root)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    running = Up(proc, ports, site)
    try:
        for name in ("editor", "worker", "redirector"):
            wait_for(lambda n=name: answers(running.url(n, "/healthz")), 60)
        wait_for(lambda: answers(running.url("preview", "/ada")), 60)
        yield running
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)


def fresh(url: str, text: str) -> bool:
    return text in requests.get(url, timeout=2).text


@pytest.mark.timeout(120)
def test_an_edit_in_the_editor_is_live_in_the_published_output_within_2_s(up: Up) -> None:
    browser = Browser(up.url("editor").rstrip("/"))
    assert browser.sign_in("admin@example.com", PASSWORD).status_code == 303
    page = browser.get("/p/ada").text
    version = page.split('name="version" value="', 1)[1].split('"', 1)[0]
    form = {"display_name": "Ada, live from the editor", "bio": "", "theme": "dunes"}
    saved = browser.post("/p/ada/profile", {**form, "version": version}, browser.token("/p/ada"))
    assert saved.status_code == 303
    started = time.monotonic()
    while not fresh(up.url("preview", "/ada"), "Ada, live from the editor"):
        assert time.monotonic() - started < 2.0, "the edit was not published within 2 s"
        time.sleep(0.05)

    # The worker counts a cycle once its publish is done, a moment after the page
    # is out: the edit shows in its metrics soon after, not necessarily at once.
    def counted() -> bool:
        metrics = requests.get(up.url("worker", "/metrics"), timeout=5).text
        return "linkgen_edit_to_live_seconds_count" in metrics and (
            "linkgen_outbox_depth 0.0" in metrics
        )

    wait_for(counted, 10)
    # the same through the HTTP API that `up`'s editor serves
    api = Client(up.url("editor").rstrip("/") + "/api/v1", token_for(up.site, "ada"))
    changed = api.patch("/profiles/ada", {"display_name": "Ada, live from the API"},
                        if_match=api.etag("ada"))  # fmt: skip
    assert changed.status_code == 200, changed.text
    started = time.monotonic()
    while not fresh(up.url("preview", "/ada"), "Ada, live from the API"):
        assert time.monotonic() - started < 2.0, "the API edit was not published within 2 s"
        time.sleep(0.05)


@pytest.mark.timeout(120)
def test_a_killed_service_is_started_again(up: Up) -> None:
    worker = child_named(up.proc.pid, "worker")
    assert worker is not None
    os.kill(worker, signal.SIGKILL)
    wait_for(lambda: not alive(worker))
    wait_for(lambda: child_named(up.proc.pid, "worker") not in (None, worker), 30)
    wait_for(lambda: answers(up.url("worker", "/healthz")), 30)
    assert up.proc.poll() is None


@pytest.mark.timeout(120)
def test_no_process_is_left_after_the_parent_is_killed(up: Up) -> None:
    family = descendants(up.proc.pid)
    assert len(family) >= 6  # four services, and the servers' own workers
    os.kill(up.proc.pid, signal.SIGKILL)
    up.proc.wait(timeout=10)
    wait_for(lambda: not [pid for pid in family if alive(pid)], 30)
    for name in ("editor", "worker", "redirector", "preview"):
        with pytest.raises(requests.ConnectionError):
            requests.get(up.url(name, "/"), timeout=2)


@pytest.mark.timeout(120)
def test_sigterm_stops_every_service(up: Up) -> None:
    family = descendants(up.proc.pid)
    up.proc.send_signal(signal.SIGTERM)
    assert up.proc.wait(timeout=30) == 0
    wait_for(lambda: not [pid for pid in family if alive(pid)], 30)
    assert b"stopped" in (up.proc.stdout.read() if up.proc.stdout else b"")
