"""Embeds: which links can be one, the facade (our thumbnail, fetched once by a
build from the provider's answer, hostile until checked), the player page and
its policy, the contact card as a vCard read back by a vCard library."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import vobject

from linkgen import site as sites
from linkgen.build import build
from linkgen.models import LinkChanges, NewLink, NewProfile, validate
from linkgen.pages import embeds
from linkgen.publish.objects import scan
from tests.support.files import Files, serving
from tests.support.pictures import image_bytes


@pytest.mark.parametrize(
    ("url", "provider", "player"),
    [
        ("https://www.youtube.com/watch?v=dQw4w9WgXcQ&t=1", "youtube",
         "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ?autoplay=1"),
        ("https://youtu.be/dQw4w9WgXcQ", "youtube",
         "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ?autoplay=1"),
        ("https://www.youtube.com/shorts/dQw4w9WgXcQ", "youtube",
         "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ?autoplay=1"),
        ("https://vimeo.com/76979871", "vimeo",
         "https://player.vimeo.com/video/76979871?dnt=1&autoplay=1"),
        ("https://open.spotify.com/intl-de/track/4uLU6hMCjMI75M1A2tKUQC", "spotify",
         "https://open.spotify.com/embed/track/4uLU6hMCjMI75M1A2tKUQC"),
        ("https://soundcloud.com/artist/a-track", "soundcloud",
         "https://w.soundcloud.com/player/?url=https%3A%2F%2Fsoundcloud.com%2Fartist%2Fa-track"
         "&auto_play=true"),
        ("https://music.apple.com/us/album/night-drive/1440833098", "applemusic",
         "https://embed.music.apple.com/us/album/night-drive/1440833098"),
        ("https://www.tiktok.com/@someone/video/7106594312292453675", "tiktok",
         "https://www.tiktok.com/embed/v2/7106594312292453675"),
        ("https://nova.bandcamp.com/album/night-drive", "bandcamp", None),
    ],
)  # fmt: skip
def test_each_provider_is_known_from_its_links(url: str, provider: str, player: str | None) -> None:
    found = embeds.provider(url)
    assert found is not None and (found.provider, found.player) == (provider, player)


@pytest.mark.parametrize(
    "url",
    [
        "https://www.youtube.com/@channel",
        "https://www.youtube.com/watch?v=short",
        "https://vimeo.com/channels/staffpicks",
        "http://youtu.be/dQw4w9WgXcQ",  # not over https
        "https://youtube.com.evil.example/watch?v=dQw4w9WgXcQ",
        "https://open.spotify.com/user/someone",
        "https://example.com/video.mp4",
    ],
)
def test_other_links_are_not_embeds(url: str) -> None:
    assert embeds.provider(url) is None


@pytest.fixture
def provider(site: sites.Site) -> Iterator[tuple[sites.Site, Files]]:
    """A stand-in for the providers' oEmbed endpoints and image hosts, on loopback."""
    with serving() as files:
        with (site.root / "linkgen.toml").open("a", encoding="utf-8") as settings:
            settings.write(
                '\n[fetch]\nallow_networks = ["127.0.0.0/8"]\n'
                f'\n[embeds]\noembed = {{ youtube = "{files.base}/yt", '
                f'spotify = "{files.base}/sp" }}\n'
            )
        opened = sites.Site.open(site.root)
        yield opened, files
        opened.close()


def _profile(site: sites.Site, *items: dict[str, Any]) -> list[str]:
    site.content.create_profile(validate(NewProfile, {"username": "alice"}))
    return [site.content.add_link("alice", validate(NewLink, item))[1].id for item in items]


CLIP = "https://www.youtube.com/watch?v=dQw4w9WgXcQ"
ALBUM = "https://open.spotify.com/album/4aawyAB9vmqN3uQ7FjRGTy"


