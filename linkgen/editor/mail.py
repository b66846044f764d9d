"""The editor's e-mail: one-time links to set a password, over SMTP.

``[email]`` names the server (STARTTLS, TLS or plain, a user and a password
from the environment). Without a host nothing is sent and the CLI prints the
link instead. A message is plain text with the link alone on its line, and
says who asked for it and what to do when it was not them.
"""

from __future__ import annotations

import logging
import os
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from linkgen.config import EmailSettings
from linkgen.errors import ConfigError, LinkgenError

log = logging.getLogger(__name__)


class MailError(LinkgenError):
    """The SMTP server could not be reached or refused the message."""


INVITE = (
    "Set your password",
    "An account on {site} was made for you: you may edit {what}.\n\n"
    "Set your password here (the link works once, for {hours} hours):\n\n{link}\n",
)
RESET = (
    "Set a new password",
    "Someone (we hope you) asked to set a new password for your account on {site}.\n\n"
    "Set it here (the link works once, for {hours} hours):\n\n{link}\n\n"
    "If it was not you, ignore this message: your password stays as it is.\n",
)


def configured(settings: EmailSettings) -> bool:
    return settings.host is not None


def message(settings: EmailSettings, to: str, subject: str, body: str) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = settings.from_address
    mail["To"] = to
    mail["Subject"] = subject
    mail["Date"] = formatdate(localtime=False, usegmt=True)
    mail["Message-ID"] = make_msgid(domain=settings.from_address.rpartition("@")[2] or None)
    mail["Auto-Submitted"] = "auto-generated"
    mail.set_content(body)
    return mail


def check(settings: EmailSettings) -> str | None:
    """The SMTP password, once the settings can send at all (else ConfigError)."""
    if settings.host is None:
        raise ConfigError("[email] host is not set: nothing can be sent")
    password = os.environ.get(settings.password_env) if settings.user else None
    if settings.user and password is None:
        raise ConfigError(f"[email] user is set but ${settings.password_env} is not")
    return password


def send(settings: EmailSettings, mail: EmailMessage) -> None:
    """Hand ``mail`` to the SMTP server, or MailError saying why it could not be."""
    password = check(settings)
    assert settings.host is not None
    context = ssl.create_default_context(cafile=settings.ca_file)
    try:
        smtp: smtplib.SMTP
        if settings.security == "tls":
            smtp = smtplib.SMTP_SSL(
                settings.host, settings.port, timeout=settings.timeout, context=context
            )
        else:
            smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
        with smtp:
            if settings.security == "starttls":
                smtp.starttls(context=context)
            if settings.user and password is not None:
                smtp.login(settings.user, password)
            smtp.send_message(mail)
    except (OSError, smtplib.SMTPException) as exc:
        raise MailError(f"e-mail to {mail['To']} not sent: {type(exc).__name__}: {exc}") from None
