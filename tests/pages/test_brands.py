from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from linkgen import site as sites
from linkgen.build import build
from linkgen.errors import InvalidInput
from linkgen.models import LinkChanges, NewLink, validate
from linkgen.pages import brands, icons
from tests.support.html import page, parse

SVG = "{http://www.w3.org/2000/svg}"

# (a link as creators paste it, the brand expected)
URL_SHAPES = [
    ("https://www.instagram.com/alice/", "instagram"),
    ("https://instagram.com/alice", "instagram"),
    ("https://m.instagram.com/alice", "instagram"),
    ("https://instagr.am/p/abc", "instagram"),
    ("https://www.youtube.com/@alice", "youtube"),
    ("https://youtube.com/channel/UC123", "youtube"),
    ("https://m.youtube.com/watch?v=abc", "youtube"),
    ("https://youtu.be/dQw4w9WgXcQ", "youtube"),
    ("https://music.youtube.com/playlist?list=x", "youtube"),
    ("https://www.tiktok.com/@alice", "tiktok"),
    ("https://vm.tiktok.com/ZMabc/", "tiktok"),
    ("https://m.tiktok.com/v/123.html", "tiktok"),
    ("https://x.com/alice", "x"),
    ("https://twitter.com/alice", "x"),
    ("https://mobile.twitter.com/alice", "x"),
    ("https://www.twitter.com/alice/status/1", "x"),
    ("https://github.com/alice", "github"),
    ("https://www.github.com/alice/repo", "github"),
    ("https://gist.github.com/alice/123", "github"),
    ("https://www.linkedin.com/in/alice", "linkedin"),
    ("https://linkedin.com/company/acme", "linkedin"),
    ("https://uk.linkedin.com/in/alice", "linkedin"),
    ("https://lnkd.in/abc", "linkedin"),
    ("https://open.spotify.com/artist/123", "spotify"),
    ("https://spotify.link/abc", "spotify"),
    ("https://www.twitch.tv/alice", "twitch"),
    ("https://m.twitch.tv/alice", "twitch"),
    ("https://www.facebook.com/alice", "facebook"),
    ("https://m.facebook.com/alice", "facebook"),
    ("https://fb.me/alice", "facebook"),
    ("https://www.threads.net/@alice", "threads"),
    ("https://bsky.app/profile/alice.bsky.social", "bluesky"),
    ("https://soundcloud.com/alice", "soundcloud"),
    ("https://alice.bandcamp.com/album/x", "bandcamp"),
    ("https://www.pinterest.com/alice/", "pinterest"),
    ("https://pin.it/abc", "pinterest"),
    ("https://www.snapchat.com/add/alice", "snapchat"),
    ("https://www.reddit.com/user/alice", "reddit"),
    ("https://discord.gg/abc", "discord"),
    ("https://t.me/alice", "telegram"),
    ("https://wa.me/15551234567", "whatsapp"),
    ("https://www.patreon.com/alice", "patreon"),
    ("https://ko-fi.com/alice", "kofi"),
    ("https://buymeacoffee.com/alice", "buymeacoffee"),
    ("https://alice.substack.com/", "substack"),
    ("https://medium.com/@alice", "medium"),
    ("https://vimeo.com/123", "vimeo"),
    ("https://music.apple.com/us/artist/x/1", "applemusic"),
    ("https://podcasts.apple.com/us/podcast/x/id1", "applepodcasts"),
    ("https://mastodon.social/@alice", "mastodon"),
    ("https://hachyderm.io/@alice", "mastodon"),  # any instance: the /@name profile path
    ("https://fosstodon.org/@alice/", "mastodon"),
    ("https://www.figma.com/@alice", "figma"),  # any Simple Icons brand by its host name
    ("https://calendly.com/alice/30min", "calendly"),
    ("https://www.etsy.com/shop/alice", "etsy"),
    ("mailto:alice@example.com", "email"),
    ("tel:+15551234567", "phone"),
    ("https://example.com/shop", None),
    ("https://alice.dev/", None),
    ("https://shop.example.co.uk/x", None),
    ("http://192.0.2.1/page", None),
    ("https://notyoutube.com/", None),
    ("https://youtube.com.evil.example/", None),
]


@pytest.mark.parametrize(("url", "brand"), URL_SHAPES)
def test_the_brand_is_detected_from_the_url(url: str, brand: str | None) -> None:
    assert brands.detect(url) == brand


def test_enough_real_world_shapes_are_covered() -> None:
    assert len(URL_SHAPES) >= 50