def test_a_build_fetches_each_thumbnail_once_and_the_page_names_only_our_copy(
    provider: tuple[sites.Site, Files],
) -> None:
    site, files = provider
    files.put("/yt", json.dumps({"thumbnail_url": f"{files.base}/clip.jpg"}), "application/json")
    files.put("/sp", json.dumps({"thumbnail_url": f"{files.base}/cover.png"}), "application/json")
    files.put("/clip.jpg", image_bytes((200, 30, 30), (1280, 720), "JPEG"), "image/jpeg")
    files.put("/cover.png", image_bytes((30, 30, 200), (640, 640)), "image/png")
    clip, album = _profile(
        site, {"title": "Clip", "url": CLIP, "embed": True},
        {"title": "Album", "url": ALBUM, "embed": True},
    )  # fmt: skip
    build(site)
    page = (site.build_dir / "alice").read_text()
    for host in ("youtube.com", "youtube-nocookie", "ytimg", "spotify.com", files.base):
        assert host not in page  # the page names no provider's address, nor where art came from
    art = dict(site.database.conn.execute("SELECT url, media FROM embed_art").fetchall())
    assert set(art) == {CLIP, ALBUM} and all(ref.startswith("/_m/") for ref in art.values())
    assert f'<img src="{art[CLIP]}" width="320" height="180"' in page
    assert f'<img src="{art[ALBUM]}" width="96" height="96"' in page
    for ref in art.values():
        assert (site.build_dir / ref[1:]).is_file()  # copied into build/_m/
    profile_id = site.content.get("alice").id
    assert f'href="/_e/{profile_id}/{clip}"' in page and f'href="/_e/{profile_id}/{album}"' in page
    asked = sum(files.asked.values())
    site.content.update_profile("alice", validate_fields(bio="Edited"))
    build(site)
    assert sum(files.asked.values()) == asked  # fetched once, not at every build


def validate_fields(**fields: Any) -> Any:
    from linkgen.models import ProfileFields

    return validate(ProfileFields, fields)


@pytest.mark.parametrize(
    ("answer", "noted"),
    [
        ("{not json", "not oEmbed JSON"),
        (json.dumps(["a list"]), "names no thumbnail"),
        (json.dumps({"thumbnail_url": "javascript:alert(1)"}), "scheme 'javascript:'"),
        (json.dumps({"thumbnail_url": "{base}/page.html"}), "not an image"),
        ("x" * 70_000, "bytes"),
    ],
)
def test_a_hostile_or_broken_provider_leaves_a_play_mark_and_a_note(
    provider: tuple[sites.Site, Files], answer: str, noted: str
) -> None:
    site, files = provider
    files.put("/yt", answer.replace("{base}", files.base), "application/json")
    files.put("/page.html", "<p>not a picture</p>")
    _profile(site, {"title": "Clip", "url": CLIP, "embed": True})
    build(site)
    media, error = site.database.conn.execute("SELECT media, error FROM embed_art").fetchone()
    assert media is None and noted in error
    page = (site.build_dir / "alice").read_text()
    assert '<span class="art"></span>' in page  # the facade without a picture
    assert "javascript" not in page and files.base not in page
    asked = sum(files.asked.values())
    site.content.update_profile("alice", validate_fields(bio="Edited"))
    build(site)
    assert sum(files.asked.values()) == asked  # not asked again within a day
    with site.database.writing():
        site.database.conn.execute("UPDATE embed_art SET fetched_at = '2000-01-01T00:00:00Z'")
    site.content.update_profile("alice", validate_fields(bio="Edited again"))
    build(site)
    assert sum(files.asked.values()) > asked  # a day later it is tried again


