"""The validation rules every user-facing value goes through."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from linkgen import rules


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("alice", "alice"), ("Alice", "alice"), ("  bob-99 ", "bob-99"), ("a_b", "a_b"), ("ab", "ab")],
)
def test_usernames_are_normalised(raw: str, expected: str) -> None:
    assert rules.username(raw) == expected


@pytest.mark.parametrize(
    ("raw", "rule"),
    [
        ("a", "2 to 30"),
        ("x" * 31, "2 to 30"),
        ("-alice", "starting and ending"),
        ("alice-", "starting and ending"),
        ("al--ice", "single"),
        ("al ice", "a-z"),
        ("al.ice", "a-z"),
        ("аlice", "look-alike"),  # Cyrillic а
        ("ａｌｉｃｅ", "look-alike"),  # full-width
        ("alıce", "look-alike"),  # dotless i
        ("admin", "reserved"),
        ("API", "reserved"),
        ("sitemap.xml", "a-z"),
        ("_m", "starting"),
    ],
)
def test_bad_usernames_name_the_rule(raw: str, rule: str) -> None:
    with pytest.raises(ValueError, match=rule):
        rules.username(raw)


@pytest.mark.parametrize("reserved", ["r", "v", "_m", "admin", "api", "sitemap.xml", "robots.txt"])
def test_design_reserved_words_are_reserved(reserved: str) -> None:
    assert reserved in rules.RESERVED_USERNAMES


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("https://example.com", "https://example.com/"),
        ("HTTPS://Example.COM:443/a?b=1#c", "https://example.com/a?b=1#c"),
        ("http://example.com:8080/x", "http://example.com:8080/x"),
        ("example.com/shop", "https://example.com/shop"),
        ("www.example.com", "https://www.example.com/"),
        ("https://bücher.de/ä", "https://xn--bcher-kva.de/%C3%A4"),
        ("https://[2001:db8::1]/x", "https://[2001:db8::1]/x"),
        ("mailto:Me@Example.com", "mailto:Me@example.com"),
        ("tel:+1 (555) 123-4567", "tel:+1555123-4567"),
    ],
)
def test_urls_are_normalised(raw: str, expected: str) -> None:
    assert rules.url(raw) == expected


@pytest.mark.parametrize(
    ("raw", "rule"),
    [
        ("javascript:alert(1)", "'javascript:' is not allowed"),
        ("JaVaScRiPt:alert(1)", "'javascript:' is not allowed"),
        ("data:text/html,<script>", "'data:' is not allowed"),
        ("vbscript:x", "not allowed"),
        ("file:///etc/passwd", "not allowed"),
        ("ftp://example.com", "not allowed"),
        ("https://user:pw@example.com", "user name or password"),
        ("https:/example.com", "needs a host"),
        ("https://", "host"),
        ("https://exa mple.com", "spaces"),
        ("https://example.com/\x00", "control"),
        ("https:\\\\evil.com", "backslash"),
        ("", "empty"),
        ("just words", "spaces"),
        ("nonsense", "must start with"),
        ("mailto:nobody", "mailto"),
        ("tel:call-me", "tel"),
        ("https://" + "a" * 2050 + ".com", "at most 2048"),
        ("https://-bad-.com", "valid domain"),
    ],
)
def test_unsafe_or_broken_urls_are_refused(raw: str, rule: str) -> None:
    with pytest.raises(ValueError, match=rule):
        rules.url(raw)


def test_text_is_capped_and_cleaned() -> None:
    assert rules.text("  café\u0301 ", max_len=10) == "café\u0301".replace("e\u0301", "é")
    with pytest.raises(ValueError, match="at most 5 characters"):
        rules.text("abcdef", max_len=5)
    with pytest.raises(ValueError, match="line breaks"):
        rules.text("a\nb", max_len=5)
    assert rules.text("a\r\nb", max_len=5, multiline=True) == "a\nb"
    with pytest.raises(ValueError, match="control characters"):
        rules.text("a\x1bb", max_len=5, multiline=True)


@given(st.text(max_size=300))
def test_any_accepted_url_is_safe_and_stable(raw: str) -> None:
    try:
        normalised = rules.url(raw)
    except ValueError:
        return
    assert normalised.split(":", 1)[0] in rules.SAFE_SCHEMES
    assert len(normalised) <= rules.URL_MAX
    assert not any(ch.isspace() or ord(ch) < 32 for ch in normalised)
    assert rules.url(normalised) == normalised


@given(st.from_regex(r"(https?://)?[a-zA-Z0-9-]{1,20}(\.[a-zA-Z]{2,6}){1,2}(/[\w.~-]{0,20}){0,3}"))
def test_web_addresses_normalise_idempotently(raw: str) -> None:
    try:
        normalised = rules.url(raw)
    except ValueError:
        return
    assert normalised.startswith(("https://", "http://"))
    assert rules.url(normalised) == normalised


@given(st.text(max_size=40))
def test_accepted_usernames_are_ascii_and_stable(raw: str) -> None:
    try:
        name = rules.username(raw)
    except ValueError:
        return
    assert name.isascii() and name == name.lower()
    assert name not in rules.RESERVED_USERNAMES
    assert rules.username(name) == name


@pytest.mark.parametrize("reserved", ["404", "aux", "con", "nul", "prn", "com1", "lpt9"])
def test_names_a_file_system_or_the_site_owns_are_reserved(reserved: str) -> None:
    with pytest.raises(ValueError, match="reserved"):
        rules.username(reserved)


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("invoice\u202egnp.exe", "invoicegnp.exe"),  # right-to-left override
        ("\u2067evil\u2069 name", "evil name"),  # isolates
        ("pay\u200bpal", "paypal"),  # zero-width space
        ("\ufeffBOM", "BOM"),
        ("\u2060joined", "joined"),
        ("family 👨\u200d👩\u200d👧", "family 👨\u200d👩\u200d👧"),  # joiners stay: emoji
        ("می\u200cخواهم", "می\u200cخواهم"),  # a non-joiner stays: Persian needs it
        ("שלום\u200f!", "שלום\u200f!"),  # a direction mark stays
    ],
)
def test_spoofing_characters_are_removed_from_text(typed: str, kept: str) -> None:
    assert rules.text(typed, max_len=100) == kept
