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
    SerializationInfo,
    ValidationError,
    field_serializer,
    model_validator,
)

from linkgen import rules
from linkgen.errors import InvalidInput
from linkgen.errors import describe as describe
from linkgen.errors import describe_lines as describe_lines
from linkgen.errors import json_path as json_path
from linkgen.records import LINK_KINDS

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
Domain = Annotated[str, AfterValidator(rules.domain), Field(json_schema_extra={"maxLength": 253})]
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
# What an item of a profile is: a link (or the one featured link, drawn larger),
# or a block that only shows something: a section title, a paragraph, a rule,
# a collapsible group of the links under it, a contact card, an e-mail sign-up form.
Kind = Literal["link", "featured", "header", "text", "divider", "group", "contact", "signup"]
TEXT_MAX = 500
Body = Annotated[str, AfterValidator(partial(rules.text, max_len=TEXT_MAX, multiline=True))]
Email = Annotated[str, AfterValidator(rules.email)]
Phone = Annotated[str, AfterValidator(rules.phone)]
WebUrl = Annotated[str, AfterValidator(rules.web_url)]


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


UtmValue = Annotated[str, AfterValidator(rules.utm_value)]


class Utm(Strict):
    """UTM tags the redirector adds to a link's URL (``utm_content`` is the link's
    title as a slug); a link's own tags win over its profile's."""

    source: UtmValue | None = None
    medium: UtmValue | None = None
    campaign: UtmValue | None = None


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
    domain: Domain | None = None  # a host whose root is the page (the edge maps it)
    utm: Utm | None = None  # tags added to its links' URLs as visitors follow them


class Contact(Strict):
    """A contact card: published as a vCard (``/<username>.vcf``) with a "save" button."""

    name: DisplayName
    email: Email | None = None
    phone: Phone | None = None
    organisation: DisplayName | None = None
    url: WebUrl | None = None

    @model_validator(mode="after")
    def _named(self) -> Contact:
        if not self.name:
            raise ValueError("name must not be empty")
        return self


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


Device = Literal["ios", "android", "desktop"]
CountryCode = Annotated[str, AfterValidator(rules.country)]
RULES_MAX = 10


class Rule(_Schedule):
    """A smart link's rule: where the link sends a visitor for whom every one of its
    conditions holds (a country, a device, a preferred language, a time window)."""

    url: Url
    country: Annotated[tuple[CountryCode, ...], Field(max_length=60, strict=False)] = ()
    device: Annotated[tuple[Device, ...], Field(max_length=3, strict=False)] = ()
    language: Annotated[tuple[Language, ...], Field(max_length=20, strict=False)] = ()

    @model_validator(mode="after")
    def _has_a_condition(self) -> Rule:
        if not (self.country or self.device or self.language or self.starts_at or self.ends_at):
            raise ValueError("a rule needs a condition: a country, a device, a language or a time")
        return self


# A link's rules, tried in order by the redirector: the first that holds wins.
Rules = Annotated[tuple[Rule, ...], Field(max_length=RULES_MAX, strict=False)]

SPLIT_VARIANTS_MAX = 4  # beside the link's own URL: variants B to E
WEIGHT_MAX = 1000
Weight = Annotated[int, Field(ge=1, le=WEIGHT_MAX)]


class Variant(Strict):
    """One of an A/B test's other variants: a URL, a title shown instead of the
    link's (a title test: the edge serves each visitor the page of their
    variant), or both; what it leaves out is the link's own."""

    url: Url | None = None
    title: LinkTitle | None = None
    weight: Weight = 50

    @model_validator(mode="after")
    def _changes_something(self) -> Variant:
        if self.url is None and not self.title:
            raise ValueError("a variant needs a URL or a title of its own")
        return self


class Split(Strict):
    """An A/B test: the link's own URL (variant A, ``weight``) and its variants (B,
    C, …) share its visitors by weight. The redirector chooses from the day's
    visitor hash, so a visitor keeps one variant all day and no cookie is set;
    ``since`` is when this set of URLs and weights began (its numbers count from
    there)."""

    weight: Weight = 50
    variants: Annotated[tuple[Variant, ...], Field(max_length=SPLIT_VARIANTS_MAX, strict=False)]
    since: Moment

    @model_validator(mode="after")
    def _has_a_variant(self) -> Split:
        if not self.variants:
            raise ValueError("variants: an A/B test needs a variant beside the link's own")
        return self

    @property
    def titled(self) -> bool:
        """Whether it tests titles: then the page differs per visitor, not just the URL."""
        return any(variant.title for variant in self.variants)


PasswordHash = Annotated[str, AfterValidator(rules.argon2id_hash)]


class Lock(Strict):
    """A locked link: the redirector asks for its password, or for a visitor to
    confirm their age, before it sends them on."""

    kind: Literal["password", "age"]
    password_hash: PasswordHash | None = None  # never the password
    age: int | None = Field(None, ge=13, le=25)

    @model_validator(mode="after")
    def _complete(self) -> Lock:
        if self.kind == "age" and (self.age is None or self.password_hash is not None):
            raise ValueError("an age lock has an age (13 to 25) and no password")
        if self.kind == "password" and (self.password_hash is None or self.age is not None):
            raise ValueError("a password lock has an argon2id password hash and no age")
        return self

    @field_serializer("password_hash")
    def _kept_inside(self, value: str | None, info: SerializationInfo) -> str | None:
        """The hash goes into the database, exports and undo, never out of an API or
        a command's JSON (dumped with ``context=PUBLIC``)."""
        return None if (info.context or {}).get("public") else value


PUBLIC = {"public": True}  # serialization context of what leaves linkgen: no secrets


