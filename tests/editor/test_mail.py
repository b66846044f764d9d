"""E-mail through a real SMTP server on loopback (aiosmtpd): sign-in links for new
accounts and a forgotten password, the same answer for every address, limited."""

from __future__ import annotations

import re
from collections.abc import Iterator
from email.message import Message
from typing import Any

import pytest
import requests
from aiosmtpd.controller import Controller

from linkgen import site as sites
from tests.support.cli import Cli
from tests.support.editor import PASSWORD, Browser, Editor
from tests.support.mail import Inbox, smtp_server
from tests.support.servers import free_port, wait_for

NEW_PASSWORD = "a brand new passphrase"


@pytest.fixture
def inbox(site: sites.Site) -> Iterator[Inbox]:
    with smtp_server() as box:
        (site.root / "linkgen.toml").write_text(box.settings())
        yield box


def link_in(message: Message) -> str:
    body = message.get_payload(decode=True)
    assert isinstance(body, bytes)
    found = re.search(r"(http://\S+/set-password\?token=\S+)", body.decode())
    assert found, body
    return found.group(1)


def set_password(browser: Browser, link: str, password: str) -> int:
    path = link.split("8090", 1)[1]
    csrf = browser.token(path)
    token = path.split("token=", 1)[1]
    return browser.post("/set-password", {"token": token, "password": password}, csrf).status_code


def test_a_new_account_gets_its_link_by_e_mail_and_it_works(
    site: sites.Site, inbox: Inbox, run: Cli, add_profile: Any
) -> None:
    add_profile("alice")
    site.close()
    result = run("user", "add", "carol@example.com", "--profile", "alice")
    assert "sent carol@example.com a one-time link" in result.stdout
    assert "token=" not in result.stdout  # the link went by e-mail only
    (message,) = inbox.to("carol@example.com")
    assert message["From"] == "links@example.com" and message["Subject"] == "Set your password"
    assert "@alice" in message.get_payload(decode=True).decode()  # type: ignore[union-attr]
    running = Editor(sites.Site.open(site.root))
    try:
        browser = running.browser()
        assert set_password(browser, link_in(message), PASSWORD) == 303
        assert browser.sign_in("carol@example.com", PASSWORD).status_code == 303
    finally:
        running.proc.terminate()
        running.proc.wait(timeout=30)


def test_a_forgotten_password_is_the_same_answer_for_every_address_and_limited(
    site: sites.Site, inbox: Inbox, add_profile: Any
) -> None:
    alice = add_profile("alice")
    _, token = site.accounts.add_user("alice@example.com", [alice.id])
    site.accounts.set_password_with_link(token, PASSWORD)
    metrics_port = free_port()
    with (site.root / "linkgen.toml").open("a") as settings:
        settings.write(f"[editor]\nmetrics_port = {metrics_port}\n")
    running = Editor(sites.Site.open(site.root))
    try:
        browser = running.browser()
        assert 'href="/forgot-password"' in browser.get("/sign-in").text
        answers = []
        for address in ("alice@example.com", "nobody@example.com"):
            answer = browser.post(
                "/forgot-password", {"email": address}, browser.token("/forgot-password")
            )
            page = browser.get(answer.headers["Location"])
            answers.append(
                (
                    answer.status_code,
                    answer.headers["Location"].split("?")[0],
                    page.text.count("on its"),
                )
            )
        assert answers[0] == answers[1] == (303, "/sign-in", 1)
        wait_for(lambda: len(inbox.to("alice@example.com")) == 1)
        assert inbox.to("nobody@example.com") == []
        (message,) = inbox.to("alice@example.com")
        assert message["Subject"] == "Set a new password"
        assert set_password(browser, link_in(message), NEW_PASSWORD) == 303
        assert browser.sign_in("alice@example.com", NEW_PASSWORD).status_code == 303
        # Three a day from one address, then each next one waits longer.
        again = running.browser()
        third = again.post(
            "/forgot-password", {"email": "x@example.com"}, again.token("/forgot-password")
        )
        assert third.status_code == 303
        limited = again.post(
            "/forgot-password", {"email": "y@example.com"}, again.token("/forgot-password")
        )
        assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
        scraped = requests.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5).text
        for line in (
            'linkgen_editor_password_resets_total{outcome="sent"} 1.0',
            'linkgen_editor_password_resets_total{outcome="unknown"} 2.0',
            'linkgen_editor_password_resets_total{outcome="throttled"} 1.0',
            'linkgen_editor_sign_ins_total{outcome="ok"} 1.0',
        ):
            assert line in scraped, line
    finally:
        running.proc.terminate()
        running.proc.wait(timeout=30)


