"""Themes: small TOML files of design tokens, optionally with template overrides.

A theme ``NAME`` is ``themes/NAME.toml``; templates in ``themes/NAME/`` override
the shared ones for the profiles that use it. A site's own ``themes/`` wins
over the built-in one.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from . import rules
from .errors import ThemeError
from .models import ButtonShape, Font, describe

Colour = Annotated[str, AfterValidator(rules.colour)]

FONT_STACKS: dict[str, str] = {
    "system": 'system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", sans-serif',
    "humanist": '"Seravek", "Gill Sans Nova", Ubuntu, Calibri, "DejaVu Sans", sans-serif',
    "rounded": 'ui-rounded, "SF Pro Rounded", "Hiragino Maru Gothic ProN", Quicksand, '
    "Comfortaa, Manjari, sans-serif",
    "serif": 'Charter, "Bitstream Charter", "Sitka Text", Cambria, Georgia, serif',
    "mono": 'ui-monospace, "Cascadia Code", "Source Code Pro", Menlo, Consolas, monospace',
}


class _Tokens(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Colours(_Tokens):
    background: Colour
    text: Colour
    button: Colour
    button_text: Colour
    muted: Colour | None = None


class Gradient(_Tokens):
    start: Colour = Field(alias="from")
    end: Colour = Field(alias="to")
    angle: int = Field(180, ge=0, le=360)


class ThemeFile(_Tokens):
    name: str = Field(max_length=60)
    description: str = Field("", max_length=200)
    colours: Colours
    font: Font = "system"
    button_shape: ButtonShape = "rounded"
    button_style: Literal["fill", "outline", "soft"] = "fill"
    gradient: Gradient | None = None


@dataclass(frozen=True)
class Theme:
    slug: str
    tokens: ThemeFile
    source: bytes
    template_dirs: tuple[Path, ...]  # theme-specific override dirs, site first


def _load_file(path: Path) -> ThemeFile:
    try:
        return ThemeFile.model_validate(tomllib.loads(path.read_text(encoding="utf-8")))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ThemeError(f"{path}: {exc}") from None
    except ValidationError as exc:
        raise ThemeError(f"{path}: {describe(exc)}") from None


def discover(dirs: list[Path]) -> dict[str, Theme]:
    """Themes found in ``dirs`` (highest priority first)."""
    found: dict[str, Theme] = {}
    for directory in reversed(dirs):
        for path in sorted(directory.glob("*.toml")) if directory.is_dir() else []:
            try:
                slug = rules.theme_name(path.stem)
            except ValueError as exc:
                raise ThemeError(f"{path}: {exc}") from None
            found[slug] = Theme(slug, _load_file(path), path.read_bytes(), ())
    for slug, theme in list(found.items()):
        overrides = tuple(d / slug for d in dirs if (d / slug).is_dir())
        found[slug] = Theme(slug, theme.tokens, theme.source, overrides)
    return found


def css_variables(tokens: ThemeFile, style: Mapping[str, str]) -> dict[str, str]:
    """The CSS custom properties of a theme with a profile's overrides applied."""
    colours = tokens.colours
    background = style.get("background", colours.background)
    text = style.get("text", colours.text)
    font = style.get("font", tokens.font)
    shape = style.get("button_shape", tokens.button_shape)
    radius = {"rounded": "14px", "pill": "999px", "square": "4px"}[shape]
    variables = {
        "--bg": background,
        "--fg": text,
        "--muted": colours.muted or text,
        "--btn": style.get("button", colours.button),
        "--btn-fg": style.get("button_text", colours.button_text),
        "--radius": radius,
        "--font": FONT_STACKS[font],
    }
    if tokens.gradient and "background" not in style:
        g = tokens.gradient
        variables["--bg-image"] = f"linear-gradient({g.angle}deg, {g.start}, {g.end})"
    else:
        variables["--bg-image"] = "none"
    return variables
