from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from linkgen import site as sites
from linkgen.build import build
from linkgen.errors import InvalidInput, ThemeError
from linkgen.models import NewProfile, ProfileFields, validate
from linkgen.pages.themes import contrast_ratio, discover
from tests.support.cli import Cli
from tests.support.html import page, parse


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
    site.content.update_profile(
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
        site.content.update_profile("alice", grey)
    message = str(refused.value)
    assert "text #aaaaaa on background #ffffff: contrast 2.32:1" in message
    assert "needs at least 4.5:1" in message
    assert site.content.get("alice") == before  # nothing lost, nothing half-applied


def test_switching_theme_under_existing_overrides_is_checked_too(
    site: sites.Site, add_profile: Any
) -> None:
    add_profile("alice", theme="paper", style={"button": "#1a1a1a", "button_text": "#ffffff"})
    with pytest.raises(InvalidInput, match=r"button #1a1a1a on background #000000"):
        site.content.update_profile("alice", validate(ProfileFields, {"theme": "noir"}))
    assert site.content.get("alice").theme == "paper"


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
    shown = run("theme", "show", "dunes").stdout  # its weakest pair is over its picture
    assert re.search(r"lowest contrast: \d+\.\d\d:1 \(.* on background image", shown)
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
        site.content.update_profile("alice", outline)  # white outlines on light grey
    site.content.update_profile(
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
    image = site.content.get("alice").style.background_image
    assert image and image.startswith("/_m/") and image.endswith(".webp")
    assert Image.open(site.media_dir / image[4:]).size == (1600, 1067)  # contained, not cut
    build(site)
    html = page(site, "alice")
    assert f'url("{image}")' in html and "rgba(6,50,74,0.82)" in html
    add_profile("bob", theme="mint")  # its muted teal is too close to a darkened mint
    refused = run("profile", "set", "bob", "--background-image", str(picture), code=1)
    assert "on background image (its darkest)" in refused.stderr
    assert site.content.get("bob").style.background_image is None
    run("profile", "set", "alice", "--background-image", "")
    assert site.content.get("alice").style.background_image is None


LAKE = (
    'name = "Lake"\nbackground_image = "images/lake.png"\n[colours]\nbackground = "#0b2a3c"\n'
    'text = "#ffffff"\nbutton = "#ffffff"\nbutton_text = "#0b2a3c"\n'
)


def site_theme(site: sites.Site, toml: str, image: bytes) -> sites.Site:
    """The site with a theme 'lake' of its own (themes/lake.toml, themes/images/lake.png)."""
    (site.root / "themes" / "lake.toml").write_text(toml)
    (site.root / "themes" / "images").mkdir(parents=True, exist_ok=True)
    (site.root / "themes" / "images" / "lake.png").write_bytes(image)
    return sites.Site.open(site.root)


def png(width: int, height: int, colour: str = "#3a7bd5") -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, format="PNG")
    return out.getvalue()


def test_a_theme_background_image_is_re_encoded_once_and_served_from_media(
    site: sites.Site,
) -> None:
    from PIL import Image

    themed = site_theme(site, LAKE, png(3000, 2000))
    for name in ("alice", "bob"):
        themed.content.create_profile(validate(NewProfile, {"username": name, "theme": "lake"}))
    build(themed)
    html = page(themed, "alice")
    found = re.search(r'url\("/_m/([0-9a-f]{24}\.webp)"\)', html)
    assert found and "rgba(11,42,60,0.82)" in html  # under the veil of its colour
    built = themed.build_dir / "_m" / found.group(1)
    image = Image.open(built)
    assert (image.format, image.size) == ("WEBP", (1600, 1067))  # contained, re-encoded
    assert found.group(1) in page(themed, "bob")  # one file for every page of the theme
    made = built.stat().st_mtime_ns
    themed.content.update_profile("alice", validate(ProfileFields, {"bio": "new"}))
    build(themed)
    assert built.stat().st_mtime_ns == made  # not made again
    # A creator's own background colour replaces the theme's image, as it does a gradient.
    own = validate(ProfileFields, {"style": {"background": "#ffffff", "text": "#111111"}})
    themed.content.update_profile("bob", own)
    build(themed)
    assert "--bg-image:none" in page(themed, "bob")
    themed.close()


def test_the_builtin_image_themes_show_their_images(site: sites.Site, add_profile: Any) -> None:
    with_images = [slug for slug, theme in site.themes.items() if theme.image]
    assert len(with_images) >= 3
    for slug in with_images:
        add_profile(f"user-{slug}", theme=slug)
    build(site)
    for slug in with_images:
        assert re.search(r'url\("/_m/[0-9a-f]{24}\.webp"\)', page(site, f"user-{slug}")), slug


GRADIENT_TOO = 'background_image = "images/lake.png"\n[gradient]\nfrom = "#000"\nto = "#111"'


@pytest.mark.parametrize(
    ("line", "error"),
    [
        ('background_image = "../../secret.png"', "outside the themes folder"),
        ('background_image = "images/none.png"', "no such file"),
        ('background_image = "images/lake.svg"', "use a .webp, .png, .jpg, .jpeg file"),
        (GRADIENT_TOO, "not both"),
    ],
)
def test_a_theme_image_must_be_a_picture_in_the_themes_folder(
    tmp_path: Path, line: str, error: str
) -> None:
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "lake.png").write_bytes(png(10, 10))
    (tmp_path / "lake.toml").write_text(LAKE.replace('background_image = "images/lake.png"', line))
    with pytest.raises(ThemeError, match=re.escape(error)):
        discover([tmp_path])


