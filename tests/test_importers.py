"""Importing from Linktree and LittleLink: fixture pages written here, in the shapes
those tools produce, round-tripped into built pages."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from linkgen import site as sites
from linkgen.build import build
from linkgen.cli import cli as cli_main
from tests.support.cli import Cli
from tests.support.files import serving
from tests.support.html import page, parse


def png(colour: str = "teal") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (240, 240), colour).save(out, format="PNG")
    return out.getvalue()


def linktree_page(images: str) -> str:
    """A saved linktr.ee profile: Next.js puts the page's props in __NEXT_DATA__."""
    account = {
        "id": 123,
        "username": "nova.sounds",
        "pageTitle": "Nova Sounds",
        "description": "Producer & DJ. New EP out Friday.",
        "profilePictureUrl": f"{images}/avatar.png",
        "contentWarning": None,
        "links": [],
        "socialLinks": [],
    }
    props = {
        "account": account,
        "username": "nova.sounds",
        "links": [
            {"id": 1, "type": "HEADER", "title": "Music", "position": 0, "url": ""},
            {
                "id": 2,
                "type": "CLASSIC",
                "title": "New EP: Night Drive",
                "position": 1,
                "url": "https://open.spotify.com/album/xyz",
                "modifiers": {"thumbnailUrl": f"{images}/ep.png"},
            },
            {
                "id": 3,
                "type": "CLASSIC",
                "title": "Tour dates",
                "position": 2,
                "url": "https://tickets.example.com/nova",
                "rules": {"gate": {"age": {"age": 21}, "sensitiveContent": None}},
            },
            {
                "id": 4,
                "type": "CLASSIC",
                "title": "Bad one",
                "position": 3,
                "url": "javascript:alert(1)",
            },
            {
                "id": 5,
                "type": "CLASSIC",
                "title": "Merch <script>alert(1)</script>",
                "position": 4,
                "url": "https://shop.example.com/nova",
                "modifiers": {"thumbnailUrl": f"{images}/missing.png"},
            },
        ],
        "socialLinks": [
            {"type": "INSTAGRAM", "url": "https://instagram.com/nova.sounds", "position": 0},
            {"type": "TIKTOK", "url": "https://www.tiktok.com/@nova.sounds", "position": 1},
        ],
        "hasSensitiveContent": False,
    }
    data = {"props": {"pageProps": props, "__N_SSP": True}, "page": "/[profile]", "query": {}}
    # Next.js writes "<" as \u003c inside the script, as any safe JSON-in-HTML must.
    payload = json.dumps(data).replace("<", "\\u003c")
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charSet="utf-8"/>'
        "<title>Nova Sounds | Linktree</title></head><body><div id=\"__next\"></div>"
        f'<script id="__NEXT_DATA__" type="application/json">{payload}</script>'
        "</body></html>"
    )  # fmt: skip


LITTLELINK = """<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Sam Rivera</title>
<link rel="stylesheet" href="css/brands.css"></head>
<body>
  <div class="container">
    <div class="column">
      <img class="avatar avatar--rounded" src="images/avatar.png" srcset="images/avatar@2x.png 2x" alt="Sam">
      <h1>Sam <strong>Rivera</strong></h1>
      <p>Illustrator. Comics every Tuesday.</p>
      <div class="button-stack" role="navigation">
        <a class="button button-github" href="https://github.com/samrivera" target="_blank" rel="noopener" role="button"><img class="icon" aria-hidden="true" src="images/icons/github.svg" alt="">GitHub</a>
        <a class="button button-yt" href="https://youtube.com/@samrivera" target="_blank" rel="noopener" role="button"><img class="icon" aria-hidden="true" src="images/icons/youtube.svg" alt="">YouTube</a>
        <a class="button button-default" href="#" target="_blank" rel="noopener" role="button">Website</a>
        <a class="button button-default" href="mailto:sam@example.com" role="button">Email</a>
      </div>
      <footer>Built with <a href="https://littlelink.io">LittleLink</a></footer>
    </div>
  </div>
</body>
</html>
"""


LOCAL_FETCHES = '\n[fetch]\nallow_networks = ["127.0.0.0/8"]\n'  # the test servers' network


@pytest.fixture
def origin(site: sites.Site) -> Iterator[str]:
    """Pages and images on a loopback server, which the site is set to fetch from."""
    with (site.root / "linkgen.toml").open("a", encoding="utf-8") as settings:
        settings.write(LOCAL_FETCHES)
    with serving() as files:
        files.put("/img/avatar.png", png(), "image/png")
        files.put("/img/ep.png", png("purple"), "image/png")
        files.put("/nova", linktree_page(f"{files.base}/img"))
        yield files.base


