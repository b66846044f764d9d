"""Validation rules for every user-facing value, as plain functions.

Each function takes raw input and returns the normalised value, or raises
``ValueError`` with a message that names the rule (pydantic adds the field).
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote, urlsplit, urlunsplit

USERNAME_MIN = 2
USERNAME_MAX = 30
URL_MAX = 2048
MAX_LINKS = 50

# Paths the site, the redirector or the editor own, plus names people expect
# to be official. Compared after lower-casing.
RESERVED_USERNAMES = frozenset(
    {
        "r",
        "v",
        "_m",
        "404",
        # Names Windows cannot hold as files: a build copied there would break.
        "aux",
        "con",
        "nul",
        "prn",
        *(f"{device}{n}" for device in ("com", "lpt") for n in range(10)),
        "admin",
        "administrator",
        "api",
        "app",
        "assets",
        "static",
        "sitemap.xml",
        "robots.txt",
        "404.html",
        "favicon.ico",
        "index",
        "index.html",
        "login",
        "logout",
        "signin",
        "signout",
        "signup",
        "register",
        "account",
        "accounts",
        "settings",
        "edit",
        "editor",
        "dashboard",
        "stats",
        "metrics",
        "health",
        "healthz",
        "status",
        "help",
        "support",
        "about",
        "terms",
        "privacy",
        "security",
        "root",
        "www",
        "mail",
        "new",
        "well-known",
        "linkgen",
        "null",
        "undefined",
        "me",
        "user",
        "users",
        "profile",
        "profiles",
        "link",
        "links",
        "qr",
        "media",
        "cdn",
        "preview",
        "_next",
        "_build",
    }
)

_USERNAME_RE = re.compile(r"^[a-z0-9](?:[a-z0-9]|[_-](?=[a-z0-9]))*$")
_THEME_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$")
_HEX_COLOUR_RE = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")
_SCHEME_RE = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")
_BARE_HOST_RE = re.compile(r"^[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+(?::\d+)?(?:[/?#]|$)")
_HOST_LABEL_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
_EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
_TEL_RE = re.compile(r"^\+?[0-9().-]+$")
_DEFAULT_PORTS = {"http": 80, "https": 443}
SAFE_SCHEMES = ("https", "http", "mailto", "tel")


def email(raw: str) -> str:
    """An account's e-mail address, lower-cased."""
    value = raw.strip().lower()
    if len(value) > 254 or not _EMAIL_RE.match(value):
        raise ValueError(f"'{raw[:80]}' is not an e-mail address")
    return value


def username(raw: str) -> str:
    """Lower-case ASCII letters, digits, single '-' or '_' between them."""
    value = raw.strip()
    if not value.isascii():
        raise ValueError(
            "use only a-z, 0-9, '-' and '_' (non-ASCII and look-alike letters are refused)"
        )
    value = value.lower()
    if not USERNAME_MIN <= len(value) <= USERNAME_MAX:
        raise ValueError(f"must be {USERNAME_MIN} to {USERNAME_MAX} characters long")
    if not _USERNAME_RE.match(value):
        raise ValueError(
            "use only a-z, 0-9 and single '-' or '_' between them, "
            "starting and ending with a letter or digit"
        )
    if value in RESERVED_USERNAMES:
        raise ValueError(f"'{value}' is reserved")
    return value


def theme_name(raw: str) -> str:
    value = raw.strip().lower()
    if not _THEME_RE.match(value):
        raise ValueError("a theme name is 1 to 40 characters of a-z, 0-9 and '-'")
    return value


def icon_choice(raw: str) -> str:
    """A brand icon picked by hand: a known brand's slug (``youtube``), or ``none``."""
    from linkgen.pages import icons

    value = raw.strip().lower()
    if value == icons.NO_ICON:
        return value
    if not icons.exists(value):
        hint = icons.suggest(value)
        raise ValueError(
            f"no brand icon '{value}'"
            + (f"; did you mean {hint}?" if hint else "")
            + " ('none' shows no icon)"
        )
    return value


def language(raw: str) -> str:
    """A BCP 47 language tag Babel knows, in its usual spelling ("pt-br" → "pt-BR")."""
    from linkgen.pages.language import normalize

    return normalize(raw)


_UTM = re.compile(r"^[A-Za-z0-9._~+-]{1,100}$")


def utm_value(raw: str) -> str:
    """A UTM tag's value: 1-100 letters, digits and ``. _ ~ + -`` (no spaces)."""
    value = raw.strip()
    if not _UTM.match(value):
        raise ValueError(
            f"'{raw[:40]}' cannot be a UTM value: use 1-100 letters, digits and . _ ~ + -"
        )
    return value


