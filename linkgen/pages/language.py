"""The language a page speaks: its ``lang``/``dir`` and the page's own words.

A profile's language (else the site's) is a BCP 47 tag such as ``ja`` or
``pt-BR``; the page carries it as given, and its own words (warnings,
"Continue", the 404 page…) come from the gettext catalogue of the closest
language linkgen has — ``pt-BR`` reads ``pt`` — else stay English. The
catalogues are ``.po`` files under ``locales/``, read with Babel (which also
knows each language's writing direction and plural rules).
"""

from __future__ import annotations

import functools
import gettext
import hashlib
import io
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

from linkgen.pages.resources import builtin

DOMAIN = "linkgen"
SOURCE = "en"  # the language the templates are written in


def N_(message: str) -> str:
    """Marks a string for the catalogues without translating it (yet)."""
    return message


WARNINGS = {  # what a link's warning says, before the visitor goes on
    "18+": N_("This link is marked as for adults only (18+)."),
    "21+": N_("This link is marked as for people aged 21 or over."),
    "25+": N_("This link is marked as for people aged 25 or over."),
    "sensitive": N_("This link may show sensitive content."),
}
TAGS = {"sensitive": N_("sensitive")}  # the tag on such a link's button; ages stay as they are


class Speech(NamedTuple):
    """What a page needs to speak one language."""

    tag: str  # the lang attribute: "pt-BR"
    direction: str  # "ltr" or "rtl"
    og_locale: str  # Open Graph's form: "pt_BR"
    gettext: Callable[[str], str]
    ngettext: Callable[[str, str, int], str]
    warnings: dict[str, str]  # WARNINGS, translated
    tags: dict[str, str]  # TAGS, translated


def catalogue_dir() -> Path:
    return builtin("locales")


def _catalogue_files() -> dict[str, Path]:
    root = catalogue_dir()
    return {path.parents[1].name: path for path in sorted(root.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))}


@functools.cache
def translated() -> tuple[str, ...]:
    """The languages the page's words come in, English first."""
    return (SOURCE, *sorted(_catalogue_files()))


@functools.cache
def names() -> tuple[tuple[str, str], ...]:
    """Each translated language's tag and its own name for itself (ja: 日本語)."""
    from babel import Locale

    return tuple((tag, Locale.parse(tag).get_display_name() or tag) for tag in translated())


@functools.cache
def fingerprint() -> str:
    """A digest of every catalogue: a changed translation rebuilds the pages."""
    digest = hashlib.sha256()
    for name, path in sorted(_catalogue_files().items()):
        digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def normalize(raw: str) -> str:
    """``raw`` as a language tag in its usual spelling ("pt-br" → "pt-BR"), or
    ValueError when Babel knows no such language."""
    tag = raw.strip().replace("_", "-")
    if tag in translated():  # spelt as it should be: no need to ask Babel (start-up)
        return tag
    from babel import Locale, UnknownLocaleError

    try:
        locale = Locale.parse(tag, sep="-")
    except (UnknownLocaleError, ValueError):
        shown = ", ".join(translated())
        raise ValueError(
            f"'{raw[:20]}' is not a language linkgen knows; use a tag such as {shown} or pt-BR"
        ) from None
    return "-".join(p for p in (locale.language, locale.script, locale.territory) if p)


def _load(language: str) -> gettext.NullTranslations:
    path = _catalogue_files().get(language)
    if path is None:
        return gettext.NullTranslations()
    from babel.messages import mofile, pofile

    with path.open("rb") as handle:
        catalogue = pofile.read_po(handle, locale=language, domain=DOMAIN)
    compiled = io.BytesIO()
    mofile.write_mo(compiled, catalogue, use_fuzzy=False)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


# Written right to left (CLDR's character order, as Babel reads it): languages
# whose usual script is, and the scripts that are; a test holds these equal to
# Babel's for every locale it knows. Read here, a page's direction costs no
# locale data (Babel's takes 25 ms to load).
RTL_LANGUAGES = frozenset(
    {"apc", "ar", "ary", "bal", "bgn", "bqi", "brh", "ckb", "dv", "fa", "he", "ks", "lrc"}
    | {"mzn", "nqo", "ps", "rhg", "sd", "sdh", "skr", "syr", "trw", "ug", "ur", "yi"}
)
RTL_SCRIPTS = frozenset({"Adlm", "Arab", "Nkoo", "Rohg"})


def parts(tag: str) -> tuple[str, str | None, str | None]:
    """A normalized tag's language, script and territory ("zh-Hant-TW")."""
    language, *rest = tag.split("-")
    script = rest.pop(0) if rest and len(rest[0]) == 4 else None
    return language, script, rest[0] if rest else None


@functools.cache
def speech(tag: str) -> Speech:
    """How a page in ``tag`` speaks (``tag`` already normalized)."""
    language, script, territory = parts(tag)
    words = translated()
    identifier = "_".join(p for p in (language, script, territory) if p)  # pt_BR
    chosen = next(
        (name for name in (identifier, f"{language}_{script}", language) if name in words),
        SOURCE,
    )
    translations = _load(chosen)
    rtl = script in RTL_SCRIPTS if script else language in RTL_LANGUAGES
    return Speech(
        tag=tag,
        direction="rtl" if rtl else "ltr",
        og_locale=identifier,
        gettext=translations.gettext,
        ngettext=translations.ngettext,
        warnings={key: translations.gettext(text) for key, text in WARNINGS.items()},
        tags={key: translations.gettext(text) for key, text in TAGS.items()},
    )


def count(speech: Speech, number: int) -> str:
    """``number`` written as the page's language writes it (1,234 · 1.234 · 1 234)."""
    from babel.numbers import format_decimal

    return format_decimal(number, locale=speech.og_locale)