def check_page(site: sites.Site, username: str) -> Any:
    build(site)
    tree = parse(page(site, username))  # strict HTML5: the page works
    assert [s.get("type") for s in tree.iter("script")] == ["application/ld+json"]
    return tree


def test_a_saved_linktree_page_becomes_a_linkgen_page(
    run: Cli, site: sites.Site, origin: str, tmp_path: Path
) -> None:
    saved = tmp_path / "nova.html"
    saved.write_text(linktree_page(f"{origin}/img"))
    result = run("import-linktree", str(saved), "--theme", "midnight")
    assert (
        "imported @nova-sounds: 5 links (2 in the social row), 1 block, avatar stored"
        in result.stdout
    )
    assert "the Linktree username 'nova.sounds' is @nova-sounds here" in result.stderr
    assert "left out 'Music'" not in result.stderr  # a section header: a header block
    assert "left out 'Bad one'" in result.stderr and "javascript" in result.stderr
    assert "left out the thumbnail of 'Merch" in result.stderr and "404" in result.stderr
    profile = site.content.get("nova-sounds")
    assert (profile.display_name, profile.bio, profile.theme) == (
        "Nova Sounds", "Producer & DJ. New EP out Friday.", "midnight"
    )  # fmt: skip
    assert profile.avatar and profile.avatar.startswith("/_m/")
    links = {link.title: link for link in profile.links}
    assert links["New EP: Night Drive"].thumbnail.startswith("/_m/")  # type: ignore[union-attr]
    assert links["Tour dates"].sensitive == "21+"
    assert links["Instagram"].social and links["Tiktok"].social
    tree = check_page(site, "nova-sounds")
    titles = [span.text for span in tree.iter("span")]
    assert titles == ["New EP: Night Drive", "Tour dates", "Merch <script>alert(1)</script>"]
    assert len(tree.find(".//ul[@class='socials']")) == 2


def test_a_linktree_url_is_fetched(run: Cli, site: sites.Site, origin: str) -> None:
    run("import-linktree", f"{origin}/nova", "--username", "nova")
    assert [link.kind for link in site.content.get("nova").links].count("link") == 5
    failed = run("import-linktree", f"{origin}/gone", code=1)
    assert "the server answered 404" in failed.stderr and "Traceback" not in failed.stderr


def test_a_page_without_linktree_data_is_a_clear_error(run: Cli, tmp_path: Path) -> None:
    other = tmp_path / "other.html"
    other.write_text("<html><body><h1>Hello</h1></body></html>")
    assert "no Linktree profile data" in run("import-linktree", str(other), code=1).stderr


def test_a_littlelink_page_and_its_avatar_become_a_linkgen_page(
    run: Cli, site: sites.Site, tmp_path: Path
) -> None:
    folder = tmp_path / "littlelink"
    (folder / "images").mkdir(parents=True)
    (folder / "index.html").write_text(LITTLELINK)
    (folder / "images" / "avatar.png").write_bytes(png())
    result = run("import-littlelink", str(folder / "index.html"), "--username", "sam")
    assert "imported @sam: 3 links (0 in the social row), avatar stored" in result.stdout
    assert "left out 'Website': it links nowhere (#)" in result.stderr
    profile = site.content.get("sam")
    assert (profile.display_name, profile.bio) == (
        "Sam Rivera",
        "Illustrator. Comics every Tuesday.",
    )
    assert [link.url for link in profile.links] == [
        "https://github.com/samrivera",
        "https://youtube.com/@samrivera",
        "mailto:sam@example.com",
    ]
    tree = check_page(site, "sam")
    assert [use.get("href") for use in tree.iter("{http://www.w3.org/2000/svg}use")] == [
        "#i-github", "#i-youtube", "#i-email"
    ]  # fmt: skip
    again = run("import-littlelink", str(folder / "index.html"), "--username", "sam", code=1)
    assert "'sam' is taken" in again.stderr


