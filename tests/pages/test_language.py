"""A page speaks its profile's language (else the site's): ``lang``, ``dir``, and
linkgen's own words on it from the gettext catalogues."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from linkgen import site as sites
from linkgen.build import build
from linkgen.errors import ConfigError
from linkgen.models import NewLink, ProfileFields, validate
from linkgen.pages import language
from tests.support.cli import Cli
from tests.support.html import page, parse

REPO = Path(__file__).resolve().parents[2]
REQUIRED = {"en", "es", "pt", "fr", "de", "ja", "ar"}
ENGLISH = ("Continue", "Go back", "Show the page", "No links yet.", "or over")


def words(tree: Any) -> str:
    """Every piece of text on the page, outside <style> and <script>."""
    body = tree.find("body")
    return " ".join(t.strip() for t in body.itertext() if t.strip())


def meta(tree: Any) -> dict[str, str]:
    head = tree.find("head")
    return {(m.get("property") or m.get("name")): m.get("content") for m in head.iter("meta")}


def jsonld(tree: Any) -> dict[str, Any]:
    return json.loads(tree.find("head").find("script").text)


def test_a_japanese_and_an_arabic_profile_carry_their_language_and_words(
    site: sites.Site, add_profile: Any
) -> None:
    add_profile(
        "haru", ("写真集", "https://example.com/book"), display_name="春", language="ja",
        sensitive="18+",
    )  # fmt: skip
    night = {"title": "夜の写真", "url": "https://example.com/night", "sensitive": "sensitive"}
    site.content.add_link("haru", validate(NewLink, night))
    add_profile("layla", display_name="ليلى", language="ar")
    prints = {"title": "متجر الملصقات", "url": "https://example.com/prints", "sensitive": "21+"}
    site.content.add_link("layla", validate(NewLink, prints))
    build(site)

    haru = parse(page(site, "haru"))
    assert haru.get("lang") == "ja" and haru.get("dir") is None
    text = words(haru)
    for said in (
        "続ける",
        "戻る",
        "このリンクにはセンシティブな内容が含まれる可能性があります。",
        "センシティブ",  # the tag on the link's button
        "このページは 18 歳以上の方向けです。",
        "18 歳以上です。ページを表示する",
    ):
        assert said in text, said
    assert not [english for english in ENGLISH if english in text]
    assert meta(haru)["og:locale"] == "ja"
    assert meta(haru)["og:image:alt"] == "linkgen の 春 (@haru)"
    assert jsonld(haru)["inLanguage"] == "ja"

    layla = parse(page(site, "layla"))
    assert layla.get("lang") == "ar" and layla.get("dir") == "rtl"
    text = words(layla)
    for said in ("متابعة", "رجوع", "هذا الرابط مخصّص لمن بلغوا 21 عامًا أو أكثر."):
        assert said in text, said
    assert not [english for english in ENGLISH if english in text]
    assert meta(layla)["description"] == "روابط ليلى (@layla)"
    assert jsonld(layla)["inLanguage"] == "ar"


def test_the_site_language_speaks_for_profiles_without_one_and_for_the_site_pages(
    site: sites.Site, add_profile: Any
) -> None:
    config = site.root / "linkgen.toml"
    config.write_text(config.read_text().replace('language = "en"', 'language = "de"'))
    site = sites.Site.open(site.root)
    add_profile("anna")
    add_profile("amelie", language="fr")
    build(site)
    anna = parse(page(site, "anna"))
    assert anna.get("lang") == "de" and "Noch keine Links." in words(anna)
    amelie = parse(page(site, "amelie"))
    assert amelie.get("lang") == "fr" and "Pas encore de liens." in words(amelie)
    missing = parse((site.build_dir / "404.html").read_text())
    assert missing.get("lang") == "de"
    assert missing.find("head").find("title").text == "Seite nicht gefunden · linkgen"
    assert "Prüfen Sie die Schreibweise des Namens." in words(missing)
    home = parse((site.build_dir / "index.html").read_text())
    assert home.get("lang") == "de"
    assert home.find("body").find("main").find("nav").get("aria-label") == "Profile"
    site.close()


def test_a_regional_tag_is_kept_on_the_page_and_reads_its_language(
    site: sites.Site, add_profile: Any
) -> None:
    profile = add_profile("bia", language="pt-br")
    assert profile.language == "pt-BR"  # spelt as BCP 47 spells it
    build(site)
    tree = parse(page(site, "bia"))
    assert tree.get("lang") == "pt-BR"
    assert meta(tree)["og:locale"] == "pt_BR"
    assert "Ainda não há links." in words(tree)


def test_a_language_linkgen_has_no_words_for_still_marks_the_page(
    site: sites.Site, add_profile: Any
) -> None:
    add_profile("sven", language="sv")
    build(site)
    tree = parse(page(site, "sven"))
    assert tree.get("lang") == "sv" and "No links yet." in words(tree)


def test_the_directory_counts_in_the_site_language(site: sites.Site, add_profile: Any) -> None:
    from linkgen.pages.render import Renderer

    config = site.root / "linkgen.toml"
    config.write_text(config.read_text().replace('language = "en"', 'language = "ar"'))
    site = sites.Site.open(site.root)
    renderer = Renderer(site.root, site.config, site.themes)
    text = words(parse(renderer.home(["ada"], 2).decode()))
    assert "و2 آخران" in text  # Arabic's dual
    assert "و5 أخرى" in words(parse(renderer.home(["ada"], 5).decode()))
    site.close()


def test_changing_the_language_rebuilds_that_page_only(site: sites.Site, add_profile: Any) -> None:
    add_profile("ada")
    add_profile("bob")
    build(site)
    site.content.update_profile("ada", validate(ProfileFields, {"language": "es"}))
    report = build(site)
    assert report.rendered == ["ada"]
    assert "Todavía no hay enlaces." in page(site, "ada")
    site.content.update_profile("ada", validate(ProfileFields, {"language": None}))
    assert build(site).rendered == ["ada"]
    assert parse(page(site, "ada")).get("lang") == "en"


def test_the_language_is_set_shown_exported_and_undone_from_the_cli(run: Cli) -> None:
    run("profile", "add", "ada", "--language", "JA")
    assert "language ja" in run("profile", "show", "ada").stdout
    exported = json.loads(run("export", "ada").stdout)
    assert exported["profile"]["language"] == "ja"
    run("profile", "set", "ada", "--language", "")
    assert run.json("profile", "show", "ada")["language"] is None
    run("undo", "ada")
    assert run.json("profile", "show", "ada")["language"] == "ja"
    history = run("history", "ada").stdout
    assert "language" in history


def test_an_unknown_site_language_is_a_config_error(site: sites.Site) -> None:
    config = site.root / "linkgen.toml"
    config.write_text(config.read_text().replace('language = "en"', 'language = "klingon"'))
    with pytest.raises(ConfigError, match="language: 'klingon' is not a language"):
        sites.Site.open(site.root)


def _extracted() -> dict[str, Any]:
    """The page's words as Babel finds them in the templates and linkgen/pages."""
    found: dict[str, Any] = {}
    sources = [
        (REPO / "templates", [("**.html", "jinja2")], {"extensions": "jinja2.ext.i18n"}),
        (REPO / "linkgen" / "pages", [("**.py", "python")], {}),
    ]
    for directory, method_map, options in sources:
        for _name, _line, message, _comments, _context in extract_from_dir(
            str(directory),
            method_map,
            options_map={pattern: options for pattern, _ in method_map},
            keywords={"_": None, "gettext": None, "ngettext": (1, 2), "N_": None},
        ):
            found[message if isinstance(message, str) else message[0]] = message
    return found


