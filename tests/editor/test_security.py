"""The editor against a hostile client, as a real process on loopback."""

from __future__ import annotations

import socket
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from linkgen import site as sites
from linkgen.editor.accounts import throttle_key
from linkgen.editor.editor import cookies_secure
from tests.support.editor import Editor, signed_in


def port_of(editor: Editor) -> int:
    return int(editor.url.rsplit(":", 1)[1])


def send_chunked(port: int, path: str, total: int, chunk: int = 64 * 1024) -> tuple[bytes, int]:
    """POST a chunked multipart body of up to ``total`` bytes; return the answer and
    how many body bytes went out before the server answered or hung up."""
    sent = 0
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n"
            "Content-Type: multipart/form-data; boundary=x\r\n\r\n".encode()
        )
        part = b'--x\r\nContent-Disposition: form-data; name="f"; filename="a"\r\n\r\n'
        block = part + b"A" * (chunk - len(part))
        conn.settimeout(0.05)
        answer = b""
        try:
            while sent < total:
                conn.sendall(f"{len(block):x}\r\n".encode() + block + b"\r\n")
                sent += len(block)
                block = b"A" * chunk
                try:
                    answer = conn.recv(4096)
                    if answer:
                        break
                except TimeoutError:
                    continue
        except (BrokenPipeError, ConnectionResetError):
            pass
        conn.settimeout(10)
        while not answer:
            try:
                data = conn.recv(4096)
            except (ConnectionResetError, TimeoutError):
                break
            if not data:
                break
            answer += data
    return answer, sent


def test_a_huge_body_before_sign_in_is_refused_early_and_stores_nothing(
    editor: tuple[Editor, sites.Site],
) -> None:
    running, _ = editor
    started = time.monotonic()
    answer, sent = send_chunked(port_of(running), "/sign-in", total=200 * 2**20)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b"over 64 KB" in answer
    assert sent < 4 * 2**20  # cut off long before the 200 MB it offered
    assert time.monotonic() - started < 10


def test_a_declared_body_over_the_cap_is_refused_unread(
    editor: tuple[Editor, sites.Site],
) -> None:
    running, _ = editor
    with socket.create_connection(("127.0.0.1", port_of(running)), timeout=10) as conn:
        conn.sendall(
            b"POST /set-password HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 999999999\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\n\r\n"
        )
        answer = conn.recv(4096)
    assert answer.startswith(b"HTTP/1.1 413")


def test_parallel_wrong_passwords_cannot_outrun_the_throttle(
    editor: tuple[Editor, sites.Site],
) -> None:
    running, _ = editor
    browsers = [running.browser() for _ in range(16)]
    tokens = [browser.token("/sign-in") for browser in browsers]
    go = threading.Barrier(len(browsers))

    def attempt(n: int) -> int:
        go.wait()
        form = {"email": "alice@example.com", "password": f"wrong {n}"}
        return browsers[n].post("/sign-in", form, tokens[n]).status_code

    with ThreadPoolExecutor(max_workers=len(browsers)) as pool:
        statuses = Counter(pool.map(attempt, range(len(browsers))))
    assert statuses[401] <= 5 and statuses[429] >= 11, statuses
    assert set(statuses) <= {401, 429}


def test_failed_sign_ins_from_one_ipv6_network_count_together() -> None:
    assert throttle_key("2001:db8:1:2:aaaa::1") == throttle_key("2001:db8:1:2:ffff::9")
    assert throttle_key("2001:db8:1:2::1") == "2001:db8:1:2::/64"
    assert throttle_key("2001:db8:1:3::1") != throttle_key("2001:db8:1:2::1")
    assert throttle_key("203.0.113.7") == "203.0.113.7"
    assert throttle_key("::ffff:203.0.113.7") == "203.0.113.7"
    assert throttle_key("not an address") == "not an address"


def test_a_version_that_is_not_a_number_is_a_clear_400(
    editor: tuple[Editor, sites.Site],
) -> None:
    running, site = editor
    browser = signed_in(running)
    csrf = browser.token("/p/alice")
    for version in ("²", "٣", "1e9", "9" * 40):
        form = {"display_name": "X", "bio": "", "theme": "default", "version": version}
        answer = browser.post("/p/alice/profile", form, csrf)
        assert answer.status_code == 400 and "not a number" in answer.text, version
    assert site.content.get("alice").display_name == "Alice"


def test_a_notice_comes_from_the_server_never_from_the_address(
    editor: tuple[Editor, sites.Site],
) -> None:
    running, _ = editor
    browser = signed_in(running)
    forged = browser.get("/p/alice?notice=Your+account+is+suspended.+Call+0900-SCAM")
    assert forged.status_code == 200 and "suspended" not in forged.text
    csrf = browser.token("/p/alice")
    version = str(editor[1].content.get("alice").version)
    saved = browser.post(
        "/p/alice/profile",
        {"display_name": "A", "bio": "", "theme": "default", "version": version},
        csrf,
    )
    assert saved.status_code == 303
    assert 'role="status">Saved.</p>' in browser.get(saved.headers["Location"]).text
    signed = saved.headers["Location"].split("notice=", 1)[1]  # Saved..<time>.<signature>
    tampered = browser.get(f"/p/alice?notice=Suspended{signed.removeprefix('Saved.')}")
    assert "Suspended" not in tampered.text and 'role="status"' not in tampered.text


def test_session_cookies_are_secure_unless_the_editor_is_local() -> None:
    assert not cookies_secure("http://127.0.0.1:8090", "127.0.0.1")
    assert not cookies_secure("http://localhost:8090", "localhost")
    assert not cookies_secure("http://[::1]:8090", "::1")
    assert cookies_secure("http://links.example.com", "0.0.0.0")  # listening on every address
    assert cookies_secure("http://192.168.1.5:8090", "192.168.1.5")
    assert cookies_secure("http://editor.example", "editor.example")
    assert cookies_secure("https://editor.example.com", "127.0.0.1")  # behind a TLS proxy
