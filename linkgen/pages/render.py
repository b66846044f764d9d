"""Render = context -> Jinja2 template -> bytes, for pages and site files.

One Jinja2 environment per theme; its loader path puts theme-specific
templates before the shared ones, and the site's own before the built-in
ones. The fingerprint of a theme covers its tokens and the source of exactly
the templates its pages use, so editing a template rebuilds only the
profiles whose pages it is part of.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import urlsplit

import jinja2
from jinja2 import meta
from markupsafe import Markup, escape

from linkgen import __version__
from linkgen.config import Config
from linkgen.errors import ThemeError
from linkgen.fsutil import write_file
from linkgen.pages import brands, cards, icons, images, qr, sharing, themes
from linkgen.pages.resources import builtin
from linkgen.records import PageLink, PageProfile

log = logging.getLogger(__name__)

PAGE_TEMPLATE = "profile.html"
CSS_TEMPLATE = "style.css"
SITE_TEMPLATES = ("404.html", "robots.txt", "index.html")
SOCIAL_CARD = "assets/social-card.png"


class LinkView(NamedTuple):
    """A link as the page template sees it, every decision already taken
    (``for id, href, opens, title, me, thumbnail, loading, icon, warning in links``:
    unpacking is cheaper for Jinja than an attribute lookup per field)."""

    id: str
    href: str  # where the link goes
    opens: str  # what the button points at: href, or its warning ("#w-<id>")
    title: str
    me: bool  # a social profile of the creator: rel="me"
    thumbnail: str | None
    loading: str  # "eager" for the first few thumbnails, "lazy" below the fold
    icon: str | None  # the id of the icon's <symbol>
    warning: str | None  # "18+", "21+", "25+", "sensitive": a warning before it opens


EAGER_THUMBNAILS = 4  # the buttons above the fold on a phone; the rest load lazily
WARNINGS = {
    "18+": "This link is marked as for adults only (18+).",
    "21+": "This link is marked as for people aged 21 or over.",
    "25+": "This link is marked as for people aged 25 or over.",
    "sensitive": "This link may show sensitive content.",
}


def _theme_image(slug: str, source: bytes) -> bytes:
    """A theme's background image, checked and re-encoded as an upload would be."""
    try:
        return images.ingest(source, "background", source=f"background image of {slug}").data
    except images.ImageRefused as exc:
        raise ThemeError(f"theme '{slug}': {exc}") from None


@functools.lru_cache(maxsize=1)
def site_card() -> tuple[str, bytes]:
    """The site's own link-preview image: its key under build/ and its bytes."""
    card = (builtin("templates") / SOCIAL_CARD).read_bytes()
    return f"_m/{hashlib.sha256(card).hexdigest()[:20]}.png", card


@functools.lru_cache(maxsize=16)
def _parts(socials: bool, icons: bool, warnings: bool, gate: bool) -> frozenset[str]:
    flags = {"socials": socials, "icons": icons, "warnings": warnings, "gate": gate}
    return frozenset(name for name, wanted in flags.items() if wanted)


def _digest(*parts: bytes | str) -> str:
    h = hashlib.blake2b(digest_size=16)
    for part in parts:
        h.update(part.encode() if isinstance(part, str) else part)
        h.update(b"\0")
    return h.hexdigest()


def _template_error(exc: jinja2.TemplateError, name: str | None = None) -> ThemeError:
    if isinstance(exc, jinja2.TemplateSyntaxError):
        where = exc.filename or exc.name or name or "template"
        return ThemeError(f"{where}:{exc.lineno}: {exc.message}")
    return ThemeError(f"{name or 'template'}: {exc}")


def _parse(env: jinja2.Environment, source: str, name: str) -> jinja2.nodes.Template:
    try:
        return env.parse(source, name)
    except jinja2.TemplateSyntaxError as exc:
        raise _template_error(exc, name) from None


