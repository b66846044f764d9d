"""Themes: small TOML files of design tokens, optionally with template overrides.

A theme ``NAME`` is ``themes/NAME.toml``; templates in ``themes/NAME/`` override
the shared ones for the profiles that use it. A site's own ``themes/`` wins
over the built-in one. A theme with a ``[dark]`` table follows the visitor's
``prefers-color-scheme``. A theme's background is its background colour, a
``[gradient]``, or a ``background_image`` (a file next to the theme, checked
and re-encoded like an uploaded image, shown under a veil of the colour).

Every theme, and every profile's colour overrides on top of one, must keep
its text readable: each pair of text and the colour behind it needs a
contrast of at least 4.5:1 (WCAG 2 AA); a theme or override below that is
refused with the ratio and the pair.
"""

from __future__ import annotations

import contextlib
import json
import zlib
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from linkgen import rules
from linkgen.errors import ThemeError
from linkgen.store import settings_file

FONT_STACKS: dict[str, str] = {
    "system": 'system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", sans-serif',
    "humanist": '"Seravek", "Gill Sans Nova", Ubuntu, Calibri, "DejaVu Sans", sans-serif',
    "rounded": 'ui-rounded, "SF Pro Rounded", "Hiragino Maru Gothic ProN", Quicksand, '
    "Comfortaa, Manjari, sans-serif",
    "serif": 'Charter, "Bitstream Charter", "Sitka Text", Cambria, Georgia, serif',
    "mono": 'ui-monospace, "Cascadia Code", "Source Code Pro", Menlo, Consolas, monospace',
}


@dataclass(frozen=True)
class Colours:
    background: str
    text: str
    button: str
    button_text: str
    muted: str | None = None


@dataclass(frozen=True)
class Gradient:
    start: str  # "from" in the file
    end: str  # "to"
    angle: int = 180


@dataclass(frozen=True, kw_only=True)
class Tokens:
    """A theme file's design tokens, as checked (``theme_files.check``)."""

    name: str
    description: str = ""
    colours: Colours
    dark: Colours | None = None  # used when the visitor's system is in dark mode
    font: str = "system"
    button_shape: str = "rounded"
    button_style: str = "fill"
    gradient: Gradient | None = None
    background_image: str | None = None  # relative to the file

    @classmethod
    def load(cls, checked: Mapping[str, Any]) -> Tokens:
        """The tokens from their checked TOML form (``as_file``)."""
        values = dict(checked)
        values["colours"] = Colours(**values["colours"])
        if values.get("dark") is not None:
            values["dark"] = Colours(**values["dark"])
        if values.get("gradient") is not None:
            g = values["gradient"]
            values["gradient"] = Gradient(g["from"], g["to"], g.get("angle", 180))
        return cls(**values)

    def as_file(self) -> dict[str, Any]:
        """The tokens as a theme file writes them: ``from``/``to``, no empty values."""
        data = {key: value for key, value in asdict(self).items() if value is not None}
        for key in ("colours", "dark"):
            if key in data:
                data[key] = {k: v for k, v in data[key].items() if v is not None}
        if self.gradient is not None:
            g = self.gradient
            data["gradient"] = {"from": g.start, "to": g.end, "angle": g.angle}
        return data


IMAGE_SUFFIXES = (".webp", ".png", ".jpg", ".jpeg")
MAX_IMAGE_BYTES = 2 * 1024 * 1024  # every visitor of the theme downloads it


@dataclass(frozen=True)
class Theme:
    slug: str
    tokens: Tokens
    source: bytes
    template_dirs: tuple[Path, ...]  # theme-specific override dirs, site first
    image: bytes | None = None  # the background image file's bytes, as found


def _read_image(theme_file: Path, name: str) -> bytes:
    """The bytes of a theme's background image: a file in the theme's folder."""
    folder = theme_file.parent.resolve()
    path = (folder / name).resolve()
    where = f"{theme_file}: background_image '{name}'"
    if not path.is_relative_to(folder):
        raise ThemeError(f"{where} is outside the themes folder {folder}")
    if path.suffix.lower() not in IMAGE_SUFFIXES:
        raise ThemeError(f"{where}: use a {', '.join(IMAGE_SUFFIXES)} file")
    try:
        size = path.stat().st_size
        if size > MAX_IMAGE_BYTES:
            raise ThemeError(f"{where}: {size:,} bytes; the limit is {MAX_IMAGE_BYTES:,}")
        return path.read_bytes()
    except FileNotFoundError:
        raise ThemeError(f"{where}: no such file ({path})") from None
    except OSError as exc:
        raise ThemeError(f"{where}: {exc.strerror or exc}") from None


# -- contrast (WCAG 2) -------------------------------------------------------------

MIN_CONTRAST = 4.5  # WCAG 2 AA, normal text


