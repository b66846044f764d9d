"""A site on disk: ``linkgen.toml``, ``site_data/``, optional ``templates/`` and ``themes/``."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from linkgen.errors import SiteNotFound
from linkgen.store import settings_file
from linkgen.store.database import Database

# Loaded when first used: a command that only reads the database needs neither
# the checked settings and themes (pydantic) nor the renderer (Jinja2).
if TYPE_CHECKING:
    from linkgen import config
    from linkgen.editor.accounts import Accounts
    from linkgen.pages import themes
    from linkgen.pages.render import Renderer
    from linkgen.store.build_state import BuildState
    from linkgen.store.content import Content
    from linkgen.store.exchange import Exchange
    from linkgen.store.journal import Journal
    from linkgen.store.manifest import Manifest
    from linkgen.store.outbox import Outbox
    from linkgen.store.profile_rows import ProfileRows
    from linkgen.store.routes import Routes
    from linkgen.store.webhooks import Webhooks


DATA_DIR = "site_data"
DB_FILE = "linkgen.db"
TEMPLATE_REFS_KEY = "template_references"


@dataclass
class Site:
    root: Path
    # The settings as last checked (JSON by section), while linkgen.toml is unchanged.
    _kept: dict[str, dict[str, Any]] | None = field(default=None, repr=False)
    _config: config.Config | None = field(default=None, repr=False)
    _themes: dict[str, themes.Theme] | None = field(default=None, repr=False)
    _broken: dict[str, str] = field(default_factory=dict, repr=False)
    _database: Database | None = field(default=None, repr=False)
    _rows: ProfileRows | None = field(default=None, repr=False)
    _references: dict[str, list[str]] = field(default_factory=dict, repr=False)
    creating: bool = field(default=False, repr=False)  # only init makes a new database
    actor: str = field(default="linkgen", repr=False)  # who edits, for the history

    @classmethod
    def open(cls, root: Path) -> Site:
        """The site in ``root``; its settings are checked now unless they were checked
        before and linkgen.toml and the overrides are unchanged (``settings_file``)."""
        root = root.resolve()
        if not (root / settings_file.CONFIG_FILE).is_file():
            raise SiteNotFound(
                f"{root} is not a linkgen site (no {settings_file.CONFIG_FILE}); "
                f"run 'linkgen init' there or pass --site DIR"
            )
        _, _, key = settings_file.read(root)
        kept = settings_file.kept(root, key)
        if kept is not None:
            return cls(root, kept)
        from linkgen import config

        checked = config.load(root)  # refused here when wrong
        return cls(root, checked.model_dump(mode="json"), checked)

    @property
    def config(self) -> config.Config:
        """The site's settings, checked. While linkgen.toml is as last checked, they
        are read back without the models (``settings_file.Section``: the same
        names and values as ``config.Config``, read-only)."""
        if self._config is None:
            if self._kept:  # as last checked: read without the models
                self._config = cast("config.Config", settings_file.settings(self._kept))
            else:
                from linkgen import config

                self._config = config.load(self.root)
        return self._config

    def setting(self, section: str, name: str) -> Any:
        """One checked setting as JSON, without loading the settings' models."""
        if self._kept is None:
            return self.config.model_dump(mode="json")[section][name]
        return self._kept[section][name]

    @property
    def themes(self) -> dict[str, themes.Theme]:
        """The site's own themes and the built-in ones, by name."""
        if self._themes is None:
            from linkgen.pages import themes
            from linkgen.pages.resources import builtin

            self._broken = {}
            dirs = [self.root / "themes", builtin("themes")]
            self._themes = themes.discover(dirs, self._broken, self.root / DATA_DIR / "cache")
        return self._themes

    @property
    def broken_themes(self) -> dict[str, str]:
        """Theme files that cannot be used, by name, with why: refused for their profiles."""
        self.themes  # noqa: B018
        return self._broken

    @property
    def db_path(self) -> Path:
        return self.root / DATA_DIR / DB_FILE

    @property
    def media_dir(self) -> Path:
        """Avatars and thumbnails as the page uses them, by content hash."""
        return self.root / DATA_DIR / "media"

    @property
    def build_dir(self) -> Path:
        return self.root / self.config.build.output

    @property
    def database(self) -> Database:
        """The content database, opened (and migrated) on first use."""
        if self._database is None:
            self._refuse_missing_database()
            self.db_path.parent.mkdir(parents=True, exist_ok=True)
            self._database = Database(self.db_path)
        return self._database

    def _profile_rows(self) -> ProfileRows:
        if self._rows is None:
            from linkgen.store.profile_rows import ProfileRows

            self._rows = ProfileRows(
                self.database,
                actor=self.actor,
                max_links=self.setting("build", "max_links"),
                themes={slug: theme.tokens for slug, theme in self.themes.items()},
                default_theme=self.setting("site", "default_theme"),
                broken_themes=self.broken_themes,
                reserved_hosts=self.own_hosts(),
            )
        return self._rows

    def _refuse_missing_database(self) -> None:
        """A wrong --site or a lost volume is an error, never a new empty site."""
        if self.creating:
            return
        try:
            empty = self.db_path.stat().st_size == 0
        except FileNotFoundError:
            raise SiteNotFound(
                f"{self.db_path} is missing: is --site right? 'linkgen restore' brings "
                f"back a backup, 'linkgen init' starts an empty site"
            ) from None
        if empty:
            raise SiteNotFound(
                f"{self.db_path} is empty: is --site right? 'linkgen restore' brings back "
                f"a backup; remove the file and run 'linkgen init' to start an empty site"
            )

    @property
    def content(self) -> Content:
        """Profiles and links: edits, history, undo."""
        from linkgen.store.content import Content

        return Content(self._profile_rows())

    @property
    def exchange(self) -> Exchange:
        """Export, import and bulk loads."""
        from linkgen.store.exchange import Exchange

        return Exchange(self._profile_rows())

    @property
    def outbox(self) -> Outbox:
        from linkgen.store.outbox import Outbox

        return Outbox(self.database)

    @property
    def builds(self) -> BuildState:
        """What the build knows: pages built, the build queue, build meta."""
        from linkgen.store.build_state import BuildState

        return BuildState(self.database)

    @property
    def journal(self) -> Journal:
        """The names of build/ each build wrote or removed, for the next publish."""
        from linkgen.store.journal import Journal

        return Journal(self.database)

    @property
    def manifest(self) -> Manifest:
        """What each publish target holds, and the purges still owed."""
        from linkgen.store.manifest import Manifest

        return Manifest(self.database)

    @property
    def routes(self) -> Routes:
        """Where links send visitors (the redirector's view)."""
        from linkgen.store.routes import Routes

        return Routes(self.database)

    @property
    def webhooks(self) -> Webhooks:
        """Where events go, and the deliveries still owed."""
        from linkgen.store.webhooks import Webhooks

        return Webhooks(self.database)

    @property
    def accounts(self) -> Accounts:
        """The editor's accounts and sessions (tables of the content database)."""
        from linkgen.editor.accounts import Accounts

        return Accounts(self.database.conn)

    def own_hosts(self) -> frozenset[str]:
        """The hosts of the site, its redirector and its editor: no profile's domain."""
        from urllib.parse import urlsplit

        setting = self.setting
        urls = [
            setting("site", "url"),
            setting("editor", "base_url"),
            setting("redirector", "base_url"),
        ]
        return frozenset(host for url in urls if url and (host := urlsplit(url).hostname))

    def renderer(self) -> Renderer:
        cache = self.root / DATA_DIR / "cache"
        cache.mkdir(parents=True, exist_ok=True)
        references = json.loads(self.builds.build_meta(TEMPLATE_REFS_KEY) or "{}")
        self._references = references
        from linkgen.pages.render import Renderer

        return Renderer(
            self.root,
            self.config,
            self.themes,
            cache_dir=cache,
            media_dir=self.media_dir,
            references=references,
            broken=self.broken_themes,
        )

    def remember_template_references(self, renderer: Renderer) -> None:
        if renderer.references != self._references:
            self.builds.set_build_meta(TEMPLATE_REFS_KEY, json.dumps(renderer.references))
            self._references = dict(renderer.references)

    def close(self) -> None:
        self._rows = None
        if self._database is not None:
            self._database.close()
            self._database = None


def init(root: Path) -> Site:
    """Create a site in ``root`` (kept as is where it already is one)."""
    root.mkdir(parents=True, exist_ok=True)
    from linkgen import config

    settings = root / config.CONFIG_FILE
    if not settings.exists():
        settings.write_text(config.DEFAULT_TOML, encoding="utf-8")
    for name in (DATA_DIR, "templates", "themes"):
        (root / name).mkdir(exist_ok=True)
    ignore = root / ".gitignore"
    if not ignore.exists():
        ignore.write_text("/build/\n/site_data/*.db-*\n/site_data/cache/\n", encoding="utf-8")
    site = Site.open(root)
    site.creating = True
    site.database  # creates the database and runs the migrations  # noqa: B018
    site.creating = False
    return site