# An argon2id hash as argon2-cffi writes it, with costs a redirector can afford to
# verify (an imported file cannot make every try cost a gigabyte or a minute).
_ARGON2ID = re.compile(
    r"^\$argon2id\$v=19\$m=(\d{1,7}),t=(\d{1,2}),p=(\d{1,2})\$[A-Za-z0-9+/]{16,64}\$[A-Za-z0-9+/]{16,128}$"
)


def argon2id_hash(raw: str) -> str:
    """A password hash a lock may hold: argon2id, its costs within a redirector's means."""
    found = _ARGON2ID.match(raw)
    if found is None:
        raise ValueError("must be an argon2id password hash ($argon2id$v=19$m=…)")
    memory, rounds, lanes = (int(value) for value in found.groups())
    if not (8 <= memory <= 262_144 and 1 <= rounds <= 10 and 1 <= lanes <= 8):
        raise ValueError("its costs are out of bounds (m ≤ 262144, t ≤ 10, p ≤ 8)")
    return raw


_NOT_COUNTRIES = frozenset({"ZZ", "QO", "EU", "EZ", "UN", "XA", "XB"})  # regions, placeholders


def country(raw: str) -> str:
    """An ISO 3166 alpha-2 country code, in capitals ("de" → "DE")."""
    from babel import Locale

    code = raw.strip().upper()
    if (
        len(code) != 2
        or not code.isalpha()
        or code in _NOT_COUNTRIES
        or code not in Locale("en").territories
    ):
        raise ValueError(f"'{raw[:20]}' is not a country code (two letters, e.g. DE, US, JP)")
    return code


def colour(raw: str) -> str:
    value = raw.strip()
    if not _HEX_COLOUR_RE.match(value):
        raise ValueError("a colour is written #rgb or #rrggbb")
    return value.lower()


# Invisible characters that make text read other than it is (bidirectional
# overrides, embeddings and isolates reorder what follows; zero-width spaces hide
# inside words): removed from every text. Joiners and direction marks stay, as
# emoji sequences and right-to-left scripts need them.
_SPOOFING = dict.fromkeys(
    [*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200B, 0x2060, 0xFEFF, 0x180E]
)


def text(raw: str, *, max_len: int, multiline: bool = False) -> str:
    """NFC-normalised text with no control or spoofing characters, trimmed."""
    value = unicodedata.normalize("NFC", raw).translate(_SPOOFING).strip()
    if multiline:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    for ch in value:
        if ch == "\n" and multiline:
            continue
        if unicodedata.category(ch) in ("Cc", "Cs") or ch in "\u2028\u2029":
            name = "line breaks" if ch in "\n\u2028\u2029" else "control characters"
            raise ValueError(f"must not contain {name}")
    if len(value) > max_len:
        raise ValueError(f"must be at most {max_len} characters (got {len(value)})")
    return value


def url(raw: str) -> str:
    """A safe, normalised link target: https, http, mailto or tel only.

    A bare domain (``example.com/x``) becomes ``https://example.com/x``.
    """
    value = raw.strip()
    if not value:
        raise ValueError("must not be empty")
    if len(value) > URL_MAX:
        raise ValueError(f"must be at most {URL_MAX} characters")
    if value[:4].lower() == "tel:":  # phone numbers are typed with spaces
        return _tel(value[4:])
    if any(ch.isspace() or unicodedata.category(ch) == "Cc" for ch in value):
        raise ValueError("must not contain spaces or control characters")
    if "\\" in value:
        raise ValueError("must not contain backslashes")
    match = _SCHEME_RE.match(value)
    if match is None or (_BARE_HOST_RE.match(value) and "://" not in value):
        if not _BARE_HOST_RE.match(value):
            raise ValueError("must start with https://, http://, mailto: or tel:")
        value = "https://" + value
        match = _SCHEME_RE.match(value)
        assert match is not None
    scheme = match.group(1).lower()
    if scheme not in SAFE_SCHEMES:
        raise ValueError(f"the scheme '{scheme}:' is not allowed; use https, http, mailto or tel")
    rest = value[match.end() :]
    if scheme == "mailto":
        normalised = _mailto(rest)
    elif scheme == "tel":
        normalised = _tel(rest)
    else:
        normalised = _web(scheme, rest)
    if len(normalised) > URL_MAX:
        raise ValueError(f"must be at most {URL_MAX} characters once normalised")
    return normalised


