"""Built pages: valid HTML5, every tag a profile page needs, hostile text inert."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import markupsafe
import pytest
from markupsafe import Markup

from linkgen import site as sites
from linkgen.build import build
from linkgen.errors import ConfigError
from linkgen.models import NewLink, NewProfile, ProfileFields, validate
from linkgen.pages import templating
from tests.support.hostile import XSS
from tests.support.html import page, parse


def test_a_profile_page_carries_every_tag(site: sites.Site, add_profile: Any) -> None:
    add_profile(
        "alice",
        ("Shop", "https://example.com/shop"),
        ("GitHub", "https://github.com/alice"),
        ("Mail", "mailto:alice@example.com"),
        display_name="Alice",
        bio="Maker of things",
    )
    build(site)
    html = page(site, "alice")
    tree = parse(html)
    head = tree.find("head")
    meta = {(m.get("property") or m.get("name")): m.get("content") for m in head.iter("meta")}
    url = "http://127.0.0.1:8000/alice"
    assert tree.get("lang") == "en"
    assert head.find("title").text == "Alice (@alice)"
    assert meta["description"] == "Maker of things"
    assert head.find("link[@rel='canonical']").get("href") == url
    assert meta["og:title"] == "Alice (@alice)"
    assert meta["og:description"] == "Maker of things"
    assert meta["og:url"] == url
    assert meta["og:type"] == "profile"
    assert meta["og:image"].startswith("http://127.0.0.1:8000/_m/")
    assert (site.build_dir / meta["og:image"].removeprefix("http://127.0.0.1:8000/")).is_file()
    for tag in ("twitter:card", "twitter:title", "twitter:description", "twitter:image"):
        assert meta[tag]
    scripts = list(tree.iter("script"))
    assert [s.get("type") for s in scripts] == ["application/ld+json"]
    data = json.loads(scripts[0].text)
    assert data["@type"] == "ProfilePage" and data["mainEntity"]["name"] == "Alice"
    assert data["mainEntity"]["sameAs"] == ["https://github.com/alice"]
    anchors = {a.findtext("span"): a for a in tree.iter("a") if a.find("span") is not None}
    assert anchors["GitHub"].get("rel") == "me"
    assert anchors["Shop"].get("rel") is None
    assert anchors["Mail"].get("href") == "mailto:alice@example.com"
    assert "<style>" in html and '<link rel="stylesheet"' not in html


def test_links_go_through_the_redirector_when_configured(
    site: sites.Site, add_profile: Any
) -> None:
    (site.root / "linkgen.toml").write_text(
        '[site]\nurl = "https://links.example"\n[redirector]\nbase_url = "https://go.example/"\n'
    )
    site = sites.Site.open(site.root)
    profile = add_profile("alice", ("Shop", "https://example.com/shop"))
    build(site)
    html = page(site, "alice")
    assert f'href="https://go.example/r/{profile.links[0].id}"' in html
    assert "https://example.com/shop" not in html.split("</head>")[1]
    assert '<link rel="canonical" href="https://links.example/alice">' in html
    # the view beacon: an image, no JavaScript
    assert f'<img class="beacon" src="https://go.example/v/{profile.id}" alt=""' in html
    site.close()


def test_no_beacon_without_a_redirector(site: sites.Site, add_profile: Any) -> None:
    add_profile("alice", ("Shop", "https://example.com/shop"))
    build(site)
    html = page(site, "alice")
    assert "/v/" not in html and "beacon" not in html.split("<body")[1]


@pytest.mark.parametrize("payload", XSS)
def test_hostile_text_is_inert_in_every_field(
    site: sites.Site, payload: str, tmp_path: Path
) -> None:
    title = payload[:100]
    compact = payload.replace(" ", "")[:50]  # URLs cannot hold spaces
    site.content.create_profile(
        validate(
            NewProfile,
            {
                "username": "mallory",
                "display_name": payload[:80],
                "bio": payload,
                "seo_title": payload[:70],
                "seo_description": payload,
                "avatar": "https://example.com/a.png?" + compact,
            },
        )
    )
    site.content.add_link(
        "mallory",
        validate(
            NewLink,
            {
                "title": title,
                "url": "https://example.com/?q=" + compact,
                "thumbnail": "https://example.com/t.png#" + compact,
            },
        ),
    )
    site.content.add_link("mallory", validate(NewLink, {"title": "github", "url": "github.com/x"}))
    build(site)
    html = page(site, "mallory")
    tree = parse(html)  # strict: raises on any parse error
    assert [s.get("type") for s in tree.iter("script")] == ["application/ld+json"]
    for element in tree.iter():
        for name in element.attrib:
            assert not name.lower().startswith("on"), f"event handler attribute {name}"
    assert len(list(tree.iter("style"))) == 1
    images = list(tree.iter("img"))
    assert len(images) == 2  # the avatar and the thumbnail, nothing injected
    assert all(img.get("src").startswith("https://example.com/") for img in images)
    assert "<script>alert" not in html and "<svg onload" not in html and "<img src=x" not in html
    drawn = [svg.get("class") for svg in tree.iter("{http://www.w3.org/2000/svg}svg")]
    assert drawn == ["sprite", "icon"]  # github's icon, nothing injected
    data = json.loads(next(tree.iter("script")).text)
    shown = payload[:80].replace("\u202e", "").strip()  # a right-to-left override is removed
    assert data["mainEntity"]["name"] == shown
    assert tree.find(".//h1").text == shown
    not_found = (site.build_dir / "404.html").read_text()
    parse(not_found)


def test_non_latin_and_long_text_render_and_parse(site: sites.Site, add_profile: Any) -> None:
    add_profile(
        "kenji",
        ("写真集「夜の街」", "https://example.jp/zine"),
        ("النشرة الأسبوعية", "https://example.org/letter"),
        display_name="山田 健二",
        bio="東京のフォトグラファー " * 10,
        theme="midnight",
    )
    build(site)
    tree = parse(page(site, "kenji"))
    assert tree.find(".//h1").text == "山田 健二"
    assert tree.find(".//h1").get("dir") == "auto"
    assert "linear-gradient(160deg" in page(site, "kenji")


def test_site_files_sitemap_robots_and_404(site: sites.Site, add_profile: Any) -> None:
    add_profile("alice")
    add_profile("bob")
    build(site)
    sitemap = (site.build_dir / "sitemap.xml").read_text()
    assert re.findall(r"<loc>([^<]+)</loc>", sitemap) == [
        "http://127.0.0.1:8000/alice",
        "http://127.0.0.1:8000/bob",
    ]
    robots = (site.build_dir / "robots.txt").read_text()
    assert "Sitemap: http://127.0.0.1:8000/sitemap.xml" in robots
    assert "Disallow: /r/" in robots
    parse((site.build_dir / "404.html").read_text())


def test_past_50000_urls_the_sitemap_becomes_an_index(
    site: sites.Site, add_profile: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from linkgen.pages import sitemap

    monkeypatch.setattr(sitemap, "MAX_URLS", 4)
    monkeypatch.setattr(sitemap, "PART_SIZE", 3)
    for n in range(7):
        add_profile(f"user{n}")
    build(site)
    index = (site.build_dir / "sitemap.xml").read_text()
    assert "<sitemapindex" in index
    parts = re.findall(r"<loc>http://127.0.0.1:8000/(sitemap-\d+\.xml)</loc>", index)
    assert parts == ["sitemap-1.xml", "sitemap-2.xml", "sitemap-3.xml"]
    urls = [
        loc
        for part in parts
        for loc in re.findall(r"<loc>([^<]+)</loc>", (site.build_dir / part).read_text())
    ]
    assert sorted(urls) == sorted(f"http://127.0.0.1:8000/user{n}" for n in range(7))
    # An edit rewrites only its own part (and the index).
    site.content.update_profile("user4", ProfileFields(bio="x"))
    report = build(site)
    assert set(report.site_files) <= {"sitemap.xml", "sitemap-2.xml"}
    # Shrinking below the limit goes back to one file and removes the parts.
    for n in range(4):
        site.content.delete_profile(f"user{n}")
    report = build(site)
    assert "<urlset" in (site.build_dir / "sitemap.xml").read_text()
    assert not list(site.build_dir.glob("sitemap-*.xml"))


def test_every_robots_parser_reads_the_same_rules(site: sites.Site, add_profile: Any) -> None:
    """Parsers that take the first matching line (Python's, older crawlers) and the
    longest-match ones (Google's) agree: pages yes, clicks and views no."""
    import urllib.robotparser

    add_profile("alice")
    build(site)
    rules = urllib.robotparser.RobotFileParser()
    rules.parse((site.build_dir / "robots.txt").read_text().splitlines())
    base = "http://127.0.0.1:8000"
    assert rules.can_fetch("AnyBot", f"{base}/alice")
    assert not rules.can_fetch("AnyBot", f"{base}/r/abcdefghijkl")
    assert not rules.can_fetch("AnyBot", f"{base}/v/abcdefghijkl")
    assert rules.site_maps() == [f"{base}/sitemap.xml"]


def test_link_previews_read_by_an_independent_parser_are_complete(
    site: sites.Site, add_profile: Any
) -> None:
    """extruct reads what Facebook, Slack or a search engine would: the image with
    its size, type and alt; the person with their picture and own profiles."""
    import extruct

    add_profile(
        "alice",
        ("Shop", "https://shop.example.com"),
        ("GitHub", "https://github.com/alice"),
        display_name="Alice",
        bio="Maker",
    )
    for title, url, warning in (
        ("Mastodon", "https://mastodon.social/@alice", None),
        ("Instagram", "https://www.instagram.com/alice", None),
        ("OnlyFans", "https://onlyfans.com/alice", "18+"),
    ):
        site.content.add_link(
            "alice",
            validate(NewLink, {"title": title, "url": url, "social": True, "sensitive": warning}),
        )
    build(site)
    found = extruct.extract(
        page(site, "alice"),
        base_url="http://127.0.0.1:8000/alice",
        syntaxes=["opengraph", "json-ld"],
    )
    (graph,) = found["opengraph"]
    og = dict(graph["properties"])
    assert og["og:image"].startswith("http://127.0.0.1:8000/_m/")
    assert (og["og:image:width"], og["og:image:height"]) == ("1200", "630")
    assert og["og:image:type"] == "image/jpeg" and og["og:image:alt"] == "Alice (@alice) on linkgen"
    (data,) = found["json-ld"]
    assert data["@type"] == "ProfilePage" and data["dateCreated"] and data["dateModified"]
    # the social row, never a link behind a warning (the GitHub button is not in it)
    assert data["mainEntity"]["sameAs"] == [
        "https://mastodon.social/@alice",
        "https://www.instagram.com/alice",
    ]


def test_without_cards_the_preview_is_the_avatar_or_the_sites_card_with_its_size(
    site: sites.Site, add_profile: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import extruct

    monkeypatch.setenv("LINKGEN_BUILD__SOCIAL_CARDS", "false")
    add_profile("bob", display_name="Bob")
    build(sites.Site.open(site.root))
    (graph,) = extruct.extract(page(site, "bob"), syntaxes=["opengraph"])["opengraph"]
    og = dict(graph["properties"])
    assert og["og:image"].endswith(".png") and og["og:image:type"] == "image/png"
    assert int(og["og:image:width"]) > 0 and int(og["og:image:height"]) > 0


def test_the_site_home_page_lists_the_profiles_by_username(
    site: sites.Site, add_profile: Any
) -> None:
    add_profile("bob", display_name="Bob")
    add_profile("alice", display_name="Alice")
    build(site)
    home = parse((site.build_dir / "index.html").read_text())
    links = [a.get("href") for a in home.iter("a")]
    assert links == ["http://127.0.0.1:8000/alice", "http://127.0.0.1:8000/bob"]
    # An edit of a profile leaves it alone; a new profile is listed.
    site.content.update_profile("alice", ProfileFields(display_name="Alice L."))
    assert "index.html" not in build(site).site_files
    add_profile("carol")
    assert "index.html" in build(site).site_files
    assert "/carol" in (site.build_dir / "index.html").read_text()


def test_the_home_page_can_be_a_profile_or_a_redirect(site: sites.Site, add_profile: Any) -> None:
    add_profile("alice", display_name="Alice")
    (site.root / "linkgen.toml").write_text('[site]\nhome = "@alice"\n')
    chosen = sites.Site.open(site.root)
    build(chosen)
    assert (chosen.build_dir / "index.html").read_bytes() == (
        chosen.build_dir / "alice"
    ).read_bytes()
    (site.root / "linkgen.toml").write_text('[site]\nhome = "https://shop.example.com/"\n')
    away = sites.Site.open(site.root)
    build(away)
    page = (away.build_dir / "index.html").read_text()
    parse(page)
    assert 'http-equiv="refresh" content="0; url=https://shop.example.com"' in page
    for wrong in ("javascript:alert(1)", "@Not A Name", "somewhere"):
        (site.root / "linkgen.toml").write_text(f"[site]\nhome = '{wrong}'\n")
        with pytest.raises(ConfigError, match=r"site\.home"):
            sites.Site.open(site.root)


class _Html:
    def __html__(self) -> str:
        return "<b>safe</b>"


class _Text(str):
    pass


@pytest.mark.parametrize(
    "value", [*XSS, "", "plain", 7, 2.5, None, Markup("<b>kept</b>"), _Html(), _Text("<i>")]
)
def test_templates_escape_every_value_exactly_as_markupsafe_does(value: object) -> None:
    env = templating.environment([], None)
    template = env.from_string("<p title='{{ value }}'>{{ value }}</p>")
    expected = str(markupsafe.escape(value))
    assert template.render(value=value) == f"<p title='{expected}'>{expected}</p>"
    assert templating.escape(value) == markupsafe.escape(value)
    assert isinstance(templating.escape(value), Markup)  # safe to hand a template again
    assert templating.output(value) == markupsafe.escape(value)
    # the quicker escape is the one compiled templates call, on what they write only
    assert template.root_render_func.__globals__["escape"] is templating.output
    assert env.from_string("{% set x %}{{ v }}{% endset %}{{ x }}").render(v="<") == "&lt;"


def test_the_home_page_is_drawn_again_only_when_its_directory_changes(
    site: sites.Site, add_profile: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from linkgen.pages.render import Renderer

    drawn: list[list[str]] = []
    draw = Renderer.home
    monkeypatch.setattr(
        Renderer, "home", lambda r, names, more: drawn.append(names) or draw(r, names, more)
    )
    add_profile("alice")
    build(site)
    site.content.update_profile("alice", ProfileFields(display_name="Alice L."))
    build(site)
    assert drawn == [["alice"]]  # the edit changed nothing it shows
    add_profile("bob")
    build(site)
    build(site, full=True)  # a full build draws everything again
    assert drawn == [["alice"], ["alice", "bob"], ["alice", "bob"]]
