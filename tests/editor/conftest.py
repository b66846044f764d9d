"""The editor as a real process, with two creators who may each edit their own profile."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

import pytest

from linkgen import site as sites
from linkgen.editor import accounts
from tests.support.editor import PASSWORD, Editor


class _Remembered:
    """argon2id as the editor hashes, each password hashed once per session: the
    editor process still verifies every sign-in with the real thing."""

    hashes: ClassVar[dict[str, str]] = {}

    def __init__(self) -> None:
        from argon2 import PasswordHasher

        self.hasher = PasswordHasher()

    def hash(self, password: str) -> str:
        if password not in self.hashes:
            self.hashes[password] = self.hasher.hash(password)
        return self.hashes[password]

    def __getattr__(self, name: str) -> Any:
        return getattr(self.hasher, name)


@pytest.fixture(autouse=True)
def _passwords_hashed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(accounts, "_hasher", _Remembered)


@pytest.fixture
def editor(site: sites.Site, add_profile: Any) -> Iterator[tuple[Editor, sites.Site]]:
    alice = add_profile("alice", ("Shop", "https://shop.example.com"), display_name="Alice")
    bob = add_profile("bob", ("Blog", "https://blog.example.com"), display_name="Bob")
    book = site.accounts
    for email, profile in (("alice@example.com", alice), ("bob@example.com", bob)):
        _, token = book.add_user(email, [profile.id])
        book.set_password_with_link(token, PASSWORD)
    running = Editor(site)
    yield running, site
    running.proc.terminate()
    running.proc.wait(timeout=30)