def _web(scheme: str, rest: str) -> str:
    if not rest.startswith("//"):
        raise ValueError(f"a {scheme} link needs a host: {scheme}://example.com/...")
    parts = urlsplit(f"{scheme}:{rest}")
    if "@" in parts.netloc:
        raise ValueError("must not contain a user name or password")
    try:
        host = parts.hostname or ""
        port = parts.port
    except ValueError as exc:
        raise ValueError("has a malformed host or port") from exc
    host = _host(host)
    netloc = f"[{host}]" if ":" in host else host
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        netloc += f":{port}"
    path = quote(parts.path or "/", safe="/%:@!$&'()*+,;=-._~")
    query = quote(parts.query, safe="/?%:@!$&'()*+,;=-._~")
    fragment = quote(parts.fragment, safe="/?%:@!$&'()*+,;=-._~")
    return urlunsplit((scheme, netloc, path, query, fragment))


def _host(host: str) -> str:
    if not host:
        raise ValueError("must include a host name")
    if ":" in host:  # IPv6 literal, already stripped of brackets by urlsplit
        if not re.fullmatch(r"[0-9a-f:.]+", host):
            raise ValueError("has a malformed IPv6 address")
        return host
    try:
        ascii_host = host.encode("idna").decode("ascii").lower()
    except UnicodeError as exc:
        raise ValueError("has a host name that is not a valid domain") from exc
    labels = ascii_host.rstrip(".").split(".")
    if len(ascii_host) > 253 or not all(_HOST_LABEL_RE.match(label) for label in labels):
        raise ValueError("has a host name that is not a valid domain")
    return ascii_host.rstrip(".")


def _mailto(rest: str) -> str:
    address, _, query = rest.partition("?")
    if not _EMAIL_RE.match(address):
        raise ValueError("a mailto link needs an address like mailto:name@example.com")
    local, _, domain = address.rpartition("@")
    normalised = f"mailto:{local}@{_host(domain)}"
    if query:
        normalised += "?" + quote(query, safe="=&%+-._~")
    return normalised


def _tel(rest: str) -> str:
    number = re.sub(r"[ ()]", "", rest)
    digits = sum(ch.isdigit() for ch in number)
    if not _TEL_RE.match(number) or not 3 <= digits <= 20:
        raise ValueError("a tel link needs a phone number like tel:+15551234567")
    return f"tel:{number}"


def phone(raw: str) -> str:
    """A phone number as a contact card carries it: ``+15551234567`` (spaces dropped)."""
    return _tel(raw.strip().removeprefix("tel:"))[4:]


def web_url(raw: str) -> str:
    """A web address (https or http) only, normalised like any link."""
    value = url(raw)
    if not value.startswith(("https://", "http://")):
        raise ValueError("must be a web address (https://…)")
    return value


def domain(raw: str) -> str:
    """A host name of the creator's own (``links.alice.example``): lower case, IDNA,
    two labels at least, no scheme, port, path or IP address."""
    value = raw.strip().lower().rstrip(".")
    if "://" in value or "/" in value or ":" in value or "@" in value:
        raise ValueError("give the host name alone, like links.example.com")
    if re.fullmatch(r"[0-9.]+", value):
        raise ValueError("must be a host name, not an IP address")
    host = _host(value)
    labels = host.split(".")
    if len(labels) < 2 or labels[-1].isdigit():
        raise ValueError("must be a full host name, like links.example.com")
    if host == "localhost" or host.endswith(".localhost"):
        raise ValueError("must be a public host name")
    return host


def media_path(raw: str) -> str:
    """An image stored with the site (``/_m/<hash>.webp``): never a third-party request."""
    value = raw.strip()
    if not re.fullmatch(r"/_m/[0-9a-f]{8,64}\.(?:webp|png|jpg|jpeg)", value):
        raise ValueError("must be an image stored with the site (give a file or URL to import)")
    return value


def media_or_url(raw: str) -> str:
    """An image reference: a site media path (``/_m/<hash>.<ext>``) or an http(s) URL."""
    value = raw.strip()
    if re.fullmatch(r"/_m/[0-9a-f]{8,64}\.(?:webp|png|jpg|jpeg|gif|svg)", value):
        return value
    normalised = url(value)
    if not normalised.startswith(("https://", "http://")):
        raise ValueError("an image must be an https:// URL or a /_m/ media path")
    return normalised


def loopback(url: str | None) -> bool:
    """Whether ``url`` points at this machine (127.0.0.0/8, ::1, localhost)."""
    import ipaddress

    host = (urlsplit(url).hostname or "") if url else ""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
