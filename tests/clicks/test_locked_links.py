"""Locked links through the real redirector: a password or an age asked first, a
signed short-lived form, guessing slowed, and the address never shown before."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from linkgen import site as sites
from linkgen.audience.store import audience_path
from linkgen.clicks import locks
from linkgen.clicks.db import ClickStore, clicks_path
from tests.support.cli import Cli
from tests.support.servers import free_port, start_linkgen

TARGET = "https://secret.example.com/early-access"


class Locked:
    def __init__(self, site: sites.Site) -> None:
        self.proc, port = start_linkgen(site, "redirector")
        self.url = f"http://127.0.0.1:{port}"

    def get(self, link_id: str) -> requests.Response:
        return requests.get(f"{self.url}/r/{link_id}", allow_redirects=False, timeout=5)

    def post(self, link_id: str, fields: dict[str, str], **headers: str) -> requests.Response:
        return requests.post(f"{self.url}/r/{link_id}", data=fields, headers=headers,
                             allow_redirects=False, timeout=10)  # fmt: skip

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=30)


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=1).ok
    except requests.ConnectionError:
        return False


def token_of(page: str) -> str:
    found = re.search(r'name="token" value="([^"]+)"', page)
    assert found is not None, page
    return found.group(1)


@pytest.fixture
def locked_site(site: sites.Site, run: Cli) -> Iterator[tuple[sites.Site, Locked, str, str]]:
    (site.root / "linkgen.toml").write_text(
        '[site]\nurl = "https://links.example.com"\n[redirector]\n'
        f'base_url = "https://go.example.com"\nmetrics_port = {free_port()}\n'
    )
    run("profile", "add", "alice")
    run("link", "add", "alice", "Early access", TARGET)
    run("link", "add", "alice", "Wine club", "https://wine.example.com/")
    run("link", "lock", "alice", "Early", "--password-stdin", stdin="open sesame\n")
    run("link", "lock", "alice", "Wine", "--age", "21")
    listed = run("link", "list", "alice").stdout
    assert "[locked: password]" in listed and "[locked: 21+]" in listed
    opened = sites.Site.open(site.root)
    early, wine = (link.id for link in opened.content.get("alice").links)
    running = Locked(opened)
    yield opened, running, early, wine
    if running.proc.poll() is None:
        running.stop()


def test_a_password_is_asked_first_and_the_address_shown_to_no_one_before(
    locked_site: tuple[sites.Site, Locked, str, str],
) -> None:
    site, running, early, _ = locked_site
    form = running.get(early)
    assert form.status_code == 200 and form.headers["Cache-Control"] == "private, no-store"
    assert "form-action 'self'" in form.headers["Content-Security-Policy"]
    assert "secret.example.com" not in form.text and "<script" not in form.text
    assert 'type="password"' in form.text
    token = token_of(form.text)
    wrong = running.post(early, {"token": token, "password": "guess"})
    assert wrong.status_code == 403 and "That is not the password." in wrong.text
    assert "secret.example.com" not in wrong.text
    assert running.post(early, {"token": "1.forged", "password": "open sesame"}).status_code == 400
    right = running.post(early, {"token": token, "password": "open sesame"})
    assert right.status_code == 302 and right.headers["Location"] == TARGET
    assert right.headers["Cache-Control"] == "private, no-store"
    assert running.stop() == 0
    events = ClickStore(clicks_path(site.root)).events()
    assert [event.link_id for event in events] == [early]  # the form counted nothing
    stored = site.content.get("alice").links[0].lock
    assert stored is not None and stored.password_hash is not None
    assert "open sesame" not in stored.password_hash and stored.password_hash.startswith(
        "$argon2id$"
    )


def test_guessing_is_slowed_per_address_and_link(
    locked_site: tuple[sites.Site, Locked, str, str],
) -> None:
    _, running, early, wine = locked_site
    token = token_of(running.get(early).text)
    statuses = [
        running.post(early, {"token": token, "password": f"guess{n}"}).status_code
        for n in range(locks.FAILURES_ALLOWED + 1)
    ]
    assert statuses == [403] * (locks.FAILURES_ALLOWED - 1) + [429, 429]
    # even the right password waits now; another link is not slowed
    assert running.post(early, {"token": token, "password": "open sesame"}).status_code == 429
    wine_token = token_of(running.get(wine).text)
    assert running.post(wine, {"token": wine_token, "confirm": "1"}).status_code == 302


def test_an_age_is_confirmed_with_a_form_that_expires(
    locked_site: tuple[sites.Site, Locked, str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, running, _, wine = locked_site
    page = running.get(wine).text
    assert "This link is for people aged 21 or over" in page and "wine.example" not in page
    token = token_of(page)
    assert running.post(wine, {"token": token}).status_code == 400  # not confirmed
    opened = running.post(wine, {"token": token, "confirm": "1"})
    assert opened.status_code == 302 and opened.headers["Location"] == "https://wine.example.com/"
    keeper = locks.Keeper(b"k" * 32)
    old = keeper.token(wine, time.time() - locks.TOKEN_SECONDS - 1)
    assert not keeper.token_holds(wine, old, time.time())
    assert not keeper.token_holds("another0link", keeper.token(wine, time.time()), time.time())
    huge = running.post(wine, {"token": token, "confirm": "1", "x": "y" * 10_000})
    assert huge.status_code == 413
    crowded = running.post(
        wine, {"token": token, "confirm": "1", **{f"f{n}": "x" for n in range(9)}}
    )
    assert crowded.status_code == 400 and "That was not this form." in crowded.text


def test_locked_links_never_show_their_address_on_the_page_or_the_edge(
    site: sites.Site, run: Cli
) -> None:
    (site.root / "linkgen.toml").write_text(
        '[site]\nurl = "https://links.example.com"\n[redirector]\nmode = "edge"\n'
        'base_url = "https://go.example.com"\n'
    )
    run("profile", "add", "alice")
    run("link", "add", "alice", "Early access", TARGET)
    run("link", "add", "alice", "GitHub", "https://github.com/alice")
    run("link", "lock", "alice", "GitHub", "--age", "18")
    run("link", "lock", "alice", "Early", "--password-stdin", stdin="open sesame\n")
    run("build")
    opened = sites.Site.open(site.root)
    early, github = (link.id for link in opened.content.get("alice").links)
    page = (opened.build_dir / "alice").read_text()
    assert "secret.example.com" not in page and "github.com/alice" not in page  # not even sameAs
    assert f'href="https://go.example.com/r/{early}"' in page
    for locked_id in (early, github):  # the edge sends them to the redirector, which asks
        edge_object = (opened.build_dir / "r" / locked_id).read_text()
        assert edge_object == f"https://go.example.com/r/{locked_id}"
    # without a redirector to ask, a locked link is not on the page at all
    (site.root / "linkgen.toml").write_text('[site]\nurl = "https://links.example.com"\n')
    locked = run("link", "lock", "alice", "Early", "--age", "18")
    assert "is not shown on the page" in locked.stderr
    run("build")
    page = (sites.Site.open(site.root).build_dir / "alice").read_text()
    assert "Early access" not in page and "secret.example.com" not in page
    assert "GitHub" not in page


@pytest.mark.parametrize(
    ("lock", "error"),
    [
        ({"kind": "password", "password_hash": "plain text"}, "argon2id password hash"),
        (
            {
                "kind": "password",
                "password_hash": "$argon2id$v=19$m=9999999,t=3,p=4$"
                "c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2g",
            },
            "costs are out of bounds",
        ),
        ({"kind": "age", "age": 99}, "less than or equal to 25"),
        ({"kind": "age"}, "an age lock has an age"),
    ],
)
def test_a_hostile_lock_in_an_import_is_refused(run: Cli, lock: dict[str, Any], error: str) -> None:
    run("profile", "add", "alice")
    run("link", "add", "alice", "Early access", TARGET)
    exported = json.loads(run("export", "alice").stdout)
    run("profile", "rm", "alice", "--yes")
    exported["profile"]["links"][0]["lock"] = lock
    refused = run("import", "-", stdin=json.dumps(exported), code=1)
    assert error in refused.stderr


def test_no_address_or_user_agent_is_kept_anywhere_after_smart_and_locked_clicks(
    site: sites.Site, run: Cli
) -> None:
    (site.root / "linkgen.toml").write_text(
        '[site]\nurl = "https://links.example.com"\n[redirector]\n'
        'base_url = "https://go.example.com"\nclient_ip_header = "X-Forwarded-For"\n'
        f"metrics_port = {free_port()}\n"
    )
    run("profile", "add", "alice", "--utm", "source=linkgen")
    run("link", "add", "alice", "Early access", TARGET)
    run("link", "add", "alice", "App", "https://app.example.com/")
    run(
        "link",
        "rule",
        "add",
        "alice",
        "App",
        "--device",
        "android",
        "--url",
        "https://play.example/",
    )
    run("link", "lock", "alice", "Early", "--password-stdin", stdin="open sesame\n")
    opened = sites.Site.open(site.root)
    early, app = (link.id for link in opened.content.get("alice").links)
    address, agent = "203.0.113.77", "Mozilla/5.0 (Linux; Android 14; Pixel 8 Zq7) Mobile"
    who = {"X-Forwarded-For": address, "User-Agent": agent}
    running = Locked(opened)
    try:
        answer = requests.get(
            f"{running.url}/r/{app}", headers=who, allow_redirects=False, timeout=5
        )
        assert answer.headers["Location"].startswith("https://play.example/?utm_source=linkgen")
        token = token_of(running.get(early).text)
        assert running.post(early, {"token": token, "password": "nope"}, **who).status_code == 403
        assert (
            running.post(early, {"token": token, "password": "open sesame"}, **who).status_code
            == 302
        )
    finally:
        assert running.stop() == 0
    events = ClickStore(clicks_path(site.root)).events()
    assert sorted(event.link_id for event in events) == sorted([app, early])
    assert {event.device for event in events} == {"mobile"}  # classified, then dropped
    files = [path for path in site.root.rglob("*") if path.is_file()]
    assert any(path.suffix == ".db" for path in files)
    for path in files:
        data = path.read_bytes()
        assert address.encode() not in data and b"Pixel 8 Zq7" not in data, path


def test_through_asgi_too_a_lock_asks_first_and_a_rule_reads_the_headers(
    site: sites.Site, run: Cli
) -> None:
    (site.root / "linkgen.toml").write_text(
        '[site]\nurl = "https://links.example.com"\n[redirector]\n'
        'base_url = "https://go.example.com"\nmetrics_port = 0\n'
    )
    run("profile", "add", "alice")
    run("link", "add", "alice", "Early access", TARGET)
    run("link", "lock", "alice", "Early", "--password-stdin", stdin="open sesame\n")
    run(
        "link", "rule", "add", "alice", "Early", "--language", "de", "--url", "https://x.example/de"
    )
    form = run("block", "add", "alice", "signup", "Join my list").stdout.split()[-1]
    run("link", "add", "alice", "Sale", "https://sale.example.com/a")
    run("link", "split", "add", "alice", "Sale", "https://sale.example.com/b")
    early, _, sale = (link.id for link in sites.Site.open(site.root).content.get("alice").links)
    port = free_port()
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("granian")), "--interface", "asgi", "--factory",
         "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
         "linkgen.clicks.server:app_from_env"],
        env={**os.environ, "LINKGEN_SITE": str(site.root)},
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while not _answers(f"http://127.0.0.1:{port}/healthz"):
            assert server.poll() is None and time.monotonic() < deadline, "granian did not start"
            time.sleep(0.05)
        running = Locked.__new__(Locked)
        running.url = f"http://127.0.0.1:{port}"
        token = token_of(running.get(early).text)
        assert running.post(early, {"token": token, "password": "x"}).status_code == 403
        german = running.post(
            early, {"token": token, "password": "open sesame"}, **{"Accept-Language": "de-AT"}
        )
        assert german.status_code == 302 and german.headers["Location"] == "https://x.example/de"
        other = running.post(early, {"token": token, "password": "open sesame"})
        assert other.headers["Location"] == TARGET
        big = running.post(early, {"token": token, "password": "p" * 5000})
        assert big.status_code == 413
        signed = requests.post(f"{running.url}/s/{form}", data={"email": "fan@example.com"},
                               allow_redirects=False, timeout=10)  # fmt: skip
        assert signed.status_code == 303
        assert signed.headers["Location"] == "https://links.example.com/alice#signed-up"
        # an A/B test: each visitor (here: a user agent) keeps a variant; both are drawn
        drawn = {agent: _location(running.url, sale, agent) for agent in range(40)}
        assert drawn == {agent: _location(running.url, sale, agent) for agent in range(40)}
        assert set(drawn.values()) == {"https://sale.example.com/a", "https://sale.example.com/b"}
    finally:
        server.terminate()
        server.wait(timeout=30)
    with sqlite3.connect(audience_path(site.root)) as kept:  # written by the ASGI shutdown
        assert kept.execute("SELECT email FROM subscribers").fetchall() == [("fan@example.com",)]


def _location(base: str, link_id: str, agent: int) -> str:
    answer = requests.get(f"{base}/r/{link_id}", headers={"User-Agent": f"Browser/{agent}"},
                          allow_redirects=False, timeout=5)  # fmt: skip
    assert answer.status_code == 302
    return str(answer.headers["Location"])
