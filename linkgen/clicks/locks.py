"""Locked links: the redirector asks for a password, or for an age, first.

``GET /r/<id>`` of a locked link answers a small page of ours — no script,
never cached, nothing on it saying where the link goes — whose form posts
back to the same address with a token: the link id and an expiry, signed with
the redirector's key (``site_data/redirector.key``, made on first use; give
every redirector behind one balancer the same file), good for TOKEN_SECONDS.
There is no session to ride, so there is nothing for another site to forge
(no CSRF by design). A ``POST`` with a good token and the right password
(argon2id, verified off the event loop) or the age confirmed is answered as
the link's own 302, its rules applied, and counted as a click. A wrong
password gets the form again (403) and uses up the visitor's allowance:
FAILURES_ALLOWED per FAILURE_WINDOW seconds per link and address, then 429
until the oldest failure expires, as the editor's sign-in slows guessing.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import hmac
import html
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from linkgen.clicks.allowance import Allowance
from linkgen.clicks.own_pages import small_page

TOKEN_SECONDS = 15 * 60
FAILURES_ALLOWED = 5
FAILURE_WINDOW = 10 * 60.0
TRACKED_MAX = 100_000  # (address, link) pairs remembered; the oldest go first
BODY_MAX = 4096
KEY_FILE = "redirector.key"
TOO_MANY = "Too many tries: wait a few minutes and try again."


@dataclass(frozen=True)
class Gate:
    """A link's lock as the redirector holds it."""

    kind: str  # "password" or "age"
    password_hash: str | None
    age: int | None


def gate(stored: Mapping[str, Any]) -> Gate:
    """A lock as stored (checked already)."""
    return Gate(str(stored["kind"]), stored.get("password_hash"), stored.get("age"))


def site_key(data_dir: Path) -> bytes:
    """The redirector's signing key, created on first use (readable by its owner only)."""
    path = data_dir / KEY_FILE
    try:
        return path.read_bytes()
    except FileNotFoundError:
        data_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_bytes(32)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another redirector made it first
            return path.read_bytes()
        with os.fdopen(fd, "wb") as out:
            out.write(key)
        return key


def _verify(password_hash: str, password: str) -> bool:
    from argon2 import PasswordHasher
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        return bool(PasswordHasher().verify(password_hash, password))
    except (VerificationError, InvalidHashError):
        return False


class Keeper:
    """The forms, tokens and allowances of locked links, for one redirector process."""

    def __init__(self, key: bytes) -> None:
        self.key = key
        self.failures = Allowance(FAILURES_ALLOWED, FAILURE_WINDOW, TRACKED_MAX)

    def token(self, link_id: str, now: float) -> str:
        expires = int(now) + TOKEN_SECONDS
        return f"{expires}.{self._sign(link_id, expires)}"

    def _sign(self, link_id: str, expires: int) -> str:
        message = f"{link_id}.{expires}".encode()
        return hmac.new(self.key, message, hashlib.sha256).hexdigest()[:32]

    def token_holds(self, link_id: str, token: str, now: float) -> bool:
        expires, _, signature = token.partition(".")
        if not expires.isdigit() or len(expires) > 12 or int(expires) < now:
            return False
        return hmac.compare_digest(signature, self._sign(link_id, int(expires)))

    def page(self, link_id: str, lock: Gate, now: float, error: str = "") -> str:
        """The form a locked link answers with; ``error`` says why it is shown again."""
        if lock.kind == "age":
            title = f"This link is for people aged {lock.age} or over"
            fields = (
                '<button type="submit" name="confirm" value="1">'
                f"I am {lock.age} or over, continue</button>\n"
            )
        else:
            title = "This link is locked"
            fields = (
                '<label for="password">Password</label>\n'
                '<input id="password" name="password" type="password" required '
                'autocomplete="off" autofocus maxlength="200">\n'
                '<button type="submit">Open the link</button>\n'
            )
        shown = f'<p class="error" role="alert">{html.escape(error)}</p>\n' if error else ""
        token = html.escape(self.token(link_id, now))
        form = f'<form method="post">\n<input type="hidden" name="token" value="{token}">\n'
        return small_page(title, f"{shown}{form}{fields}</form>\n")

    async def opens(
        self, link_id: str, lock: Gate, body: bytes, address: str, now: float
    ) -> tuple[int, str]:
        """Whether this form opens the link: (302, "") when it does, else the status
        and the page to answer with (403 with the form again, 400, 429)."""
        if self.failures.spent((address, link_id), now):
            return 429, self.page(link_id, lock, now, TOO_MANY)
        try:
            form = parse_qs(body.decode("utf-8", "replace"), max_num_fields=5)
        except ValueError:  # more fields than the form has
            return 400, self.page(link_id, lock, now, "That was not this form.")
        token = form.get("token", [""])[0]
        if not self.token_holds(link_id, token, now):
            return 400, self.page(link_id, lock, now, "This form expired: try again.")
        if lock.kind == "age":
            if form.get("confirm", [""])[0] == "1":
                return 302, ""
            return 400, self.page(link_id, lock, now, "Confirm your age to continue.")
        password = form.get("password", [""])[0][:200]
        check = functools.partial(_verify, lock.password_hash or "", password)
        verified = False
        if password:
            verified = await asyncio.get_running_loop().run_in_executor(None, check)
        if verified:
            return 302, ""
        self.failures.use((address, link_id), now)
        if self.failures.spent((address, link_id), now):
            return 429, self.page(link_id, lock, now, TOO_MANY)
        return 403, self.page(link_id, lock, now, "That is not the password.")
