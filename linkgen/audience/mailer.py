"""The confirmation a sign-up is sent: one message, its two links, over ``[email]``.

Plain text, saying who asked and what happens if it was not them; the
unsubscribe link is in the text and in ``List-Unsubscribe`` with
``List-Unsubscribe-Post`` (RFC 8058), so a mail client's button works too.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING

from linkgen.audience.store import PENDING_DAYS, AudienceStore, Due
from linkgen.editor import mail
from linkgen.errors import LinkgenError

if TYPE_CHECKING:
    from email.message import EmailMessage

    from linkgen.audience.signups import Outgoing

log = logging.getLogger(__name__)

SUBJECT = "Confirm your address for {who}"
BODY = (
    "Someone (we hope you) signed up on {site} to get e-mail from {who}.\n\n"
    "Confirm your address here:\n\n{confirm}\n\n"
    "If it was not you, do nothing: an address not confirmed is deleted within {days} days.\n\n"
    "Unsubscribe and delete your address at any time:\n{unsubscribe}\n"
)


def message(due: Due, outgoing: Outgoing) -> EmailMessage:
    name = outgoing.username(due.profile_id)
    who = f"@{name}" if name else "a creator"
    base = outgoing.base_url.rstrip("/")
    unsubscribe = f"{base}/s/unsubscribe/{due.unsubscribe}"
    text = BODY.format(
        site=outgoing.site_title,
        who=who,
        confirm=f"{base}/s/confirm/{due.confirm}",
        days=PENDING_DAYS,
        unsubscribe=unsubscribe,
    )
    sent = mail.message(outgoing.email, due.email, SUBJECT.format(who=who), text)
    sent["List-Unsubscribe"] = f"<{unsubscribe}>"
    sent["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    return sent


def send_due(store: AudienceStore, outgoing: Outgoing, stop: threading.Event) -> int:
    """Send every confirmation due now (until ``stop``); how many went out."""
    sent = 0
    while not stop.is_set():
        batch = store.due(time.time())
        if not batch:
            return sent
        for due in batch:
            if stop.is_set():
                return sent
            try:
                mail.send(outgoing.email, message(due, outgoing))
            except LinkgenError as exc:  # not sent (MailError), or [email] incomplete
                log.warning("%s; trying again later", exc)
                store.failed(due, time.time())
                continue
            store.mailed(due.id, time.time())
            sent += 1
    return sent