def _channels(colour: str) -> tuple[int, int, int]:
    """#rgb or #rrggbb as (r, g, b), 0 to 255."""
    digits = colour.lstrip("#")
    if len(digits) == 3:
        digits = "".join(ch * 2 for ch in digits)
    r, g, b = (int(digits[i : i + 2], 16) for i in (0, 2, 4))
    return r, g, b


def _luminance(colour: str) -> float:
    channels = [c / 255 for c in _channels(colour)]
    r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(first: str, second: str) -> float:
    """WCAG 2 contrast ratio of two #rgb/#rrggbb colours, 1.0 to 21.0."""
    lighter, darker = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def _pairs(
    colours: Mapping[str, str | None], button_style: str, backdrops: Mapping[str, str]
) -> list[tuple[str, str, str, str]]:
    """(foreground name, colour, background name, colour) for every text on the page."""
    pairs = []
    for name, colour in backdrops.items():
        pairs.append(("text", colours["text"] or "", name, colour))
        if colours.get("muted"):
            pairs.append(("muted", colours["muted"] or "", name, colour))
        if button_style == "outline":  # the button's colour is its label, on the page
            pairs.append(("button", colours["button"] or "", name, colour))
    # Always, outline too: a warning's Continue is a filled button in every theme.
    pairs.append(("button_text", colours["button_text"] or "", "button", colours["button"] or ""))
    return pairs


def contrast_failures(tokens: Tokens, style: Mapping[str, str]) -> list[str]:
    """Every text/background pair of a theme (with a profile's overrides) below 4.5:1."""
    return [
        f"{pair}: contrast {ratio:.2f}:1, needs at least {MIN_CONTRAST}:1 (WCAG AA)"
        for ratio, pair in contrast_pairs(tokens, style)
        if ratio < MIN_CONTRAST
    ]


def lowest_contrast(tokens: Tokens) -> tuple[float, str]:
    """A theme's least readable pair: its ratio and a description of the pair."""
    return min(contrast_pairs(tokens, {}))


def contrast_pairs(tokens: Tokens, style: Mapping[str, str]) -> list[tuple[float, str]]:
    """(contrast ratio, "text #fff on background #000") of every text on the page."""
    schemes: list[tuple[str, dict[str, str | None], dict[str, str]]] = []
    light = {**asdict(tokens.colours), **{k: v for k, v in style.items() if k in COLOURS}}
    if _own_text_colours(style):
        light["muted"] = None  # the bio then takes the text colour (css_variables)
    backdrops = {"background": light["background"] or ""}
    if style.get("background_image") or (tokens.background_image and "background" not in style):
        # The image shows through a veil of the background colour: at worst, its
        # darkest or lightest pixel tints the background by the veil's remainder.
        base = light["background"] or ""
        backdrops = {
            "background image (its darkest)": _blend(base, "#000000", 1 - VEIL),
            "background image (its lightest)": _blend(base, "#ffffff", 1 - VEIL),
        }
    elif tokens.gradient and "background" not in style:
        backdrops = {"gradient start": tokens.gradient.start, "gradient end": tokens.gradient.end}
    schemes.append(("", light, backdrops))
    if tokens.dark and not _own_look(style):
        dark = asdict(tokens.dark)
        schemes.append(("dark ", dark, {"background": dark["background"]}))
    button_style = style.get("button_style", tokens.button_style)
    return [
        (contrast_ratio(fg, bg), f"{label}{fg_name} {fg} on {bg_name} {bg}")
        for label, colours, behind in schemes
        for fg_name, fg, bg_name, bg in _pairs(colours, button_style, behind)
    ]


COLOURS = ("background", "text", "button", "button_text")
VEIL = 0.82  # how much of the background colour lies over a background image


def _own_look(style: Mapping[str, str]) -> bool:
    """The creator chose colours or an image: kept as they are in dark mode too."""
    return any(key in COLOURS for key in style) or "background_image" in style


def _blend(colour: str, other: str, amount: float) -> str:
    """``colour`` with ``amount`` of ``other`` mixed in, as #rrggbb."""
    mixed = [
        round(a * (1 - amount) + b * amount)
        for a, b in zip(_channels(colour), _channels(other), strict=True)
    ]
    return "#" + "".join(f"{c:02x}" for c in mixed)


def veil(colour: str) -> str:
    """The background colour as the veil over a background image (CSS rgba)."""
    r, g, b = _channels(colour)
    return f"rgba({r},{g},{b},{VEIL})"


def _own_text_colours(style: Mapping[str, str]) -> bool:
    return "background" in style or "text" in style


KEPT_FILE = "themes.json"  # in site_data/cache/: the theme files as last checked
# The code that checks a theme file: a change to it checks them all again.
_CHECKERS = ("pages/theme_files.py", "pages/themes.py", "models.py", "rules.py")


