"""A contact block as a vCard 4.0 file (RFC 6350), ``/<username>.vcf``.

Every value is escaped (backslash, comma, semicolon, line breaks) and every
line folded at 75 octets, so a name or organisation can hold anything the
rules let through and the card still reads back as written.
"""

from __future__ import annotations

from collections.abc import Mapping


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace(",", "\\,").replace(";", "\\;").replace("\n", "\\n")


def _fold(line: str) -> str:
    """``line`` cut into pieces of at most 75 octets, never inside a character."""
    pieces: list[str] = []
    current, size = "", 0
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > (75 if not pieces else 74):  # a continuation starts with a space
            pieces.append(current)
            current, size = "", 0
        current += char
        size += width
    pieces.append(current)
    return "\r\n ".join(pieces)


def card(contact: Mapping[str, str | None], source: str) -> bytes:
    """The vCard of ``contact`` (name, email, phone, organisation, url); ``source``:
    where the card itself is published."""
    lines = ["BEGIN:VCARD", "VERSION:4.0", f"FN:{_escape(contact['name'] or '')}"]
    if contact.get("organisation"):
        lines.append(f"ORG:{_escape(contact['organisation'] or '')}")
    if contact.get("email"):
        lines.append(f"EMAIL;TYPE=work:{_escape(contact['email'] or '')}")
    if contact.get("phone"):
        lines.append(f"TEL;VALUE=uri;TYPE=voice:tel:{contact['phone']}")
    if contact.get("url"):
        lines.append(f"URL:{contact['url']}")
    lines += [f"SOURCE:{source}", "PRODID:-//linkgen//EN", "END:VCARD"]
    return ("\r\n".join(_fold(line) for line in lines) + "\r\n").encode("utf-8")