def test_the_player_page_allows_that_providers_frame_and_nothing_else(site: sites.Site) -> None:
    clip, _, _ = _profile(
        site,
        {"title": "Clip", "url": CLIP, "embed": True},
        {"title": "Shop", "url": "https://shop.example.com"},
        {"title": "Camp", "url": "https://nova.bandcamp.com/album/night-drive", "embed": True},
    )
    build(site)
    profile_id = site.content.get("alice").id
    players = site.build_dir / "_e" / profile_id
    assert sorted(p.name for p in players.iterdir()) == [clip]  # Bandcamp opens its own page
    player = (players / clip).read_text()
    policy = (
        "default-src &#39;none&#39;; style-src &#39;unsafe-inline&#39;; img-src data:; "
        "frame-src https://www.youtube-nocookie.com; base-uri &#39;none&#39;; "
        "form-action &#39;none&#39;"
    )
    assert f'<meta http-equiv="Content-Security-Policy" content="{policy}">' in player
    assert '<iframe src="https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ?autoplay=1"' in player
    assert f'<a class="go" href="{CLIP}">Open on YouTube</a>' in player
    assert '<a class="back" href="/alice">' in player
    page = (site.build_dir / "alice").read_text()
    assert 'href="https://nova.bandcamp.com/album/night-drive"' in page
    # No longer an embed: its player goes; the profile gone: the folder goes.
    site.content.edit_link("alice", clip, validate(LinkChanges, {"embed": False}))
    build(site)
    assert not players.exists()
    site.content.edit_link("alice", clip, validate(LinkChanges, {"embed": True}))
    build(site)
    assert (players / clip).is_file()
    site.content.delete_profile("alice")
    build(site)
    assert not players.exists()


def test_the_contact_card_reads_back_as_written_and_goes_with_its_block(
    site: sites.Site,
) -> None:
    (card_id,) = _profile(site, {"kind": "contact", "contact": {
        "name": "Ana, María; \"Jr\" Ñúñez", "email": "ana@example.com",
        "phone": "+34 600 000 000", "organisation": "Estudio Ñ; Madrid",
        "url": "https://ana.example.com/" + "x" * 90,
    }})  # fmt: skip
    build(site)
    path = site.build_dir / "alice.vcf"
    raw = path.read_bytes()
    assert all(len(line) <= 75 for line in raw.split(b"\r\n"))  # folded
    card = vobject.readOne(raw.decode("utf-8"))
    assert card.version.value == "4.0"
    assert card.fn.value == 'Ana, María; "Jr" Ñúñez'
    assert card.email.value == "ana@example.com"
    assert card.tel.value == "tel:+34600000000"
    assert card.org.value == ["Estudio Ñ; Madrid"]
    assert card.url.value == "https://ana.example.com/" + "x" * 90
    page = (site.build_dir / "alice").read_text()
    assert '<a class="save" href="/alice.vcf" download>Save contact</a>' in page
    owners = {"alice": site.content.get("alice").id}
    described = {obj.name: obj for obj in scan(site.build_dir, owners)}["alice.vcf"]
    assert described.content_type == "text/vcard; charset=utf-8"
    assert described.surrogate_keys == f"p-{owners['alice']} all"
    site.content.rename_profile("alice", "ana")
    build(site)
    assert not path.exists() and (site.build_dir / "ana.vcf").is_file()
    site.content.remove_link("ana", card_id)
    build(site)
    assert not (site.build_dir / "ana.vcf").exists()


def test_the_players_are_published_under_their_profiles_key(site: sites.Site) -> None:
    (clip,) = _profile(site, {"title": "Clip", "url": CLIP, "embed": True})
    build(site)
    owner = site.content.get("alice").id
    found = {obj.name: obj for obj in scan(site.build_dir, {"alice": owner})}
    player = found[f"_e/{owner}/{clip}"]
    assert player.content_type == "text/html; charset=utf-8"
    assert player.surrogate_keys == f"p-{owner} all"
    assert found["alice"].surrogate_keys == player.surrogate_keys  # purged together


def test_embeds_and_blocks_cost_nothing_on_a_page_without_them(
    site: sites.Site, tmp_path: Path
) -> None:
    _profile(site, {"title": "Shop", "url": "https://shop.example.com"})
    build(site)
    page = (site.build_dir / "alice").read_text()
    for absent in (".embed", ".contact", ".group", ".featured", "data:image/svg+xml"):
        assert absent not in page
    assert not (site.build_dir / "_e").exists()
