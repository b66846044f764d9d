"""The editor as a real process, with two creators who may each edit their own profile."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from linkgen import site as sites
from tests.support.editor import PASSWORD, Editor


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
