"""The sign-up form's endpoint in the redirector: ``POST /s/<block id>``.

A post is checked where it arrives — the form's fields, the address's form
(rules.email), the honeypot (a field people never see: a bot that fills it is
thanked and forgotten) and the client's allowance (SIGNUPS_PER_CLIENT per
window, in memory only) — then appended to an in-memory queue and answered
``303`` back to the profile page's thank-you anchor. Nothing on the request
path waits on SQLite or SMTP: a writer thread commits the queue to
audience.db every ``batch_seconds``, and a mailer thread sends the
confirmations (double opt-in) over ``[email]``, retrying with back-off. On a
graceful stop the writer commits everything queued first; a confirmation not
sent yet is sent by the next start, since it is due in the database.

A confirmation's and an unsubscribe link's ``GET`` answer a page with one
button (a mail scanner that follows links confirms nothing); its ``POST``
acts — as does a mail client's one-click unsubscribe (RFC 8058).
"""

from __future__ import annotations

import asyncio
import html
import logging
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs

from linkgen import rules
from linkgen.audience import mailer
from linkgen.audience.store import PENDING_DAYS, AudienceStore
from linkgen.clicks.allowance import Allowance
from linkgen.clicks.link_index import Answer, Form, answer
from linkgen.clicks.own_pages import HEADERS, small_page
from linkgen.config import EmailSettings

log = logging.getLogger(__name__)

HTML = "text/html; charset=utf-8"
SIGNUPS_PER_CLIENT = 5
SIGNUP_WINDOW = 10 * 60.0
HONEYPOT = "website"  # the field the page hides from people
FIELDS_MAX = 4


def page(status: int, title: str, text: str, more: str = "") -> Answer:
    body = small_page(title, f"<p>{html.escape(text)}</p>\n{more}")
    return answer(status, body.encode(), HTML, **HEADERS)


def _button(words: str) -> str:
    """A form posting back to the page's own address."""
    return f'<form method="post"><button type="submit">{html.escape(words)}</button></form>\n'


def _back(form: Form, status: int, title: str, text: str) -> Answer:
    link = f'<p><a href="{html.escape(form.route.profile_url)}">Back to the page</a></p>\n'
    return page(status, title, text, link)


CONFIRM_PAGE = page(
    200, "Confirm your address", "One step left: confirm that you want these e-mails.",
    _button("Confirm my address"),
)  # fmt: skip
UNSUBSCRIBE_PAGE = page(
    200, "Unsubscribe", "Stop these e-mails and delete your address?", _button("Unsubscribe")
)
CONFIRMED = page(200, "Address confirmed", "Thank you: your address is confirmed.")
UNSUBSCRIBED = page(200, "Unsubscribed", "Your address is deleted: no more e-mails.")
EXPIRED = page(
    404, "This link no longer works",
    f"It was used to unsubscribe, or not confirmed within {PENDING_DAYS} days: sign up again.",
)  # fmt: skip
UNKNOWN = page(404, "Not found", "There is no sign-up form here.")


@dataclass(frozen=True)
class Outgoing:
    """What the confirmations need beyond the store."""

    email: EmailSettings
    base_url: str  # the redirector's public address, for the links in a message
    site_title: str
    username: Callable[[str], str | None]  # of a profile id, from the link index
    profiles: Callable[[], Collection[str]] | None = None  # those that exist, when known