def _placeholders(text: str) -> set[str]:
    return set(re.findall(r"%\((\w+)\)s", text))


def test_every_catalogue_translates_every_word_the_pages_say() -> None:
    extracted = _extracted()
    assert "Continue" in extracted and "Page not found" in extracted
    assert "This link may show sensitive content." in extracted  # marked in code
    assert set(language.translated()) >= REQUIRED
    template = read_po((REPO / "locales" / "linkgen.pot").open("rb"))
    assert {m.id if isinstance(m.id, str) else m.id[0] for m in template if m.id} == set(
        extracted
    ), "locales/linkgen.pot is out of date: see docs/translating.md"
    for tag in sorted(REQUIRED - {"en"}):
        path = REPO / "locales" / tag / "LC_MESSAGES" / "linkgen.po"
        catalogue = read_po(path.open("rb"), locale=tag)
        assert catalogue.num_plurals >= 1
        for key, source in extracted.items():
            message = catalogue.get(source)
            assert message is not None, f"{tag}: no translation of {key!r}"
            assert not message.fuzzy, f"{tag}: {key!r} is marked fuzzy"
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            if isinstance(source, tuple):
                assert len(strings) == catalogue.num_plurals, f"{tag}: plural forms of {key!r}"
            for string in strings:
                assert string, f"{tag}: {key!r} is empty"
                assert _placeholders(string) == _placeholders(key), f"{tag}: {key!r}"


def test_every_language_babel_knows_gets_babels_direction_locale_and_words() -> None:
    from babel import Locale, localedata

    for identifier in localedata.locale_identifiers():
        tag = language.normalize(identifier)
        locale = Locale.parse(tag, sep="-")
        spoken = language.speech(tag)
        expected = "rtl" if locale.character_order == "right-to-left" else "ltr"
        assert spoken.direction == expected, tag
        assert spoken.og_locale == str(locale), tag
        assert language.parts(tag) == (locale.language, locale.script, locale.territory), tag
    assert language.speech("ar").direction == language.speech("pa-Arab").direction == "rtl"
    assert language.speech("pt-BR").gettext("Continue") != "Continue"  # read from pt