class Renderer:
    """Everything needed to turn page rows into bytes; cheap to share with forked workers."""

    def __init__(
        self,
        site_dir: Path,
        config: Config,
        theme_set: Mapping[str, themes.Theme],
        *,
        cache_dir: Path | None = None,
        media_dir: Path | None = None,
        references: dict[str, list[str]] | None = None,
    ):
        self.config = config
        self.site_url = config.site.url
        self.redirect_base = config.redirector.base_url
        self.themes = dict(theme_set)
        if config.site.default_theme not in self.themes:
            raise ThemeError(
                f"the default theme '{config.site.default_theme}' does not exist "
                f"(known: {', '.join(sorted(self.themes))})"
            )
        self.default_theme = config.site.default_theme
        self._site_templates = site_dir / "templates"
        self._bytecode = jinja2.FileSystemBytecodeCache(str(cache_dir)) if cache_dir else None
        # Which templates each template source refers to, by source digest:
        # parsing is only needed for templates that changed.
        self.references = dict(references or {})
        self._envs: dict[str, jinja2.Environment] = {}
        self._css: dict[tuple[str, str, frozenset[str]], Markup] = {}
        self._symbols: dict[str, Markup] = {}  # an icon's <symbol>, built once
        self._theme_images: dict[str, str | None] = {}  # a theme's image address, made once
        # Pages to be looked at on their own (the gallery): theme images inside
        # them as data: URIs, and nothing written to the media folder.
        self.standalone = False
        self._pages: dict[str, jinja2.Template] = {}
        self.icons = icons.IconBook(cache_dir / "icons.json" if cache_dir else None)
        self.media_dir = media_dir  # where avatars are read and social cards drawn
        # Where pages find /_m/ files: the site, or (the editor's preview) the server
        # showing them, which has new images before they are published.
        self.media_base = self.site_url
        self.social_card_key, card = site_card()
        self.social_card = card
        self.site_fingerprint = _digest(
            __version__,
            config.site.model_dump_json(),
            config.redirector.base_url or "",
            card,
            f"cards={config.build.social_cards}:{cards.VERSION}",
            f"qr={config.build.qr_codes}:{qr.VERSION}",
        )
        self.theme_fingerprints = {slug: self._theme_fingerprint(slug) for slug in self.themes}

    # -- environments -------------------------------------------------------

    def theme_for(self, slug: str) -> str:
        return slug if slug in self.themes else self.default_theme

    def env(self, slug: str) -> jinja2.Environment:
        slug = self.theme_for(slug)
        env = self._envs.get(slug)
        if env is None:
            theme = self.themes[slug]
            search = [*theme.template_dirs[:1], self._site_templates]
            search += [*theme.template_dirs[1:], builtin("templates")]
            env = jinja2.Environment(
                loader=jinja2.FileSystemLoader([p for p in search if p.is_dir()]),
                autoescape=jinja2.select_autoescape(["html", "xml"]),
                trim_blocks=True,
                lstrip_blocks=True,
                auto_reload=False,
                undefined=jinja2.StrictUndefined,
                bytecode_cache=self._bytecode,
            )
            # JSON-LD keys are in a deliberate order; sorting them costs time.
            env.policies["json.dumps_kwargs"] = {"sort_keys": False}
            self._envs[slug] = env
        return env

    def _template_closure(self, env: jinja2.Environment, roots: Iterable[str]) -> list[str]:
        seen: set[str] = set()
        pending = list(roots)
        while pending:
            name = pending.pop()
            if name in seen:
                continue
            seen.add(name)
            source = self._source(env, name)
            key = _digest(source)
            refs = self.references.get(key)
            if refs is None:
                found = list(meta.find_referenced_templates(_parse(env, source, name)))
                # A computed name could be any template.
                refs = env.list_templates() if None in found else [r for r in found if r]
                self.references[key] = refs
            pending.extend(refs)
        return sorted(seen)

    def _source(self, env: jinja2.Environment, name: str) -> str:
        assert env.loader is not None
        try:
            return env.loader.get_source(env, name)[0]
        except jinja2.TemplateNotFound:
            raise ThemeError(f"template '{name}' not found") from None

    def _theme_fingerprint(self, slug: str) -> str:
        env = self.env(slug)
        names = self._template_closure(env, [PAGE_TEMPLATE, CSS_TEMPLATE])
        return _digest(
            self.site_fingerprint,
            self.themes[slug].source,
            self.themes[slug].image or b"",
            *(f"{name}\0{self._source(env, name)}" for name in names),
        )

    def site_files_fingerprint(self) -> str:
        env = self.env(self.default_theme)
        names = self._template_closure(env, [*SITE_TEMPLATES, CSS_TEMPLATE])
        return _digest(
            self.site_fingerprint,
            self.themes[self.default_theme].source,
            *(f"{name}\0{self._source(env, name)}" for name in names),
        )

    def theme_fingerprint(self, slug: str) -> str:
        """A theme's fingerprint; a missing theme falls back to the default one,
        under a fingerprint of its own so its pages rebuild when it returns."""
        known = self.theme_fingerprints.get(slug)
        if known is not None:
            return known
        return _digest("fallback", slug, self.theme_fingerprints[self.default_theme])

    def current_fingerprints(self, themes_in_use: Iterable[str]) -> list[str]:
        return sorted({self.theme_fingerprint(slug) for slug in [*self.themes, *themes_in_use]})

    # -- pages --------------------------------------------------------------

    def css(
        self, slug: str, style: Mapping[str, str], parts: frozenset[str] = frozenset()
    ) -> Markup:
        """The page's CSS; ``parts`` names the optional blocks it needs (socials,
        icons, warnings, gate), so a page carries no rules it does not use."""
        slug = self.theme_for(slug)
        key = (slug, json.dumps(style, sort_keys=True) if style else "", parts)
        css = self._css.get(key)
        if css is None:
            theme = self.themes[slug]
            text = (
                self.env(slug)
                .get_template(CSS_TEMPLATE)
                .render(
                    vars=themes.css_variables(
                        theme.tokens, self._absolute_image(style), self.theme_image(slug)
                    ),
                    dark=themes.dark_variables(theme.tokens, style),
                    theme=theme.tokens,
                    button_style=style.get("button_style", theme.tokens.button_style),
                    parts=parts,
                )
            )
            css = Markup(" ".join(line.strip() for line in text.splitlines() if line.strip()))
            self._css[key] = css
        return css

    def theme_image(self, slug: str) -> str | None:
        """Where the page finds its theme's background image, made the first time.

        Checked and re-encoded like an upload, and kept in the media folder as
        ``<digest of the theme's file>.webp``, so a later build finds it made.
        """
        if slug in self._theme_images:
            return self._theme_images[slug]
        source = self.themes[slug].image
        address = None
        if source is not None:
            name = f"{hashlib.blake2b(source, digest_size=12).hexdigest()}.webp"
            if self.standalone or self.media_dir is None:
                encoded = base64.b64encode(_theme_image(slug, source)).decode()
                address = f"data:image/webp;base64,{encoded}"
            else:
                target = self.media_dir / name
                if not target.exists():
                    write_file(target, _theme_image(slug, source))
                address = f"{self._media_path()}/_m/{name}"
        self._theme_images[slug] = address
        return address

    def _absolute_image(self, style: Mapping[str, str]) -> Mapping[str, str]:
        """The background image under the site's path (/links/_m/… when site.url has one)."""
        image = style.get("background_image")
        if not image:
            return style
        return {**style, "background_image": self._media_path() + image}

    def _media_path(self) -> str:
        """The path part of media_base (/links when the site lives under /links/)."""
        return urlsplit(self.media_base).path.rstrip("/")

    def absolute(self, ref: str) -> str:
        if ref.startswith("/_m/"):
            return self.media_base + ref
        return self.site_url + ref if ref.startswith("/") else ref

    def profile_url(self, username: str) -> str:
        return f"{self.site_url}/{username}"

    def ensure_qr(self, username: str) -> str | None:
        """The profile's QR code under /_m/ (made if missing), when the build writes them."""
        if not self.config.build.qr_codes or self.media_dir is None:
            return None
        return "/_m/" + qr.ensure_qr(self.media_dir, self.profile_url(username))

    def page_template(self, slug: str) -> jinja2.Template:
        template = self._pages.get(slug)
        if template is None:
            template = self._pages[slug] = self._template(self.env(slug), PAGE_TEMPLATE)
        return template

    def _template(self, env: jinja2.Environment, name: str) -> jinja2.Template:
        try:
            return env.get_template(name)
        except jinja2.TemplateNotFound:
            raise ThemeError(f"template '{name}' not found") from None
        except jinja2.TemplateError as exc:
            raise _template_error(exc, name) from None

    def page(self, profile: PageProfile, links: Sequence[PageLink]) -> bytes:
        username = profile.username
        name = profile.display_name or username
        canonical = self.profile_url(username)
        title = profile.seo_title or f"{name} (@{username})"
        description = profile.seo_description or profile.bio or f"Links of {name} (@{username})"
        description = " ".join(description.split())
        if len(description) > 200:
            description = description[:199] + "…"
        image = self._share_image(profile, name)
        buttons: list[LinkView] = []
        socials: list[LinkView] = []
        used: dict[str, icons.Icon] = {}  # each icon drawn once, as a <symbol>
        warned: list[LinkView] = []
        same_as: list[str] = []  # social-network links among the buttons
        own_profiles: list[str] = []  # the social row: the creator's own profiles
        for link in links:
            brand = brands.detect(link.url)
            me = brands.is_social(brand)
            if me and not link.sensitive:
                (own_profiles if link.social else same_as).append(link.url)
            chosen = link.icon or brand
            icon = None
            if chosen != icons.NO_ICON and (chosen or link.social):
                icon = self.icons.get(chosen) if chosen else icons.GENERIC
                used.setdefault(icon.slug, icon)
            href = f"{self.redirect_base}/r/{link.id}" if self.redirect_base else link.url
            thumb = self.absolute(link.thumbnail) if link.thumbnail else None
            view = LinkView(
                link.id,
                href,
                f"#w-{link.id}" if link.sensitive else href,
                link.title,
                me and not link.sensitive,
                thumb,
                "eager" if len(buttons) < EAGER_THUMBNAILS else "lazy",
                f"i-{icon.slug}" if icon else None,
                link.sensitive,
            )
            (socials if link.social else buttons).append(view)
            if link.sensitive:
                warned.append(view)
        # Values used several times in the page are escaped once here.
        template = self.page_template(self.theme_for(profile.theme))
        try:
            html = template.render(
                site=self.config.site,
                profile=profile,
                name=name,
                title=escape(title),
                description=escape(description),
                canonical=escape(canonical),
                image=escape(image.url),
                image_meta=image,
                image_alt=f"{name} (@{username}) on {self.config.site.title}",
                avatar=self.absolute(profile.avatar) if profile.avatar else None,
                links=buttons,
                socials=socials,
                symbols=Markup("".join(self._symbol(icon) for icon in used.values())),
                warned=warned,
                warnings=WARNINGS,
                gate=profile.sensitive,
                jsonld=sharing.jsonld(
                    profile,
                    name,
                    canonical,
                    (own_profiles or same_as)[: sharing.SAME_AS],
                    self.absolute,
                ),
                css=self.css(
                    profile.theme,
                    profile.style,
                    _parts(bool(socials), bool(used), bool(warned), bool(profile.sensitive)),
                ),
                beacon=f"{self.redirect_base}/v/{profile.id}" if self.redirect_base else None,
            )
        except jinja2.TemplateError as exc:
            raise _template_error(exc, f"{PAGE_TEMPLATE} (@{username})") from None
        return html.encode("utf-8")

    def _symbol(self, icon: icons.Icon) -> Markup:
        symbol = self._symbols.get(icon.slug)
        if symbol is None:
            symbol = self._symbols[icon.slug] = Markup(
                '<symbol id="i-{}" viewBox="0 0 24 24"><path d="{}"/></symbol>'
            ).format(icon.slug, icon.path)
        return symbol

    def _share_image(self, profile: PageProfile, name: str) -> sharing.ShareImage:
        """og:image: the creator's own, else the profile's card, else the site's; with
        its size and type where linkgen made it (stored images have fixed sizes)."""
        if profile.social_image:
            return sharing.stored(
                self.absolute(profile.social_image), profile.social_image, sharing.CARD_SIZE
            )
        if not self.config.build.social_cards or self.media_dir is None or self.standalone:
            if profile.avatar:
                return sharing.stored(
                    self.absolute(profile.avatar), profile.avatar, sharing.AVATAR_SIZE
                )
            width, height = sharing.png_size(self.social_card)
            return sharing.ShareImage(
                f"{self.site_url}/{self.social_card_key}", width, height, "image/png"
            )
        variables = themes.css_variables(
            self.themes[self.theme_for(profile.theme)].tokens, profile.style
        )
        avatar = None
        if profile.avatar and profile.avatar.startswith("/_m/"):
            try:
                avatar = (self.media_dir / profile.avatar[4:]).read_bytes()
            except OSError:
                avatar = None
        address = self.site_url.split("://", 1)[-1]
        card = cards.ensure_card(
            self.media_dir,
            name=name,
            username=profile.username,
            address=f"{address}/{profile.username}",
            avatar=avatar,
            colours=(
                variables["--bg"],
                variables["--fg"],
                variables["--muted"],
                variables["--btn"],
            ),
        )
        return sharing.ShareImage(f"{self.site_url}/_m/{card}", *sharing.CARD_SIZE, "image/jpeg")

    # -- site files ---------------------------------------------------------

    def _site_template(self, name: str, **context: Any) -> bytes:
        env = self.env(self.default_theme)
        try:
            text = self._template(env, name).render(site=self.config.site, **context)
        except jinja2.TemplateError as exc:
            raise _template_error(exc, name) from None
        return text.encode("utf-8")

    def not_found(self) -> bytes:
        return self._site_template("404.html", css=self.css(self.default_theme, {}))

    def home(self, usernames: Sequence[str], more: int) -> bytes:
        """The page at /: a directory of ``usernames`` (and how many ``more``), or a
        page sending visitors to the URL ``[site] home`` names."""
        home = self.config.site.home
        redirect = home if home.startswith(("https://", "http://")) else None
        return self._site_template(
            "index.html",
            css=self.css(self.default_theme, {}),
            profiles=usernames,
            more=more,
            redirect=redirect,
        )

    def robots(self) -> bytes:
        return self._site_template("robots.txt", sitemap=f"{self.site_url}/sitemap.xml")