def test_a_damaged_theme_image_stops_the_build_with_the_theme_named(site: sites.Site) -> None:
    themed = site_theme(site, LAKE, png(400, 300)[:200])
    themed.content.create_profile(validate(NewProfile, {"username": "alice", "theme": "lake"}))
    with pytest.raises(ThemeError, match=r"theme 'lake': background image of lake: .*damaged"):
        build(themed)
    themed.close()


def test_text_over_a_theme_image_is_checked_against_the_veil(tmp_path: Path) -> None:
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "lake.png").write_bytes(png(10, 10))
    (tmp_path / "lake.toml").write_text(LAKE.replace('text = "#ffffff"', 'text = "#8aa0b0"'))
    with pytest.raises(ThemeError, match=r"text #8aa0b0 on background image \(its lightest\)"):
        discover([tmp_path])


def test_the_gallery_carries_theme_images_inside_the_file(
    run: Cli, site: sites.Site, tmp_path: Path
) -> None:
    out = tmp_path / "gallery.html"
    run("themes", "--gallery", str(out))
    html = out.read_text(encoding="utf-8")
    assert html.count("data:image/webp;base64,") >= 3
    assert not re.search(r"/_m/[0-9a-f]+\.webp", html)
    assert not site.media_dir.exists() or not list(site.media_dir.iterdir())  # nothing drawn


def test_a_bad_theme_file_stops_only_the_profiles_that_use_it(run: Any, site: Any) -> None:
    run("profile", "add", "ada")
    run("profile", "add", "bob")
    (site.root / "themes" / "neon.toml").write_text("not toml at all [")
    broken = run("theme", "list").stdout
    assert "neon" in broken and "CANNOT BE USED" in broken
    refused = run("profile", "set", "bob", "--theme", "neon", code=1)
    assert "theme: 'neon' cannot be used" in refused.stderr and "neon.toml" in refused.stderr
    # A profile already on it (the file broke after it was chosen) is refused by name.
    with site.database.writing():
        site.database.conn.execute("UPDATE profiles SET theme = 'neon' WHERE username = 'bob'")
    site.close()
    built = run("build", code=1)
    assert "@bob was not built: theme 'neon' cannot be used" in built.stderr
    assert "neon.toml" in built.stderr and "@ada" not in built.stderr
    assert (site.root / "build" / "ada").is_file() and not (site.root / "build" / "bob").exists()
    assert run("profile", "show", "ada").stdout  # everything else works
    builtin = Path(__file__).resolve().parents[2] / "themes" / "midnight.toml"
    (site.root / "themes" / "neon.toml").write_text(builtin.read_text())
    mended = run("build")
    assert "rendered 1" in mended.stdout and (site.root / "build" / "bob").is_file()


def test_a_theme_template_that_does_not_parse_stops_only_its_profiles(run: Any, site: Any) -> None:
    run("profile", "add", "ada")
    run("profile", "add", "bob", "--theme", "ocean")
    (site.root / "themes" / "ocean").mkdir()
    (site.root / "themes" / "ocean" / "profile.html").write_text("{% if %}broken")
    site.close()
    built = run("build", code=1)
    assert "@bob was not built: theme 'ocean' cannot be used" in built.stderr
    assert "profile.html:1" in built.stderr
    assert (site.root / "build" / "ada").is_file() and not (site.root / "build" / "bob").exists()


def test_theme_files_are_read_back_as_they_were_checked_until_one_changes(tmp_path: Path) -> None:
    from linkgen.pages import theme_files, themes
    from linkgen.pages.resources import builtin

    keep = tmp_path / "cache"
    tmp_path.joinpath("own").mkdir()
    dirs = [tmp_path / "own", builtin("themes")]
    first = discover(dirs, {}, keep)
    assert (keep / themes.KEPT_FILE).is_file()
    for slug, theme in first.items():  # the tokens are the file's, checked
        checked = theme_files.check(Path(f"{slug}.toml"), theme.source)
        assert theme.tokens.as_file() == checked and themes.Tokens.load(checked) == theme.tokens
    assert discover(dirs, {}, keep) == first  # read back
    # a theme file that changes is checked again: refused when wrong, used when mended
    murky = 'name = "Murky"\n[colours]\nbackground = "#555555"\ntext = "#777777"\n'
    (tmp_path / "own" / "murky.toml").write_text(murky + 'button = "#fff"\nbutton_text = "#000"\n')
    broken: dict[str, str] = {}
    assert "murky" not in discover(dirs, broken, keep) and "contrast" in broken["murky"]
    (tmp_path / "own" / "murky.toml").write_text(
        murky.replace("#777777", "#ffffff") + ('button = "#fff"\nbutton_text = "#000"\n')
    )
    assert discover(dirs, {}, keep)["murky"].tokens.colours.text == "#ffffff"
    # a damaged copy is ignored: every file is checked again
    (keep / themes.KEPT_FILE).write_text('{"key": 1, "themes": {"x": []}}')
    assert discover(dirs, {}, keep).keys() == first.keys() | {"murky"}


def test_the_checked_theme_file_and_the_tokens_a_build_reads_name_the_same_fields() -> None:
    import dataclasses

    from linkgen.pages import theme_files, themes

    pairs = [
        (theme_files.ThemeFile, themes.Tokens),
        (theme_files.Colours, themes.Colours),
        (theme_files.Gradient, themes.Gradient),
    ]
    for model, record in pairs:
        assert list(model.model_fields) == [f.name for f in dataclasses.fields(record)], model
