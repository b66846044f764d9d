"""Typed shapes of everything linkgen stores or accepts.

Input models are strict pydantic models (``extra="forbid"``) built from the
rules in ``rules.py``; ``validate`` turns a ``ValidationError`` into a one-line
``InvalidInput`` that names the field and the rule. The render path uses
the plain records of ``records.py`` instead.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import partial
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from linkgen import rules
from linkgen.errors import InvalidInput

DISPLAY_NAME_MAX = 80
BIO_MAX = 300
TITLE_MAX = 100
SEO_TITLE_MAX = 70
SEO_DESCRIPTION_MAX = 200

# What the OpenAPI document says of a field beyond its type (the validators decide).
Username = Annotated[
    str,
    AfterValidator(rules.username),
    Field(
        json_schema_extra={
            "minLength": rules.USERNAME_MIN,
            "maxLength": rules.USERNAME_MAX,
            "pattern": "^[A-Za-z0-9]([A-Za-z0-9]|[_-](?=[A-Za-z0-9]))*$",
        }
    ),
]
ThemeName = Annotated[str, AfterValidator(rules.theme_name)]
Language = Annotated[str, AfterValidator(rules.language)]
Url = Annotated[
    str,
    AfterValidator(rules.url),
    Field(json_schema_extra={"maxLength": rules.URL_MAX, "format": "uri"}),
]
ImageRef = Annotated[str, AfterValidator(rules.media_or_url)]
MediaRef = Annotated[str, AfterValidator(rules.media_path)]
# A brand icon chosen by hand (a Simple Icons slug such as "youtube"), or "none".
IconChoice = Annotated[str, AfterValidator(rules.icon_choice)]
# A content warning shown before the page or the link: one tap to go on.
Sensitivity = Literal["18+", "21+", "25+", "sensitive"]
Colour = Annotated[str, AfterValidator(rules.colour)]
DisplayName = Annotated[str, AfterValidator(partial(rules.text, max_len=DISPLAY_NAME_MAX))]
Bio = Annotated[str, AfterValidator(partial(rules.text, max_len=BIO_MAX, multiline=True))]
LinkTitle = Annotated[
    str,
    AfterValidator(partial(rules.text, max_len=TITLE_MAX)),
    Field(json_schema_extra={"minLength": 1, "maxLength": TITLE_MAX}),
]
SeoTitle = Annotated[str, AfterValidator(partial(rules.text, max_len=SEO_TITLE_MAX))]
SeoDescription = Annotated[str, AfterValidator(partial(rules.text, max_len=SEO_DESCRIPTION_MAX))]
Timestamp = Annotated[datetime, Field(strict=False)]
Font = Literal["system", "serif", "mono", "rounded", "humanist"]
ButtonShape = Literal["rounded", "pill", "square"]
ButtonStyle = Literal["fill", "outline", "soft"]


class Strict(BaseModel):
    # defer_build: schemas compile on first use, so commands that never
    # validate input (build, serve) do not pay for them at start-up.
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, defer_build=True)


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("needs a time zone, e.g. 2026-12-01T09:00:00Z")
    if not 1971 <= value.year <= 9998:  # stored as four-digit years, in UTC
        raise ValueError("must be a time between the years 1971 and 9998")
    return value.astimezone(UTC).replace(microsecond=0)


Moment = Annotated[Timestamp, AfterValidator(_utc)]


class Style(Strict):
    """Per-profile overrides of the theme's design tokens."""

    background: Colour | None = None
    text: Colour | None = None
    button: Colour | None = None
    button_text: Colour | None = None
    font: Font | None = None
    button_shape: ButtonShape | None = None
    button_style: ButtonStyle | None = None
    background_image: MediaRef | None = None  # under a veil of the background colour

    def merged(self, changes: dict[str, str | None]) -> Style:
        return validate(Style, self.merged_data(changes))

    def merged_data(self, changes: dict[str, str | None]) -> dict[str, Any]:
        """These fields with ``changes`` over them (None: unset), not yet checked:
        checked as a profile's ``style``, a mistake names ``style.<field>``."""
        data = self.model_dump(exclude_none=True)
        for key, value in changes.items():
            if value is None:
                data.pop(key, None)
            else:
                data[key] = value
        return data


class ProfileFields(Strict):
    """The editable fields of a profile; every one optional in an edit."""

    display_name: DisplayName | None = None
    bio: Bio | None = None
    avatar: ImageRef | None = None
    theme: ThemeName | None = None
    style: Style | None = None
    sensitive: Sensitivity | None = None
    social_image: ImageRef | None = None  # og:image; unset: a card drawn by linkgen
    language: Language | None = None  # the page's language; unset: the site's
    seo_title: SeoTitle | None = None
    seo_description: SeoDescription | None = None


class NewProfile(ProfileFields):
    username: Username


