"""A sign-up block through the real redirector and a real SMTP server on loopback:
the form on the page, the 303 back to its thank-you, double opt-in by e-mail,
one-click unsubscribe, the creator's export — and what it refuses."""

from __future__ import annotations

import csv
import io
import json
import re
import signal
import sqlite3
import threading
import time
from collections.abc import Iterator
from email.message import Message

import pytest
import requests

from linkgen import site as sites
from linkgen.audience.store import audience_path
from tests.support.cli import Cli
from tests.support.mail import Inbox, smtp_server, text_of
from tests.support.servers import start_linkgen, wait_for

GO = "https://go.example.com"
PAGE = "https://links.example.com/alice"
AGENT = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) SignupTest/1.0"


class Redirector:
    def __init__(self, site: sites.Site) -> None:
        self.proc, port = start_linkgen(site, "redirector")
        self.url = f"http://127.0.0.1:{port}"

    def sign_up(
        self, form: str, fields: dict[str, str], client: str = "192.0.2.1"
    ) -> requests.Response:
        headers = {"x-real-ip": client, "user-agent": AGENT}
        return requests.post(f"{self.url}/s/{form}", data=fields, headers=headers,
                             allow_redirects=False, timeout=10)  # fmt: skip

    def local(self, link: str) -> str:
        """A link from a message, asked of this process instead of the public host."""
        assert link.startswith(f"{GO}/s/"), link
        return self.url + link.removeprefix(GO)

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=30)


def configure(site: sites.Site, email: str = "") -> None:
    (site.root / "linkgen.toml").write_text(
        f'[site]\nurl = "https://links.example.com"\n{email}[redirector]\n'
        f'base_url = "{GO}"\nclient_ip_header = "X-Real-IP"\n'
    )


def links_in(message: Message) -> tuple[str, str]:
    text = text_of(message)
    confirm = re.search(r"(\S+/s/confirm/\S+)", text)
    unsubscribe = re.search(r"(\S+/s/unsubscribe/\S+)", text)
    assert confirm and unsubscribe, text
    return confirm.group(1), unsubscribe.group(1)


def listed(run: Cli, *extra: str) -> list[dict[str, str]]:
    return list(
        csv.DictReader(io.StringIO(run("audience", "export", "alice", "--csv", *extra).stdout))
    )


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    with smtp_server() as box:
        yield box


@pytest.fixture
def signup_site(site: sites.Site, run: Cli, inbox: Inbox) -> Iterator[tuple[Redirector, str]]:
    configure(site, inbox.settings())
    run("profile", "add", "alice")
    run("link", "add", "alice", "Shop", "https://shop.example.com/")
    form = run("block", "add", "alice", "signup", "Get my monthly letter").stdout.split()[-1]
    running = Redirector(sites.Site.open(site.root))
    yield running, form
    if running.proc.poll() is None:
        running.stop()


def test_a_visitor_signs_up_confirms_by_e_mail_and_unsubscribes_with_one_click(
    site: sites.Site, run: Cli, inbox: Inbox, signup_site: tuple[Redirector, str]
) -> None:
    redirector, form = signup_site
    run("build")
    page = (sites.Site.open(site.root).build_dir / "alice").read_text()
    assert f'<form class="signup" method="post" action="{GO}/s/{form}">' in page
    assert 'type="email" name="email" required' in page and 'name="website" tabindex="-1"' in page
    assert 'id="signed-up"' in page and "Get my monthly letter" in page

    answer = redirector.sign_up(form, {"email": " Fan@Example.com ", "website": ""})
    assert answer.status_code == 303 and answer.headers["location"] == f"{PAGE}#signed-up"
    assert answer.headers["cache-control"] == "private, no-store"
    wait_for(lambda: inbox.to("fan@example.com"))
    (message,) = inbox.to("fan@example.com")
    assert message["Subject"] == "Confirm your address for @alice"
    confirm, unsubscribe = links_in(message)
    assert message["List-Unsubscribe"].strip() == f"<{unsubscribe}>"  # folded or not
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert [row["status"] for row in listed(run)] == ["pending"]

    shown = requests.get(redirector.local(confirm), timeout=5)  # a mail scanner's visit
    assert shown.status_code == 200 and '<form method="post">' in shown.text
    assert "form-action 'self'" in shown.headers["content-security-policy"]
    assert [row["status"] for row in listed(run)] == ["pending"]  # a GET confirms nothing
    done = requests.post(redirector.local(confirm), timeout=5)
    assert done.status_code == 200 and "your address is confirmed" in done.text
    (row,) = listed(run, "--confirmed")
    assert row["email"] == "fan@example.com" and row["confirmed_at"].endswith("Z")

    again = redirector.sign_up(form, {"email": "fan@example.com"}, client="192.0.2.2")
    assert again.status_code == 303  # the same thanks: nothing says who is on the list
    time.sleep(0.5)
    assert len(inbox.to("fan@example.com")) == 1  # confirmed already: no second message

    one_click = requests.post(redirector.local(unsubscribe), data="List-Unsubscribe=One-Click",
                              headers={"content-type": "application/x-www-form-urlencoded"},
                              timeout=5)  # fmt: skip
    assert one_click.status_code == 200 and "Your address is deleted" in one_click.text
    assert listed(run) == []
    assert requests.post(redirector.local(confirm), timeout=5).status_code == 404
    assert requests.post(redirector.local(unsubscribe), timeout=5).status_code == 404
    assert redirector.stop() == 0
    stored = audience_path(site.root).read_bytes()
    assert b"192.0.2." not in stored and b"SignupTest" not in stored  # no IP, no user agent


