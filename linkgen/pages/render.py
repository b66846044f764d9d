"""Render = context -> Jinja2 template -> bytes, for pages and site files.

One Jinja2 environment per theme; its loader path puts theme-specific
templates before the shared ones, and the site's own before the built-in
ones. The fingerprint of a theme covers its tokens and the source of exactly
the templates its pages use, so editing a template rebuilds only the
profiles whose pages it is part of.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import urlsplit

import jinja2
from markupsafe import Markup

from linkgen import __version__
from linkgen.errors import ThemeError
from linkgen.fsutil import write_file
from linkgen.pages import (
    blocks,
    cards,
    embeds,
    icons,
    images,
    language,
    qr,
    sharing,
    templating,
    themes,
)
from linkgen.pages.resources import builtin
from linkgen.pages.templating import escape
from linkgen.records import PageLink, PageProfile, page_address
from linkgen.store import settings_file

if TYPE_CHECKING:
    from linkgen.config import Config

log = logging.getLogger(__name__)

PAGE_TEMPLATE = "profile.html"
PLAYER_TEMPLATE = "player.html"
CSS_TEMPLATE = "style.css"
# Compiled templates kept between builds; the name changes when what a
# template compiles to does (templating._Compiler), so older ones are not used.
BYTECODE_PATTERN = "__linkgen3_%s.cache"
SITE_TEMPLATES = ("404.html", "robots.txt", "index.html")


def _theme_image(slug: str, source: bytes) -> bytes:
    """A theme's background image, checked and re-encoded as an upload would be."""
    try:
        return images.ingest(source, "background", source=f"background image of {slug}").data
    except images.ImageRefused as exc:
        raise ThemeError(f"theme '{slug}': {exc}") from None