class Signups:
    """The queue, the writer and the mailer of one redirector process."""

    def __init__(
        self,
        path: Path,
        key: bytes,
        outgoing: Outgoing,
        capacity: int = 100_000,
        batch_seconds: float = 0.2,
    ) -> None:
        self.path = path
        self.key = key
        self.outgoing = outgoing
        self.capacity = capacity
        self.batch_seconds = batch_seconds
        self.allowance = Allowance(SIGNUPS_PER_CLIENT, SIGNUP_WINDOW)
        self._queue: deque[tuple[str, str, float]] = deque()
        self._stop = threading.Event()
        self._mail = threading.Event()
        self._threads: list[threading.Thread] = []

    # -- the request path ----------------------------------------------------------

    def post(self, form: Form, body: bytes | None, address: str, now: float) -> Answer:
        """The answer to a sign-up form posted (``body`` None: too large)."""
        if not form.route.live(now):
            return form.route.to_profile
        if body is None:
            return _back(form, 413, "That was too long", "Go back and try again.")
        try:
            fields = parse_qs(body.decode("utf-8", "replace"), max_num_fields=FIELDS_MAX)
        except ValueError:
            fields = {"": []}
        if set(fields) - {"email", HONEYPOT}:
            return _back(form, 400, "That was not this form", "Go back and try again.")
        if fields.get(HONEYPOT, [""])[0]:
            return form.thanks  # a bot: thanked, forgotten
        raw = fields.get("email", [""])[0]
        try:
            email = rules.email(raw)
        except ValueError:
            return _back(form, 400, "Check the address", f"'{raw[:80]}' is not an e-mail address.")
        if self.allowance.spent(address, now):
            return _back(form, 429, "Too many sign-ups", "Wait a few minutes and try again.")
        if len(self._queue) >= self.capacity:
            return _back(form, 503, "Busy", "Too many sign-ups at once: try again in a minute.")
        self.allowance.use(address, now)
        self._queue.append((form.route.profile_id, email, now))
        return form.thanks

    def page(self, path: str) -> Answer:
        """``GET /s/confirm/<token>``, ``GET /s/unsubscribe/<token>``: one button."""
        purpose, _, token = path[3:].partition("/")
        if not token or "/" in token:
            return UNKNOWN
        return {"confirm": CONFIRM_PAGE, "unsubscribe": UNSUBSCRIBE_PAGE}.get(purpose, UNKNOWN)

    async def act(self, path: str) -> Answer:
        """``POST /s/confirm/<token>`` or ``/s/unsubscribe/<token>`` (one-click too)."""
        purpose, _, token = path[3:].partition("/")
        if purpose not in ("confirm", "unsubscribe") or not token or len(token) > 80:
            return UNKNOWN
        done = await asyncio.to_thread(self._act, purpose, token, time.time())
        if not done:
            return EXPIRED
        return CONFIRMED if purpose == "confirm" else UNSUBSCRIBED

    def _act(self, purpose: str, token: str, now: float) -> bool:
        store = AudienceStore(self.path, self.key)
        try:
            return store.confirm(token, now) if purpose == "confirm" else store.unsubscribe(token)
        finally:
            store.close()

    # -- the writer and the mailer ---------------------------------------------------

    def start(self) -> None:
        try:  # the schema, before the first post
            AudienceStore(self.path, self.key).close()
        except sqlite3.OperationalError:  # another worker was making it at that moment
            time.sleep(0.5)
            AudienceStore(self.path, self.key).close()
        for name, target in (("audience-writer", self._write), ("audience-mailer", self._send)):
            thread = threading.Thread(target=target, daemon=True, name=name)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        """Commit everything queued, then end both threads."""
        self._stop.set()
        self._mail.set()
        for thread in self._threads:
            thread.join(30)

    def _write(self) -> None:
        store = AudienceStore(self.path, self.key)
        pruned_at = 0.0
        try:
            while True:
                stopping = self._stop.wait(self.batch_seconds)
                self._commit(store)
                if time.time() - pruned_at > 3600:
                    pruned_at = time.time()
                    profiles = self.outgoing.profiles
                    store.prune(pruned_at, profiles() if profiles is not None else None)
                if stopping:
                    return
        finally:
            store.close()

    def _commit(self, store: AudienceStore) -> None:
        batch = []
        while self._queue:
            batch.append(self._queue.popleft())
        if not batch:
            return
        try:
            due = store.add(((pid, email) for pid, email, _ in batch), batch[-1][2])
        except Exception:  # the database is busy or broken: keep them for the next turn
            log.exception("could not record %d sign-ups; trying again", len(batch))
            self._queue.extendleft(reversed(batch))
            return
        if due:
            self._mail.set()

    def _send(self) -> None:
        store = AudienceStore(self.path, self.key)
        warned = False
        try:
            while not self._stop.is_set():
                if self.outgoing.email.host is None:
                    if not warned and store.next_due() is not None:
                        log.warning("sign-ups wait for their confirmation: [email] host is not set")
                        warned = True
                else:
                    mailer.send_due(store, self.outgoing, self._stop)
                next_due = store.next_due()
                wait = 60.0 if next_due is None else max(0.0, min(60.0, next_due - time.time()))
                self._mail.wait(wait)
                self._mail.clear()
        finally:
            store.close()
