from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from PIL import Image

from linkgen import site as sites
from linkgen.build import build
from linkgen.models import NewLink, ProfileFields, validate
from tests.support.cli import Cli
from tests.support.html import page


def og_image(site: sites.Site, username: str) -> str:
    match = re.search(r'<meta property="og:image" content="([^"]+)"', page(site, username))
    assert match
    return match.group(1)


def built(site: sites.Site, url: str) -> Path:
    return site.build_dir / url.removeprefix(site.config.site.url + "/")


def test_each_profile_gets_its_own_card_for_link_previews(
    site: sites.Site, add_profile: Any
) -> None:
    add_profile("alice", display_name="Alice Liddell", theme="ocean")
    add_profile("bob", display_name="Bob")
    build(site)
    alice, bob = og_image(site, "alice"), og_image(site, "bob")
    assert alice != bob and alice.endswith(".jpg")
    card = Image.open(built(site, alice))
    assert (card.format, card.size) == ("JPEG", (1200, 630))
    corner = card.getpixel((5, 5))
    assert all(abs(got - want) <= 6 for got, want in zip(corner, (6, 50, 74), strict=True))


def test_a_card_is_drawn_again_only_when_what_it_shows_changes(
    site: sites.Site, add_profile: Any
) -> None:
    add_profile("alice", display_name="Alice")
    build(site)
    first = og_image(site, "alice")
    site.content.add_link("alice", validate(NewLink, {"title": "Shop", "url": "example.com"}))
    build(site)
    assert og_image(site, "alice") == first  # a link is not on the card
    site.content.update_profile("alice", validate(ProfileFields, {"display_name": "Alice L."}))
    build(site)
    assert og_image(site, "alice") != first
    assert built(site, og_image(site, "alice")).is_file()


def test_the_creators_own_social_image_wins(
    run: Cli, site: sites.Site, add_profile: Any, tmp_path: Path
) -> None:
    add_profile("alice")
    poster = tmp_path / "poster.png"
    Image.new("RGB", (1600, 900), "navy").save(poster)
    run("profile", "set", "alice", "--social-image", str(poster))
    build(site)
    image = Image.open(built(site, og_image(site, "alice")))
    assert (image.format, image.size) == ("JPEG", (1200, 630))
    assert og_image(site, "alice").endswith(site.content.get("alice").social_image or "?")


def test_cards_can_be_turned_off(
    tmp_path: Path, monkeypatch: Any, add_profile: Any, site: sites.Site
) -> None:
    monkeypatch.setenv("LINKGEN_BUILD__SOCIAL_CARDS", "false")
    quiet = sites.Site.open(site.root)
    add_profile("alice")
    build(quiet)
    assert og_image(quiet, "alice").endswith(".png")  # the site's one card
    assert not list((quiet.build_dir / "_m").glob("*.jpg"))
    quiet.close()


def test_cards_left_from_earlier_builds_are_not_copied_once_cards_are_off(
    monkeypatch: Any, add_profile: Any, site: sites.Site
) -> None:
    import shutil

    add_profile("alice", display_name="Alice")
    build(site)  # with cards: drawn into site_data/media/ and copied
    assert list((site.build_dir / "_m").glob("*.jpg"))
    monkeypatch.setenv("LINKGEN_BUILD__SOCIAL_CARDS", "false")
    quiet = sites.Site.open(site.root)
    shutil.rmtree(quiet.build_dir)  # a fresh runner's build/
    build(quiet)
    assert list(quiet.media_dir.glob("*.jpg"))  # still there, until `media prune`
    assert not list((quiet.build_dir / "_m").glob("*.jpg"))  # never published
    assert og_image(quiet, "alice").endswith(".png")
    quiet.close()


def test_cards_are_published_before_the_pages_that_show_them(
    site: sites.Site, add_profile: Any
) -> None:
    from linkgen.publish.run import publish

    add_profile("alice", display_name="Alice")
    build(site)
    first = publish(site)
    card = og_image(site, "alice").removeprefix(site.config.site.url + "/")
    assert first.ok and card in first.uploaded
    assert first.uploaded.index(card) < first.uploaded.index("alice")  # media go first
    assert (site.root / "published" / card).read_bytes() == built(
        site, og_image(site, "alice")
    ).read_bytes()
    build(site)
    assert publish(site).uploaded == []  # drawn once, sent once