def test_without_smtp_the_link_is_printed_and_the_editor_says_whom_to_ask(
    site: sites.Site, run: Cli, add_profile: Any
) -> None:
    add_profile("alice")
    site.close()
    result = run("user", "add", "carol@example.com", "--profile", "alice")
    assert "set-password?token=" in result.stdout
    running = Editor(sites.Site.open(site.root))
    try:
        page = running.browser().get("/forgot-password").text
        assert "linkgen user link" in page and 'action="/forgot-password"' not in page
    finally:
        running.proc.terminate()
        running.proc.wait(timeout=30)


def test_an_smtp_server_that_is_down_is_a_clear_error(
    site: sites.Site, run: Cli, add_profile: Any
) -> None:
    add_profile("alice")
    (site.root / "linkgen.toml").write_text(
        f'[email]\nhost = "127.0.0.1"\nport = {free_port()}\nsecurity = "none"\n'
    )
    site.close()
    failed = run("user", "add", "carol@example.com", "--profile", "alice", code=1)
    assert "e-mail to carol@example.com not sent" in failed.stderr
    assert "linkgen user link carol@example.com --print" in failed.stderr
    assert "token=" in run("user", "link", "carol@example.com", "--print").stdout


def self_signed(folder: Any) -> tuple[str, str]:
    """A certificate for 127.0.0.1 and its key, as files (the test's own CA)."""
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "smtp.pem", folder / "smtp.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(cert_file), str(key_file)


def test_starttls_with_a_login_and_the_servers_certificate_checked(
    site: sites.Site, run: Cli, add_profile: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ssl

    from aiosmtpd.smtp import AuthResult

    cert, key = self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    box = Inbox()
    logins: list[tuple[bytes, bytes]] = []

    def authenticate(
        server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        logins.append((data.login, data.password))
        return AuthResult(success=data.password == b"s3cret")

    port = free_port()
    server = Controller(
        box, hostname="127.0.0.1", port=port, tls_context=context, require_starttls=True,
        authenticator=authenticate, auth_require_tls=True,
    )  # fmt: skip
    server.start()
    try:
        add_profile("alice")
        site.close()
        settings = (
            f'[email]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "starttls"\n'
            f'user = "links"\nfrom_address = "links@example.com"\n'
        )
        (site.root / "linkgen.toml").write_text(settings + f'ca_file = "{cert}"\n')
        missing = run("user", "add", "carol@example.com", "--profile", "alice", code=1)
        assert "$LINKGEN_SMTP_PASSWORD is not" in missing.stderr  # never in the file
        assert "carol" not in run("user", "list").stdout  # refused before the account was made
        monkeypatch.setenv("LINKGEN_SMTP_PASSWORD", "s3cret")
        run("user", "add", "carol@example.com", "--profile", "alice")
        assert logins == [(b"links", b"s3cret")] and len(box.to("carol@example.com")) == 1
        (site.root / "linkgen.toml").write_text(settings)  # the system's CAs: ours is not one
        refused = run("user", "link", "carol@example.com", code=1)
        assert "CERTIFICATE_VERIFY_FAILED" in refused.stderr or "certificate" in refused.stderr
    finally:
        server.stop()
