"""Checking a theme file: its TOML against the tokens a theme may set (pydantic).

Only a theme file that changed is checked (``themes.discover`` keeps what it
checked), so a build whose themes are as they were never loads these models.
They name the fields of ``themes.Tokens``, which a build reads (a test holds
the two equal).
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator

from linkgen import rules
from linkgen.errors import ThemeError
from linkgen.models import ButtonShape, ButtonStyle, Font, describe
from linkgen.pages import themes

Colour = Annotated[str, AfterValidator(rules.colour)]


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
    dark: Colours | None = None  # used when the visitor's system is in dark mode
    font: Font = "system"
    button_shape: ButtonShape = "rounded"
    button_style: ButtonStyle = "fill"
    gradient: Gradient | None = None
    background_image: str | None = Field(None, max_length=200)  # relative to the file

    @model_validator(mode="after")
    def _one_background(self) -> ThemeFile:
        if self.gradient is not None and self.background_image is not None:
            raise ValueError("a theme has a gradient or a background_image, not both")
        return self


def check(path: Path, raw: bytes) -> dict[str, Any]:
    """A theme file's tokens as its TOML would write them (``themes.Tokens.load``
    reads them back); ThemeError saying what is wrong, with the file's name."""
    try:
        data = tomllib.loads(raw.decode("utf-8"))
        tokens = ThemeFile.model_validate(data)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ThemeError(f"{path}: {exc}") from None
    except ValidationError as exc:
        raise ThemeError(f"{path}: {describe(exc)}") from None
    checked: dict[str, Any] = tokens.model_dump(by_alias=True, exclude_none=True)
    failures = themes.contrast_failures(themes.Tokens.load(checked), {})
    if failures:
        raise ThemeError(f"{path}: {'; '.join(failures)}")
    return checked
