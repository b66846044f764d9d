from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from linkgen import site as sites
from linkgen.build import build
from linkgen.errors import InvalidInput, ThemeError
from linkgen.models import ProfileFields, validate
from linkgen.themes import contrast_ratio, discover

from .conftest import Cli
from .test_render import page, parse


def test_contrast_ratios_follow_wcag() -> None:
    assert contrast_ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast_ratio("#fff", "#fff") == pytest.approx(1.0)
    assert contrast_ratio("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)  # the AA edge
    assert contrast_ratio("#777777", "#888888") == pytest.approx(1.26, abs=0.01)


def test_every_builtin_theme_renders_a_page(site: sites.Site, add_profile: Any) -> None:
    assert len(site.themes) >= 20
    for slug in site.themes:
        add_profile(f"user-{slug}", ("Shop", "https://example.com/shop"), theme=slug)
    build(site)
    for slug, theme in site.themes.items():
        html = page(site, f"user-{slug}")
        parse(html)
        assert f"--bg:{theme.tokens.colours.background}" in html
        dark = "@media (prefers-color-scheme:dark)" in html
        assert dark == (theme.tokens.dark is not None), slug


def test_a_follow_the_system_theme_switches_in_dark_mode_until_colours_are_set(
    site: sites.Site, add_profile: Any
) -> None:
    add_profile("alice", theme="auto")
    build(site)
    assert "color-scheme:light dark" in page(site, "alice")
    site.store.update_profile(
        "alice", validate(ProfileFields, {"style": {"button": "#1d3fbb", "button_text": "#ffffff"}})
    )
    build(site)
    html = page(site, "alice")  # the creator's own colours are kept in both modes
    assert "prefers-color-scheme" not in html and "--btn:#1d3fbb" in html


def test_an_override_below_aa_is_refused_with_the_ratio_and_nothing_changes(
    site: sites.Site, add_profile: Any
) -> None:
    before = add_profile("alice", theme="paper")
    grey = validate(ProfileFields, {"style": {"background": "#ffffff", "text": "#aaaaaa"}})
    with pytest.raises(InvalidInput) as refused:
        site.store.update_profile("alice", grey)
    message = str(refused.value)
    assert "text #aaaaaa on background #ffffff: contrast 2.32:1" in message
    assert "needs at least 4.5:1" in message
    assert site.store.get("alice") == before  # nothing lost, nothing half-applied


def test_switching_theme_under_existing_overrides_is_checked_too(
    site: sites.Site, add_profile: Any
) -> None:
    add_profile("alice", theme="paper", style={"button": "#1a1a1a", "button_text": "#ffffff"})
    with pytest.raises(InvalidInput, match=r"button #1a1a1a on background #000000"):
        site.store.update_profile("alice", validate(ProfileFields, {"theme": "noir"}))
    assert site.store.get("alice").theme == "paper"


def test_a_theme_file_with_unreadable_text_is_refused(tmp_path: Path) -> None:
    (tmp_path / "murky.toml").write_text(
        'name = "Murky"\n[colours]\nbackground = "#555555"\ntext = "#777777"\n'
        'button = "#ffffff"\nbutton_text = "#000000"\n'
    )
    with pytest.raises(ThemeError, match=r"murky.toml: text #777777 on background #555555"):
        discover([tmp_path])


def test_a_dark_variant_is_checked_as_well(tmp_path: Path) -> None:
    (tmp_path / "halfdark.toml").write_text(
        'name = "Half"\n[colours]\nbackground = "#ffffff"\ntext = "#000000"\n'
        'button = "#000000"\nbutton_text = "#ffffff"\n'
        '[dark]\nbackground = "#000000"\ntext = "#333333"\nbutton = "#ffffff"\n'
        'button_text = "#000000"\n'
    )
    with pytest.raises(ThemeError, match=r"dark text #333333 on background #000000"):
        discover([tmp_path])


def test_the_cli_lists_shows_and_sets_themes(run: Cli, add_profile: Any) -> None:
    add_profile("alice")
    names = [row["name"] for row in run.json("theme", "list")]
    assert len(names) >= 20 and "auto" in names
    assert run.json("theme", "show", "ocean")["contrast"] >= 4.5
    assert "@alice now uses ocean" in run("theme", "set", "alice", "ocean").stdout
    refused = run("profile", "set", "alice", "--style", "text=#0a3550", code=1)
    assert "contrast" in refused.stderr and "4.5:1" in refused.stderr
    assert "no theme 'nope'" in run("theme", "show", "nope", code=1).stderr


def test_the_gallery_shows_every_theme_rendered(run: Cli, site: sites.Site, tmp_path: Path) -> None:
    out = tmp_path / "gallery.html"
    assert "themes" in run("themes", "--gallery", str(out)).stdout
    html = out.read_text(encoding="utf-8")
    parse(html)
    frames = re.findall(r'<iframe title="([^"]+) theme" srcdoc="([^"]*)"', html)
    assert len(frames) == len(site.themes) >= 20
    for _, srcdoc in frames:  # each one is a whole page with its theme's styles
        assert srcdoc.startswith("&lt;!doctype html&gt;") and "--bg:" in srcdoc


def test_a_profile_can_change_the_button_style_and_stays_readable(
    site: sites.Site, add_profile: Any
) -> None:
    add_profile("alice", theme="default")
    outline = validate(ProfileFields, {"style": {"button_style": "outline"}})
    with pytest.raises(InvalidInput, match=r"button #ffffff on background #f3f4f7"):
        site.store.update_profile("alice", outline)  # white outlines on light grey
    site.store.update_profile(
        "alice",
        validate(
            ProfileFields,
            {"style": {"button_style": "outline", "button": "#1d3fbb", "button_text": "#ffffff"}},
        ),
    )
    build(site)
    assert "border:2px solid var(--btn)" in page(site, "alice")


def test_a_background_image_lies_under_a_veil_and_is_checked_too(
    run: Cli, site: sites.Site, add_profile: Any, tmp_path: Path
) -> None:
    from PIL import Image

    picture = tmp_path / "beach.jpg"
    Image.new("RGB", (2400, 1600), "#3a7bd5").save(picture)
    add_profile("alice", theme="ocean")
    run("profile", "set", "alice", "--background-image", str(picture))
    image = site.store.get("alice").style.background_image
    assert image and image.startswith("/_m/") and image.endswith(".webp")
    assert Image.open(site.media_dir / image[4:]).size == (1600, 1067)  # contained, not cut
    build(site)
    html = page(site, "alice")
    assert f'url("{image}")' in html and "rgba(6,50,74,0.82)" in html
    add_profile("bob", theme="mint")  # its muted teal is too close to a darkened mint
    refused = run("profile", "set", "bob", "--background-image", str(picture), code=1)
    assert "on background image (its darkest)" in refused.stderr
    assert site.store.get("bob").style.background_image is None
    run("profile", "set", "alice", "--background-image", "")
    assert site.store.get("alice").style.background_image is None