def discover(
    dirs: list[Path], broken: dict[str, str] | None = None, keep: Path | None = None
) -> dict[str, Theme]:
    """Themes found in ``dirs`` (highest priority first).

    A theme file that cannot be used raises ThemeError, or, given ``broken``, is
    left out and its error kept there by name, so one bad file stops only the
    profiles that use it. ``keep``: a folder where what was checked is kept
    (``KEPT_FILE``), so that files as they were are not checked again.
    """
    files = [
        (path, path.read_bytes())
        for directory in reversed(dirs)
        for path in (sorted(directory.glob("*.toml")) if directory.is_dir() else [])
    ]
    checked = _checked(files, keep)
    found: dict[str, Theme] = {}
    for path, raw in files:
        try:
            try:
                slug = rules.theme_name(path.stem)
            except ValueError as exc:
                raise ThemeError(f"{path}: {exc}") from None
            tokens = checked[str(path)]
            if isinstance(tokens, str):
                raise ThemeError(tokens)
            image = _read_image(path, tokens.background_image) if tokens.background_image else None
        except ThemeError as exc:
            if broken is None:
                raise
            broken[path.stem] = str(exc)
            found.pop(path.stem, None)  # not the built-in one of that name either
            continue
        found[slug] = Theme(slug, tokens, raw, (), image)
    for slug, theme in list(found.items()):
        overrides = tuple(d / slug for d in dirs if (d / slug).is_dir())
        found[slug] = Theme(slug, theme.tokens, theme.source, overrides, theme.image)
    return found


Outcome = dict[str, Any]  # {"tokens": the checked TOML form} or {"error": why not}


def _checked(files: list[tuple[Path, bytes]], keep: Path | None) -> dict[str, Tokens | str]:
    """Each file's tokens (or why it cannot be used) by path: as kept, while the
    files and the code that checks them are as they were; else checked now (and kept)."""
    stamp = settings_file.code_stamp(_CHECKERS)
    key = json.dumps([[str(p), len(raw), zlib.crc32(raw)] for p, raw in files] + [stamp])
    kept_file = keep / KEPT_FILE if keep is not None else None
    outcomes = settings_file.read_kept(kept_file, key) if kept_file is not None else None
    with contextlib.suppress(KeyError, TypeError, AttributeError):  # damaged: checked again
        if outcomes is not None and outcomes.keys() == {str(path) for path, _ in files}:
            return {path: _read(outcome) for path, outcome in outcomes.items()}
    outcomes = {str(path): _check(path, raw) for path, raw in files}
    if kept_file is not None and kept_file.parent.parent.is_dir():  # not before init
        settings_file.write_kept(kept_file, key, outcomes)
    return {path: _read(outcome) for path, outcome in outcomes.items()}


def _read(outcome: Outcome) -> Tokens | str:
    return str(outcome["error"]) if "error" in outcome else Tokens.load(outcome["tokens"])


def _check(path: Path, raw: bytes) -> Outcome:
    from linkgen.pages import theme_files

    try:
        return {"tokens": theme_files.check(path, raw)}
    except ThemeError as exc:
        return {"error": str(exc)}


def css_variables(
    tokens: Tokens, style: Mapping[str, str], theme_image: str | None = None
) -> dict[str, str]:
    """The CSS custom properties of a theme with a profile's overrides applied;
    ``theme_image`` is the address of the theme's background image, if it has one."""
    colours = tokens.colours
    background = style.get("background", colours.background)
    text = style.get("text", colours.text)
    font = style.get("font", tokens.font)
    shape = style.get("button_shape", tokens.button_shape)
    radius = {"rounded": "14px", "pill": "999px", "square": "4px"}[shape]
    variables = {
        "--bg": background,
        "--fg": text,
        "--muted": text if _own_text_colours(style) else colours.muted or text,
        "--btn": style.get("button", colours.button),
        "--btn-fg": style.get("button_text", colours.button_text),
        "--radius": radius,
        "--font": FONT_STACKS[font],
    }
    image = style.get("background_image")
    if not image and "background" not in style:
        image = theme_image  # a creator's own background colour replaces the theme's
    if image:
        layer = veil(background)
        variables["--bg-image"] = f'linear-gradient({layer},{layer}),url("{image}")'
    elif tokens.gradient and "background" not in style:
        g = tokens.gradient
        variables["--bg-image"] = f"linear-gradient({g.angle}deg, {g.start}, {g.end})"
    else:
        variables["--bg-image"] = "none"
    return variables


def dark_variables(tokens: Tokens, style: Mapping[str, str]) -> dict[str, str]:
    """The properties a dark system switches to; none once a profile sets its own colours."""
    dark = tokens.dark
    if dark is None or _own_look(style):
        return {}
    return {
        "--bg": dark.background,
        "--fg": dark.text,
        "--muted": dark.muted or dark.text,
        "--btn": dark.button,
        "--btn-fg": dark.button_text,
        "--bg-image": "none",
    }
