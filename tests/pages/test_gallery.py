"""The theme gallery: every theme rendered by the real renderer, in one file."""

from __future__ import annotations

import html
import re

from linkgen import site as sites
from linkgen.pages.gallery import SAMPLE_LINKS, render_gallery
from tests.support.hostile import XSS
from tests.support.html import parse


def frames(page: str) -> dict[str, str]:
    """theme slug -> the page shown in its frame, unescaped."""
    found = re.findall(r'<li id="([^"]+)">.*?<iframe [^>]*srcdoc="([^"]*)"', page, re.S)
    return {slug: html.unescape(srcdoc) for slug, srcdoc in found}


def test_each_theme_shows_the_sample_profile_as_a_real_page(site: sites.Site) -> None:
    page = render_gallery(site.renderer(), site.themes).decode("utf-8")
    parse(page)
    shown = frames(page)
    assert sorted(shown) == sorted(site.themes)
    for slug, inner in shown.items():
        parse(inner)  # a whole page of its own, its styles kept apart
        assert [title for title, _ in SAMPLE_LINKS if title in inner] == [
            title for title, _ in SAMPLE_LINKS
        ], slug
        assert site.themes[slug].tokens.name in inner
    assert "<script" not in page.replace('<script type="application/ld+json">', "")


def test_a_sites_own_theme_is_shown_and_its_text_escaped(site: sites.Site) -> None:
    theme = (
        f"name = '{XSS[1]}'\ndescription = '{XSS[0]}'\n"
        "font = 'system'\nbutton_shape = 'rounded'\nbutton_style = 'soft'\n"
        "[colours]\nbackground = '#f3f4f7'\ntext = '#16181d'\nmuted = '#4a4f5c'\n"
        "button = '#ffffff'\nbutton_text = '#16181d'\n"
    )
    (site.root / "themes" / "mine.toml").write_text(theme, encoding="utf-8")
    reopened = sites.Site.open(site.root)
    page = render_gallery(reopened.renderer(), reopened.themes).decode("utf-8")
    parse(page)
    assert "mine" in frames(page)
    assert "<script>alert(1)</script>" not in page and "<img src=x" not in page
    assert html.escape(XSS[0], quote=False) in html.unescape(page)  # in its frame, as text
    reopened.close()