class NewLink(_Schedule):
    """A new item: a link (``kind`` link or featured, with a URL) or a block."""

    kind: Kind = "link"
    title: LinkTitle = ""
    url: Url | None = None
    enabled: bool = True
    thumbnail: ImageRef | None = None
    icon: IconChoice | None = None  # None: detected from the URL
    social: bool = False  # in the icons row rather than a button
    sensitive: Sensitivity | None = None
    embed: bool = False  # shown as a player's facade: nothing loads until tapped
    body: Body | None = None  # a text block's paragraph
    contact: Contact | None = None  # a contact block's card
    rules: Rules = ()  # where it sends some visitors instead (the redirector decides)
    utm: Utm | None = None  # its own UTM tags, over the profile's
    lock: Lock | None = None  # a password or an age to confirm first (the redirector asks)
    split: Split | None = None  # an A/B test of its URL (the redirector chooses)

    @model_validator(mode="after")
    def _fits_its_kind(self) -> NewLink:
        check_item(self)
        return self


def check_item(item: NewLink | Link) -> None:
    """The fields an item has suit its kind (ValueError naming the first that does not)."""
    kind = item.kind
    if kind in LINK_KINDS:
        if not item.url:
            raise ValueError(f"url: a {kind} needs a URL")
        if not item.title:
            raise ValueError("title must not be empty")
        if item.body is not None or item.contact is not None:
            raise ValueError(f"a {kind} has no {'body' if item.body is not None else 'contact'}")
        if kind == "featured" and item.social:
            raise ValueError("social: a featured link is drawn as a large button, not an icon")
        if item.embed:
            from linkgen.pages.embeds import provider

            if item.social or kind == "featured":
                raise ValueError("embed: an embed is a button of its own, not an icon or featured")
            if item.lock is not None:
                raise ValueError("lock: an embed plays on the page's player; it cannot be locked")
            if item.split is not None:
                raise ValueError("split: an embed plays on the page's player; it has one URL")
            if provider(item.url) is None:
                raise ValueError(
                    "embed: only YouTube, Vimeo, Spotify, SoundCloud, Apple Music, TikTok "
                    "and Bandcamp links can be shown as an embed"
                )
        return
    for name in ("url", "thumbnail", "icon", "sensitive"):
        if getattr(item, name):
            raise ValueError(f"{name}: a {kind} block has no {name}")
    if item.social or item.embed:
        raise ValueError(f"{'social' if item.social else 'embed'}: a {kind} block is not a link")
    if item.rules or item.utm or item.lock or item.split:
        name = "rules" if item.rules else "utm" if item.utm else "lock" if item.lock else "split"
        raise ValueError(f"{name}: a {kind} block is not a link")
    if kind in ("header", "group", "signup") and not item.title:
        raise ValueError(f"title: a {kind} needs a title")
    if kind == "divider" and item.title:
        raise ValueError("title: a divider has no title")
    if kind == "text" and not item.body:
        raise ValueError("body: a text block needs its text")
    if kind != "text" and item.body is not None:
        raise ValueError(f"body: only a text block has a body, not a {kind}")
    if kind == "contact" and item.contact is None:
        raise ValueError("contact: a contact block needs its card (at least a name)")
    if kind != "contact" and item.contact is not None:
        raise ValueError(f"contact: a {kind} has no contact card")


class LinkChanges(_Schedule):
    """An edit of a link: only the fields set explicitly change (None clears)."""

    kind: Kind | None = None
    title: LinkTitle | None = None
    url: Url | None = None
    enabled: bool | None = None
    thumbnail: ImageRef | None = None
    icon: IconChoice | None = None
    social: bool | None = None
    sensitive: Sensitivity | None = None
    embed: bool | None = None
    body: Body | None = None
    contact: Contact | None = None
    rules: Rules | None = None
    utm: Utm | None = None
    lock: Lock | None = None
    split: Split | None = None


class Link(Strict):
    """An item of a profile as stored: a link or a block (``kind``)."""

    id: str
    position: int
    kind: Kind = "link"
    title: str
    url: str = ""  # "" for a block
    enabled: bool = True
    thumbnail: str | None = None
    icon: str | None = None
    social: bool = False
    sensitive: Sensitivity | None = None
    embed: bool = False
    body: str | None = None
    contact: Contact | None = None
    rules: tuple[Rule, ...] = ()
    utm: Utm | None = None
    lock: Lock | None = None
    split: Split | None = None
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
    style: Style = Style.model_construct()  # not Style(): that would build its validator now
    sensitive: Sensitivity | None = None
    social_image: str | None = None
    language: str | None = None
    seo_title: str | None = None
    seo_description: str | None = None
    domain: str | None = None
    utm: Utm | None = None
    created_at: Moment
    updated_at: Moment
    version: int = Field(ge=1)
    links: tuple[Link, ...] = ()


INPUT_FIELDS = tuple(NewLink.model_fields)  # what an item's input and its record share


def record_of(new: NewLink) -> dict[str, Any]:
    """The fields of an item's input as its record keeps them (a block's URL: "")."""
    fields = {name: getattr(new, name) for name in INPUT_FIELDS}
    fields["url"] = new.url or ""
    return fields


def input_of(link: Link) -> dict[str, Any]:
    """The fields of a stored item as its input would give them (a block's URL: None)."""
    fields = {name: getattr(link, name) for name in INPUT_FIELDS}
    fields["url"] = link.url or None
    return fields


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
            NewLink.model_validate(input_of(link), strict=False)
        checked = ("display_name", "bio", "avatar", "language", "seo_title", "seo_description",
                   "domain")  # fmt: skip
        ProfileFields.model_validate({name: getattr(self.profile, name) for name in checked})
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