class Rendered(NamedTuple):
    """A profile's page, and what its other files are made from."""

    html: bytes
    players: list[tuple[PageLink, embeds.Embed]]  # each embed with a player page of ours
    contact: PageLink | None  # its contact block, if it shows one


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
        broken: Mapping[str, str] | None = None,
    ):
        self.config = config
        self.site_url = config.site.url
        edge = config.redirector.mode == "edge"
        self.redirect_base = self.site_url if edge else config.redirector.base_url
        # A link with rules goes through the redirector even where the edge serves
        # the others (the edge cannot choose; its object holds the link's own URL).
        self.smart_base = config.redirector.base_url
        self.edge_links = edge  # links are objects the edge answers (pages.redirects)
        self.themes = dict(theme_set)
        # Themes that cannot be used (a bad file, a template that does not parse),
        # with why: their profiles' pages are refused, never drawn with another.
        self.broken = dict(broken or {})
        if config.site.default_theme in self.broken:
            raise ThemeError(
                f"the default theme '{config.site.default_theme}' cannot be used: "
                f"{self.broken[config.site.default_theme]}"
            )
        if config.site.default_theme not in self.themes:
            raise ThemeError(
                f"the default theme '{config.site.default_theme}' does not exist "
                f"(known: {', '.join(sorted(self.themes))})"
            )
        self.default_theme = config.site.default_theme
        self._site_templates = site_dir / "templates"
        self._bytecode = (
            jinja2.FileSystemBytecodeCache(str(cache_dir), BYTECODE_PATTERN) if cache_dir else None
        )
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
        self._players: dict[str, jinja2.Template] = {}
        self.icons = icons.IconBook(cache_dir / "icons.json" if cache_dir else None)
        self.media_dir = media_dir  # where avatars are read and social cards drawn
        # Where pages find /_m/ files: the site, or (the editor's preview) the server
        # showing them, which has new images before they are published.
        self.media_base = self.site_url
        self._media_path = ("", "")  # (media_base, its path)
        self.social_card_key, card = sharing.site_card()
        self.social_card = card
        self.site_fingerprint = templating.digest(
            __version__,
            json.dumps(settings_file.as_json(config.site), separators=(",", ":")),
            config.redirector.base_url or "",
            config.redirector.mode,
            card,
            f"cards={config.build.social_cards}:{cards.VERSION}",
            f"qr={config.build.qr_codes}:{qr.VERSION}",
            f"words={language.fingerprint()}",
            "media=by-path",  # pages name their own images by path (on_page)
        )
        self.theme_fingerprints: dict[str, str] = {}
        for slug in list(self.themes):
            try:
                self.theme_fingerprints[slug] = self._theme_fingerprint(slug)
            except ThemeError as exc:
                if slug == self.default_theme:
                    raise
                self.broken[slug] = str(exc)
                del self.themes[slug]

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
            env = templating.environment(search, self._bytecode)
            self._envs[slug] = env
        return env

    def _theme_fingerprint(self, slug: str) -> str:
        env = self.env(slug)
        names = templating.closure(
            env, self.references, [PAGE_TEMPLATE, PLAYER_TEMPLATE, CSS_TEMPLATE]
        )
        return templating.digest(
            self.site_fingerprint,
            self.themes[slug].source,
            self.themes[slug].image or b"",
            *(f"{name}\0{templating.source(env, name)}" for name in names),
        )

    def site_files_fingerprint(self) -> str:
        env = self.env(self.default_theme)
        names = templating.closure(env, self.references, [*SITE_TEMPLATES, CSS_TEMPLATE])
        return templating.digest(
            self.site_fingerprint,
            self.themes[self.default_theme].source,
            *(f"{name}\0{templating.source(env, name)}" for name in names),
        )

    def theme_fingerprint(self, slug: str) -> str:
        """A theme's fingerprint; a missing theme falls back to the default one,
        under a fingerprint of its own so its pages rebuild when it returns."""
        known = self.theme_fingerprints.get(slug)
        if known is not None:
            return known
        return templating.digest("fallback", slug, self.theme_fingerprints[self.default_theme])

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
                address = f"{self.media_path()}/_m/{name}"
        self._theme_images[slug] = address
        return address

    def _absolute_image(self, style: Mapping[str, str]) -> Mapping[str, str]:
        """The background image under the site's path (/links/_m/… when site.url has one)."""
        image = style.get("background_image")
        if not image:
            return style
        return {**style, "background_image": self.media_path() + image}

    def media_path(self) -> str:
        """The path part of media_base (/links when the site lives under /links/)."""
        base = self.media_base
        if self._media_path[0] != base:  # worked out once per media_base, not per image
            self._media_path = (base, urlsplit(base).path.rstrip("/"))
        return self._media_path[1]

    def on_page(self, ref: str) -> str:
        """An image's address in the page itself: the site's own media by path alone
        (/_m/…, under the site's path), so the page shows them from wherever it is
        served — the bucket, the CDN, `linkgen serve` on any port."""
        return self.media_path() + ref if ref.startswith("/_m/") else self.absolute(ref)

    def absolute(self, ref: str) -> str:
        if ref.startswith("/_m/"):
            return self.media_base + ref
        return self.site_url + ref if ref.startswith("/") else ref

    def profile_url(self, username: str, domain: str | None = None) -> str:
        """The page's address: the root of its own domain, else its path on the site."""
        return page_address(self.site_url, username, domain)

    def vcard_url(self, username: str) -> str:
        return f"{self.site_url}/{username}.vcf"

    def vcard_path(self, username: str) -> str:
        """Where the page finds the profile's contact card (by path, like its images)."""
        return f"{self.media_path()}/{username}.vcf"

    def ensure_qr(self, username: str, domain: str | None = None) -> str | None:
        """The profile's QR code under /_m/ (made if missing), when the build writes them."""
        if not self.config.build.qr_codes or self.media_dir is None:
            return None
        return "/_m/" + qr.ensure_qr(self.media_dir, self.profile_url(username, domain))

    def page_template(self, slug: str) -> jinja2.Template:
        template = self._pages.get(slug)
        if template is None:
            template = self._pages[slug] = self._template(self.env(slug), PAGE_TEMPLATE)
        return template

    def _template(self, env: jinja2.Environment, name: str) -> jinja2.Template:
        try:
            template = env.get_template(name)
        except jinja2.TemplateNotFound:
            raise ThemeError(f"template '{name}' not found") from None
        except jinja2.TemplateError as exc:
            raise templating.error(exc, name) from None
        # Its globals are a ChainMap over the environment's, which every render
        # copies key by key (10 % of a page); those no longer change.
        template.globals = dict(template.globals)
        return template

    def page(self, profile: PageProfile, links: Sequence[PageLink]) -> bytes:
        return self.profile_page(profile, links).html

    def profile_page(
        self, profile: PageProfile, links: Sequence[PageLink], label: str | None = None
    ) -> Rendered:  # label: the variant of a title test it is (its beacon says so)
        username = profile.username
        name = profile.display_name or username
        canonical = self.profile_url(username, profile.domain)
        speech = self.speech(profile.language)
        title = profile.seo_title or f"{name} (@{username})"
        said = {"name": name, "username": username, "site": self.config.site.title}
        about = speech.gettext("Links of %(name)s (@%(username)s)") % said
        description = profile.seo_description or profile.bio or about
        description = " ".join(description.split())
        if len(description) > 200:
            description = description[:199] + "…"
        image = self._share_image(profile, name)
        query = f"?x={label}" if label else ""  # a title test's variant, for its beacon
        views = blocks.link_views(self, profile.id, links)
        buttons, socials, used, warned, same_as, facades, players = views
        if not facades and all(link.kind == "link" for link in links):
            # links only (most pages): one run of buttons, as before blocks existed
            kinds: frozenset[str] = frozenset()
            pieces = [blocks.Piece("links", buttons)] if buttons else []
        else:
            card = (self.vcard_path(username), speech.gettext("Save contact"))
            on = {view.id: view for view in buttons}
            pieces, kinds = blocks.arrange(links, on, facades, card, self.smart_base)
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
                image_alt=speech.gettext("%(name)s (@%(username)s) on %(site)s") % said,
                avatar=self.on_page(profile.avatar) if profile.avatar else None,
                links=buttons,  # every button, for a theme's own template that knows no blocks
                pieces=pieces,
                blocks=bool(kinds),
                socials=socials,
                symbols=Markup("".join(self._symbol(icon) for icon in used.values())),
                warned=warned,
                warnings=speech.warnings,
                tags=speech.tags,
                speech=speech,
                gate=profile.sensitive,
                jsonld=sharing.jsonld(
                    profile,
                    name,
                    canonical,
                    same_as,
                    self.absolute,
                    speech.tag,
                ),
                css=self.css(
                    profile.theme,
                    profile.style,
                    blocks.css_parts(
                        bool(socials), bool(used), bool(warned), bool(profile.sensitive), kinds
                    ),
                ),
                beacon=f"{self.redirect_base}/v/{profile.id}{query}" if self.redirect_base else "",
            )
        except jinja2.TemplateError as exc:
            raise templating.error(exc, f"{PAGE_TEMPLATE} (@{username})") from None
        contact = None
        if "contact" in kinds:
            contact = next(item for item in links if item.kind == "contact")
        return Rendered(html.encode("utf-8"), players, contact)

    def player(self, profile: PageProfile, link: PageLink, embed: embeds.Embed) -> bytes:
        """The page an embed's tap opens: the provider's player, and nothing else of theirs."""
        speech = self.speech(profile.language)
        template = self._players.get(profile.theme)
        if template is None:
            template = self._template(self.env(profile.theme), PLAYER_TEMPLATE)
            self._players[profile.theme] = template
        try:
            html = template.render(
                speech=speech,
                # the page's two phrases, looked up here: a template's _() costs more
                open_on=speech.gettext("Open on %(provider)s") % {"provider": embed.name},
                go_back=speech.gettext("Go back"),
                policy=embeds.policy(embed),
                title=link.title,
                name=profile.display_name or profile.username,
                css=self.css(profile.theme, profile.style, frozenset({"player"})),
                player=embed.player,
                shape=embed.shape,
                href=self.link_href(link),
                page=f"{self.media_path()}/{profile.username}",
            )
        except jinja2.TemplateError as exc:
            raise templating.error(exc, f"{PLAYER_TEMPLATE} (@{profile.username})") from None
        return html.encode("utf-8")

    def link_href(self, link: PageLink) -> str:
        """Where a button for ``link`` points: the redirector, or the edge, when they
        send visitors on (a link with rules: the redirector), else the link itself."""
        if link.smart and self.smart_base:
            label = f"?x={link.label}" if link.label else ""  # a title test's page variant
            return f"{self.smart_base}/r/{link.id}{label}"
        return f"{self.redirect_base}/r/{link.id}" if self.redirect_base else link.url

    def speech(self, tag: str | None) -> language.Speech:
        """How a page in ``tag`` speaks; None: in the site's language."""
        return language.speech(tag or self.config.site.language)

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
        card = cards.profile_card(self.media_dir, self.site_url, profile, name, variables)
        return sharing.ShareImage(f"{self.site_url}/_m/{card}", *sharing.CARD_SIZE, "image/jpeg")

    # -- site files ---------------------------------------------------------

    def _site_template(self, name: str, **context: Any) -> bytes:
        env = self.env(self.default_theme)
        try:
            text = self._template(env, name).render(
                site=self.config.site, speech=self.speech(None), **context
            )
        except jinja2.TemplateError as exc:
            raise templating.error(exc, name) from None
        return text.encode("utf-8")

    def not_found(self) -> bytes:
        return self._site_template("404.html", css=self.css(self.default_theme, {}))

    def home(self, usernames: Sequence[str], more: int) -> bytes:
        """The page at /: a directory of ``usernames`` (and how many ``more``), or a
        page sending visitors to the URL ``[site] home`` names."""
        home = self.config.site.home
        return self._site_template(
            "index.html",
            css=self.css(self.default_theme, {}),
            profiles=usernames,
            more=more,
            shown_more=language.count(self.speech(None), more),
            redirect=home if home.startswith(("https://", "http://")) else None,
        )

    def robots(self) -> bytes:
        return self._site_template("robots.txt", sitemap=f"{self.site_url}/sitemap.xml")