def test_every_detected_brand_has_an_icon() -> None:
    book = icons.IconBook()
    for url, brand in URL_SHAPES:
        if brand is not None:
            icon = book.get(brand)
            assert icon.slug == brand and icon.path.startswith("M"), url


def test_simple_icons_are_cached_for_the_next_build(tmp_path: Path) -> None:
    cache = tmp_path / "icons.json"
    first = icons.IconBook(cache).get("figma")  # not one of the bundled brands
    assert first.title == "Figma" and "figma" in cache.read_text()
    assert icons.IconBook(cache).get("figma") == first
    assert "youtube" not in cache.read_text()  # bundled: never copied to a site


def test_a_page_draws_each_icon_once_and_uses_it_everywhere(
    site: sites.Site, add_profile: Any
) -> None:
    add_profile(
        "alice",
        ("YouTube", "https://youtube.com/@alice"),
        ("Latest video", "https://youtu.be/abc"),
        ("Shop", "https://example.com/shop"),
    )
    for title, url in [("Instagram", "instagram.com/alice"), ("GitHub", "github.com/alice")]:
        site.content.add_link(
            "alice", validate(NewLink, {"title": title, "url": url, "social": True})
        )
    build(site)
    html = page(site, "alice")
    tree = parse(html)
    symbols = [s.get("id") for s in tree.iter(f"{SVG}symbol")]
    assert sorted(symbols) == ["i-github", "i-instagram", "i-youtube"]
    uses = [u.get("href") for u in tree.iter(f"{SVG}use")]
    assert uses.count("#i-youtube") == 2 and len(uses) == 4
    row = tree.find(".//ul[@class='socials']")
    labels = [(a.get("aria-label"), a.get("rel")) for a in row.iter("a")]
    assert labels == [("Instagram", "me"), ("GitHub", "me")]
    buttons = [a.find("span").text for a in tree.find(".//ul[@class='links']").iter("a")]
    assert buttons == ["YouTube", "Latest video", "Shop"]  # the social row is not repeated


def test_the_creator_can_change_or_remove_the_icon(site: sites.Site, add_profile: Any) -> None:
    profile = add_profile("alice", ("Videos", "https://youtube.com/@alice"))
    link_id = profile.links[0].id
    site.content.edit_link("alice", link_id, validate(LinkChanges, {"icon": "vimeo"}))
    build(site)
    assert 'id="i-vimeo"' in page(site, "alice") and "i-youtube" not in page(site, "alice")
    site.content.edit_link("alice", link_id, validate(LinkChanges, {"icon": "none"}))
    build(site)
    assert "<use" not in page(site, "alice")
    with pytest.raises(InvalidInput, match=r"no brand icon 'youtub'; did you mean youtube\?"):
        validate(LinkChanges, {"icon": "youtub"})


def test_a_sensitive_link_warns_first_and_continues_with_one_tap(
    site: sites.Site, add_profile: Any
) -> None:
    add_profile("alice", ("Shop", "https://example.com/shop"))
    _, late = site.content.add_link(
        "alice",
        validate(
            NewLink, {"title": "Late show", "url": "https://example.com/late", "sensitive": "21+"}
        ),
    )
    build(site)
    tree = parse(page(site, "alice"))
    button = next(a for a in tree.iter("a") if a.findtext("span") == "Late show")
    assert button.get("href") == f"#w-{late.id}" and button.findtext("small") == "21+"
    warning = tree.find(f".//div[@id='w-{late.id}']")
    assert "aged 21 or over" in "".join(warning.itertext())
    go = warning.find(".//a[@class='go']")
    assert go.get("href") == "https://example.com/late"  # one tap on, no script anywhere
    assert [s.get("type") for s in tree.iter("script")] == ["application/ld+json"]


def test_a_sensitive_profile_shows_its_warning_before_the_page(
    site: sites.Site, add_profile: Any
) -> None:
    add_profile("alice", ("Shop", "https://example.com/shop"), sensitive="18+")
    build(site)
    tree = parse(page(site, "alice"))
    assert tree.find(".//main").get("class") == "gated"
    gate = tree.find(".//div[@class='gate']")
    assert gate.find("a").get("href") == "#page" and "18 or over" in "".join(gate.itertext())


def test_the_bundled_icons_are_what_simple_icons_has_now() -> None:
    """linkgen/pages/bundled_icons.json is regenerated with `python -m linkgen.pages.icons`."""
    import json

    from linkgen.pages.brands import curated

    shipped = json.loads(icons.BUNDLED.read_text())
    assert shipped == icons.extract(curated())
    assert set(curated()) - set(shipped) <= set(icons.FALLBACK)  # e.g. linkedin