@pytest.mark.parametrize(
    "data",
    [
        "[" * 100_000 + "]" * 100_000,  # deeper than any parser's stack
        json.dumps({"props": {"pageProps": {"links": ["a", "b", 3, None]}}}),
        json.dumps({"props": {"pageProps": {"username": "x", "links": [
            {"position": "2", "url": "https://a.example", "title": "A"},
            {"position": 1, "url": "https://b.example", "title": "B"},
            {"position": None, "url": ["not", "a", "url"], "title": {"t": 1}},
        ]}}}),
        json.dumps({"props": {"pageProps": {"account": "not an object", "username": 7}}}),
        json.dumps({"props": "nope"}),
        json.dumps([1, 2, 3]),
    ],
)  # fmt: skip
def test_hostile_linktree_data_is_a_clear_error_or_a_clean_import(
    run: Cli, site: sites.Site, tmp_path: Path, data: str
) -> None:
    page = tmp_path / "hostile.html"
    page.write_text(f'<script id="__NEXT_DATA__" type="application/json">{data}</script>')
    result = run.runner.invoke(
        cli_main, ["--site", str(site.root), "import-linktree", str(page), "--username", "h"]
    )
    assert result.exit_code in (0, 1), result.output
    assert "unexpected error" not in result.output and "Traceback" not in result.output
    if result.exit_code == 0:
        links = site.content.get("h").links
        assert [link.title for link in links] == ["B", "A"][: len(links)]


def test_linktree_headers_hidden_links_og_tags_and_its_tracking_tag(
    run: Cli, site: sites.Site, tmp_path: Path
) -> None:
    """A page whose account has no title or description (they come from its Open
    Graph tags), a section header, a hidden link, and Linktree's utm_source."""
    props = {"account": {"username": "kai"}, "links": [
        {"type": "HEADER", "title": "Listen", "position": 0},
        {"type": "CLASSIC", "title": "Album", "position": 1,
         "url": "https://music.example.com/a?utm_source=linktree&ref=bio#top"},
        {"type": "CLASSIC", "title": "Old shop", "position": 2, "isHidden": True,
         "url": "https://shop.example.com/?utm_source=linktree"},
        {"type": "HEADER", "title": "", "position": 3},
    ]}  # fmt: skip
    payload = json.dumps({"props": {"pageProps": props}})
    saved = tmp_path / "kai.html"
    saved.write_text(
        '<html><head><meta property="og:title" content="Kai Moana | Linktree">'
        '<meta property="og:description" content="Songs from the coast.">'
        f'</head><body><script id="__NEXT_DATA__" type="application/json">{payload}</script>'
        "</body></html>"
    )
    result = run("import-linktree", str(saved))
    assert "imported @kai: 2 links (0 in the social row), 1 block" in result.stdout
    assert "left out 'HEADER': it has no URL" in result.stderr  # a header without a title
    profile = site.content.get("kai")
    assert (profile.display_name, profile.bio) == ("Kai Moana", "Songs from the coast.")
    assert [(link.kind, link.title, link.url, link.enabled) for link in profile.links] == [
        ("header", "Listen", "", True),
        ("link", "Album", "https://music.example.com/a?ref=bio#top", True),
        ("link", "Old shop", "https://shop.example.com/", False),
    ]
    tree = check_page(site, "kai")
    assert [h2.text for h2 in tree.iter("h2")] == ["Listen"]
    assert [span.text for span in tree.iter("span")] == ["Album"]  # the hidden one is not shown


OLD_LITTLELINK = """<!DOCTYPE html>
<html><head><title>Rae</title></head>
<body><div class="container"><div class="column">
<nav><a href="/">home</a></nav>
<img class="profile-picture rounded" src="images/rae.png" alt="Rae">
<h1>Rae Kim</h1>
<p>Potter.</p>
<a class="button button-instagram" href="https://instagram.com/rae"><img class="icon" src="images/icons/instagram.svg" alt="">Instagram</a>
<footer><a href="https://littlelink.io">LittleLink</a></footer>
</div></div></body></html>
"""


def test_an_older_littlelink_page_gives_its_avatar_and_says_what_it_left(
    run: Cli, site: sites.Site, tmp_path: Path
) -> None:
    folder = tmp_path / "old"
    (folder / "images").mkdir(parents=True)
    (folder / "index.html").write_text(OLD_LITTLELINK)
    (folder / "images" / "rae.png").write_bytes(png("orange"))
    result = run("import-littlelink", str(folder / "index.html"), "--username", "rae")
    assert "imported @rae: 1 link (0 in the social row), avatar stored" in result.stdout
    assert "took the first picture before the name as the avatar" in result.stderr
    assert "left out 2 links that are not buttons" in result.stderr
    assert "left out the page's colours, fonts and button icons" in result.stderr
    profile = site.content.get("rae")
    assert profile.avatar and profile.avatar.startswith("/_m/")
    assert [link.title for link in profile.links] == ["Instagram"]
