"""Editor accounts: one-time links, argon2id passwords, growing delays, revocable sessions."""

from __future__ import annotations

import re
from typing import Any

import pytest

from linkgen import site as sites
from linkgen.editor import accounts
from linkgen.editor.accounts import Accounts, SignInRefused, TooManyAttempts
from linkgen.errors import Conflict, InvalidInput
from tests.support.cli import Cli

PASSWORD = "correct horse battery"


@pytest.fixture
def alice(site: sites.Site, add_profile: Any) -> tuple[Accounts, str]:
    profile = add_profile("alice")
    book = site.accounts
    _, token = book.add_user("Alice@Example.com", [profile.id])
    return book, token


def test_a_one_time_link_sets_the_password_once(alice: tuple[Accounts, str]) -> None:
    book, token = alice
    user = book.set_password_with_link(token, PASSWORD)
    assert user.email == "alice@example.com" and user.has_password
    with pytest.raises(InvalidInput, match="expired or was already used"):
        book.set_password_with_link(token, "another long password")
    stored = book.conn.execute("SELECT password_hash FROM users").fetchone()[0]
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert token not in str(book.conn.execute("SELECT * FROM sign_in_links").fetchall())


def test_short_passwords_are_refused(alice: tuple[Accounts, str]) -> None:
    book, token = alice
    with pytest.raises(InvalidInput, match="at least 12 characters"):
        book.set_password_with_link(token, "short")


def test_sign_in_gives_a_session_that_sign_out_revokes(alice: tuple[Accounts, str]) -> None:
    book, token = alice
    book.set_password_with_link(token, PASSWORD)
    cookie, session = book.sign_in(" ALICE@example.com", PASSWORD, "198.51.100.7")
    assert book.session(cookie) == session and len(session.csrf) >= 32
    book.sign_out(cookie)
    assert book.session(cookie) is None  # a copied cookie is dead too
    assert book.session("forged") is None


def test_a_password_change_ends_every_session(alice: tuple[Accounts, str]) -> None:
    book, token = alice
    user = book.set_password_with_link(token, PASSWORD)
    first, _ = book.sign_in("alice@example.com", PASSWORD, "a")
    second, _ = book.sign_in("alice@example.com", PASSWORD, "b")
    with pytest.raises(SignInRefused):
        book.change_password(user, "not the password", "a new long password")
    book.change_password(user, PASSWORD, "a new long password")
    assert book.session(first) is None and book.session(second) is None
    book.sign_in("alice@example.com", "a new long password", "a")


def test_wrong_passwords_and_unknown_accounts_look_the_same(alice: tuple[Accounts, str]) -> None:
    book, token = alice
    book.set_password_with_link(token, PASSWORD)
    with pytest.raises(SignInRefused, match="wrong e-mail or password") as wrong:
        book.sign_in("alice@example.com", "nope nope nope", "a")
    with pytest.raises(SignInRefused, match="wrong e-mail or password") as unknown:
        book.sign_in("nobody@example.com", "nope nope nope", "b")
    assert str(wrong.value) == str(unknown.value)


def with_a_clock(
    alice: tuple[Accounts, str], monkeypatch: pytest.MonkeyPatch
) -> tuple[Accounts, list[float]]:
    """Alice's account with her password set, and the clock it reads (set it to move)."""
    book, token = alice
    book.set_password_with_link(token, PASSWORD)
    clock = [1_000_000.0]
    monkeypatch.setattr(accounts.time, "time", lambda: clock[0])
    return book, clock


def test_repeated_failures_wait_longer_each_time(
    alice: tuple[Accounts, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    book, clock = with_a_clock(alice, monkeypatch)
    for _ in range(accounts.FREE_FAILURES):
        with pytest.raises(SignInRefused):
            book.sign_in("alice@example.com", "wrong wrong wrong", "203.0.113.5")
    waits = []
    for _ in range(4):
        with pytest.raises(TooManyAttempts) as refused:
            book.sign_in("alice@example.com", PASSWORD, "203.0.113.5")  # even the right one
        waits.append(refused.value.retry_after)
        clock[0] += refused.value.retry_after
        with pytest.raises(SignInRefused):
            book.sign_in("alice@example.com", "wrong wrong wrong", "203.0.113.5")
    assert waits == [1.0, 2.0, 4.0, 8.0]
    with pytest.raises(TooManyAttempts):  # per account: another address waits too
        book.sign_in("alice@example.com", PASSWORD, "192.0.2.1")
    clock[0] += 16
    book.sign_in("alice@example.com", PASSWORD, "192.0.2.1")  # and a success forgives


def test_a_failed_sign_ins_address_is_forgotten_after_a_day(
    alice: tuple[Accounts, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    book, clock = with_a_clock(alice, monkeypatch)
    with pytest.raises(SignInRefused):
        book.sign_in("alice@example.com", "wrong wrong wrong", "203.0.113.5")

    def stored() -> list[str]:
        return [row[0] for row in book.conn.execute("SELECT key FROM sign_in_failures")]

    assert "addr:203.0.113.5" in stored()
    clock[0] += accounts.FAILURES_FORGOTTEN_AFTER + 1
    with pytest.raises(SignInRefused):  # someone else fails a day later
        book.sign_in("nobody@example.com", "wrong wrong wrong", "192.0.2.9")
    assert not any("203.0.113.5" in key for key in stored())


def test_a_creator_may_edit_only_their_profiles(
    site: sites.Site, add_profile: Any, alice: tuple[Accounts, str]
) -> None:
    book, _ = alice
    bob = add_profile("bob")
    creator = book.user_by_email("alice@example.com")
    assert book.may_edit(creator, site.content.get("alice").id)
    assert not book.may_edit(creator, bob.id)
    admin, _ = book.add_user("root@example.com", [], admin=True)
    assert book.may_edit(admin, bob.id)
    with pytest.raises(Conflict, match="already has an account"):
        book.add_user("alice@example.com", [])


def test_the_user_commands(run: Cli, add_profile: Any) -> None:
    add_profile("alice")
    created = run("user", "add", "alice@example.com", "--profile", "alice")
    link = re.search(r"http://127\.0\.0\.1:8090/set-password\?token=\S+", created.stdout)
    assert link and "who may edit @alice" in created.stdout
    assert run.json("user", "list") == [
        {"email": "alice@example.com", "admin": False, "password_set": False, "profiles": ["alice"]}
    ]
    assert "not an e-mail address" in run("user", "add", "nope", "--admin", code=1).stderr
    assert (
        "no profile 'ghost'"
        in run("user", "add", "g@example.com", "--profile", "ghost", code=1).stderr
    )
    run("user", "rm", "alice@example.com")
    assert run("user", "list").stdout.strip() == "(no accounts)"