def test_bots_bad_addresses_and_floods_are_refused_clearly_and_store_nothing(
    site: sites.Site, run: Cli, inbox: Inbox, signup_site: tuple[Redirector, str]
) -> None:
    redirector, form = signup_site
    bot = redirector.sign_up(form, {"email": "bot@example.com", "website": "http://spam.example"})
    assert bot.status_code == 303  # thanked like anyone, and forgotten
    bad = redirector.sign_up(form, {"email": "<script>alert(1)</script>"})
    assert bad.status_code == 400 and "is not an e-mail address" in bad.text
    assert "<script>alert" not in bad.text and "&lt;script&gt;" in bad.text
    assert f'href="{PAGE}"' in bad.text  # back to the page, never to anywhere the post says
    extra = redirector.sign_up(form, {"email": "a@example.com", "next": "https://evil.example"})
    assert extra.status_code == 400
    huge = redirector.sign_up(form, {"email": "a@example.com", "website": "x" * 5000})
    assert huge.status_code == 413
    assert redirector.sign_up("no-such-form", {"email": "a@example.com"}).status_code == 404
    assert requests.get(f"{redirector.url}/s/{form}", timeout=5).status_code == 404

    answers = [
        redirector.sign_up(form, {"email": f"fan{n}@example.com"}, client="198.51.100.7")
        for n in range(6)
    ]
    assert [a.status_code for a in answers] == [303] * 5 + [429]
    assert "Wait a few minutes" in answers[-1].text
    assert (
        redirector.sign_up(form, {"email": "fan0@example.com"}, client="203.0.113.9").status_code
        == 303
    )
    wait_for(lambda: len(inbox.messages) == 5)
    time.sleep(0.5)
    assert len(inbox.to("fan0@example.com")) == 1  # pending and mailed today: not mailed again
    assert sorted(row["email"] for row in listed(run)) == [f"fan{n}@example.com" for n in range(5)]

    run("audience", "rm", "alice", "FAN3@example.com")
    assert "fan3@example.com" not in {row["email"] for row in listed(run)}
    missing = run("audience", "rm", "alice", "fan3@example.com", code=1)
    assert "is not on @alice's list" in missing.stderr
    summary = json.loads(run("audience", "export", "alice", "--json").stdout)
    assert len(summary) == 4 and {row["status"] for row in summary} == {"pending"}


def test_every_sign_up_accepted_is_kept_through_a_stop_and_mailed_after_the_restart(
    site: sites.Site, run: Cli, inbox: Inbox
) -> None:
    configure(site)  # no [email] yet: the confirmations wait in the database
    run("profile", "add", "alice")
    form = run("block", "add", "alice", "signup", "Join").stdout.split()[-1]
    redirector = Redirector(sites.Site.open(site.root))
    accepted: list[int] = []

    def flood(worker: int) -> None:
        for n in range(15):
            client = f"10.{worker}.{n}.1"
            answer = redirector.sign_up(form, {"email": f"w{worker}n{n}@example.com"}, client)
            accepted.append(answer.status_code)

    threads = [threading.Thread(target=flood, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert accepted == [303] * 60
    assert redirector.stop() == 0  # stopped at once: the queue is committed first
    with sqlite3.connect(audience_path(site.root)) as db:
        assert db.execute("SELECT count(*) FROM subscribers").fetchone()[0] == 60
        assert (
            db.execute("SELECT count(*) FROM subscribers WHERE mail_due IS NULL").fetchone()[0] == 0
        )

    configure(site, inbox.settings())
    restarted = Redirector(sites.Site.open(site.root))
    try:
        wait_for(lambda: len(inbox.messages) == 60, timeout=30)
    finally:
        assert restarted.stop() == 0
    assert len({m["To"] for m in inbox.messages}) == 60


def test_a_page_without_a_redirector_draws_no_form(site: sites.Site, run: Cli) -> None:
    run("profile", "add", "alice")
    run("link", "add", "alice", "Shop", "https://shop.example.com/")
    run("block", "add", "alice", "signup", "Get my monthly letter")
    assert "Get my monthly letter" in run("link", "list", "alice").stdout
    second = run("block", "add", "alice", "signup", "Another", code=1)
    assert "one sign-up form only" in second.stderr
    run("build")
    page = (sites.Site.open(site.root).build_dir / "alice").read_text()
    assert "signup" not in page and "Get my monthly letter" not in page