class _Schedule(Strict):
    starts_at: Moment | None = None
    ends_at: Moment | None = None

    @model_validator(mode="after")
    def _ends_after_start(self) -> _Schedule:
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be later than starts_at")
        return self


class NewLink(_Schedule):
    title: LinkTitle
    url: Url
    enabled: bool = True
    thumbnail: ImageRef | None = None
    icon: IconChoice | None = None  # None: detected from the URL
    social: bool = False  # in the icons row rather than a button
    sensitive: Sensitivity | None = None

    @model_validator(mode="after")
    def _title_not_blank(self) -> NewLink:
        if not self.title:
            raise ValueError("title must not be empty")
        return self


class LinkChanges(_Schedule):
    """An edit of a link: only the fields set explicitly change (None clears)."""

    title: LinkTitle | None = None
    url: Url | None = None
    enabled: bool | None = None
    thumbnail: ImageRef | None = None
    icon: IconChoice | None = None
    social: bool | None = None
    sensitive: Sensitivity | None = None


class Link(Strict):
    id: str
    position: int
    title: str
    url: str
    enabled: bool = True
    thumbnail: str | None = None
    icon: str | None = None
    social: bool = False
    sensitive: Sensitivity | None = None
    starts_at: Moment | None = None
    ends_at: Moment | None = None
    created_at: Moment
    updated_at: Moment


class Profile(Strict):
    id: str
    username: Username
    display_name: str = ""
    bio: str = ""
    avatar: str | None = None
    theme: ThemeName
    style: Style = Style()
    sensitive: Sensitivity | None = None
    social_image: str | None = None
    language: str | None = None
    seo_title: str | None = None
    seo_description: str | None = None
    created_at: Moment
    updated_at: Moment
    version: int = Field(ge=1)
    links: tuple[Link, ...] = ()


EXPORT_FORMAT: Literal["linkgen.profile/1"] = "linkgen.profile/1"


class ProfileExport(Strict):
    """What ``linkgen export`` writes and ``linkgen import`` reads."""

    format: Literal["linkgen.profile/1"] = EXPORT_FORMAT
    profile: Profile

    @model_validator(mode="after")
    def _links_consistent(self) -> ProfileExport:
        links = self.profile.links
        if len({link.id for link in links}) != len(links):
            raise ValueError("links: two links share an id")
        for link in links:
            # Re-run the input rules: an export file is user input too.
            NewLink.model_validate(
                {
                    "title": link.title,
                    "url": link.url,
                    "enabled": link.enabled,
                    "thumbnail": link.thumbnail,
                    "starts_at": link.starts_at,
                    "ends_at": link.ends_at,
                },
                strict=False,
            )
        ProfileFields.model_validate(
            {
                "display_name": self.profile.display_name,
                "bio": self.profile.bio,
                "avatar": self.profile.avatar,
                "language": self.profile.language,
                "seo_title": self.profile.seo_title,
                "seo_description": self.profile.seo_description,
            }
        )
        return self


class HistoryEntry(Strict):
    seq: int
    at: Moment
    actor: str
    action: str
    summary: str
    version_after: int | None
    undone: bool


M = TypeVar("M", bound=BaseModel)


def describe(error: ValidationError) -> str:
    """One line naming each failing field and its rule."""
    parts = []
    for item in error.errors():
        field = ".".join(str(p) for p in item["loc"])
        message = str(item["msg"]).removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            message = "is not a known field"
        parts.append(f"{field}: {message}" if field else message)
    return "; ".join(parts)


def json_path(loc: tuple[int | str, ...]) -> str:
    """``("profile", "links", 3, "url")`` as ``profile.links[3].url``."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def describe_lines(error: ValidationError, limit: int = 10) -> str:
    """One line per problem (at most ``limit``), each naming its JSON path: for a
    file someone edited by hand."""
    problems = error.errors()
    lines = []
    for item in problems[:limit]:
        message = str(item["msg"]).removeprefix("Value error, ")[:200]
        if item["type"] == "extra_forbidden":
            message = "is not a known field"
        where = json_path(tuple(item["loc"]))
        lines.append(f"{where}: {message}" if where else message)
    if len(problems) > limit:
        lines.append(f"… and {len(problems) - limit} more problems")
    return (
        f"{len(problems)} problems in the file:\n  " + "\n  ".join(lines)
        if len(problems) > 1
        else lines[0]
    )


def validate(model: type[M], data: Any, *, strict: bool | None = None) -> M:
    try:
        return model.model_validate(data, strict=strict)
    except ValidationError as exc:
        raise InvalidInput(describe(exc)) from None


def validate_json(model: type[M], raw: str | bytes) -> M:
    """``raw`` JSON as a ``model``; InvalidInput lists each problem on its own line."""
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        raise InvalidInput(describe_lines(exc)) from None
