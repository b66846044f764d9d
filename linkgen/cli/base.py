"""The root command, the error translation at the edge, and the options shared by commands."""

from __future__ import annotations

import getpass
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from linkgen import __version__
from linkgen.errors import InvalidInput, LinkgenError

if TYPE_CHECKING:
    from linkgen import site as sites

log = logging.getLogger("linkgen")


F = TypeVar("F", bound=Callable[..., Any])


INTERNAL_ERROR = 3


class App:
    def __init__(self, site_dir: Path) -> None:
        self.site_dir = site_dir
        self._site: sites.Site | None = None

    @property
    def site(self) -> sites.Site:
        if self._site is None:
            from linkgen.site import Site  # not at import: `--help` needs no site

            self._site = Site.open(self.site_dir)
            self._site.actor = _who()
            self._site.database  # a missing database is refused before anything else  # noqa: B018
        return self._site

    def close(self) -> None:
        if self._site is not None:
            self._site.close()
            self._site = None


def _who() -> str:
    """Who is editing, for the history: $LINKGEN_ACTOR, else the login name."""
    name = os.environ.get("LINKGEN_ACTOR")
    if not name:
        try:
            name = getpass.getuser()
        except (KeyError, OSError):
            name = "unknown"
    return f"{name} (cli)"


class UserError(click.ClickException):
    exit_code = 1


class InternalError(click.ClickException):
    exit_code = INTERNAL_ERROR


class LinkgenGroup(click.Group):
    """Translates library errors into one-line messages at the edge."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if ctx.parent is None:  # the root: --site may come after the subcommand too
            args = hoist_site(args)
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except LinkgenError as exc:
            raise UserError(str(exc)) from None
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except KeyboardInterrupt:
            raise click.Abort() from None
        except Exception as exc:
            log.debug("unexpected error", exc_info=True)
            raise InternalError(
                f"unexpected error: {type(exc).__name__}: {exc} (re-run with -v for details)"
            ) from None


class RootGroup(LinkgenGroup):
    """The root: a command's module is imported when that command is asked for
    (``linkgen.cli.commands``), and the help lists them all from the table."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        from linkgen.cli.commands import COMMANDS

        return sorted({*COMMANDS, *self.commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands:
            from linkgen.cli.commands import load

            load(cmd_name)
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        from linkgen.cli.commands import COMMANDS

        shown = {
            name: self.commands.get(name) or click.Command(name, help=summary)
            for name, (_, summary) in COMMANDS.items()
        }
        limit = formatter.width - 6 - max(map(len, shown))
        rows = [
            (name, command.get_short_help_str(limit))
            for name, command in sorted(shown.items())
            if not command.hidden
        ]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


def hoist_site(args: list[str]) -> list[str]:
    """``--site DIR`` (or ``--site=DIR``) given anywhere before ``--`` moved to the
    front, where the root command reads it: ``linkgen profile list --site demo``."""
    front: list[str] = []
    rest: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            rest += args[i:]
            break
        if arg == "--site" and i + 1 < len(args) and i > 0:
            front += args[i : i + 2]
            i += 2
            continue
        if arg.startswith("--site=") and i > 0:
            front.append(arg)
        else:
            rest.append(arg)
        i += 1
    return front + rest


def warn_loopback(app: App, what: str) -> None:
    """Say so while [site] url is this machine's own address."""
    from linkgen.rules import loopback

    url = app.site.config.site.url
    if loopback(url):
        click.echo(
            f"warning: [site] url is {url}, a loopback address: {what} point(s) at the "
            "visitor's own machine; set it to the site's public address",
            err=True,
        )


pass_app = click.make_pass_decorator(App)
SENSITIVITY = click.Choice(["18+", "21+", "25+", "sensitive", ""])


def json_option(f: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")(f)


def version_option(f: F) -> F:
    return click.option(
        "--if-version",
        "expected_version",
        type=int,
        help="Refuse the edit unless the profile is still at this version.",
    )(f)


@click.group(cls=RootGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--site",
    "site_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=".",
    envvar="LINKGEN_SITE",
    show_default=True,
    help="The site directory (holds linkgen.toml).",
)
@click.option("-v", "--verbose", count=True, help="More detail (-vv for debug).")
@click.option("-q", "--quiet", is_flag=True, help="Only errors.")
@click.version_option(__version__, prog_name="linkgen")
@click.pass_context
def cli(ctx: click.Context, site_dir: Path, verbose: int, quiet: bool) -> None:
    """Link-in-bio pages from a SQLite database, built incrementally.

    Example:

        linkgen init mysite && cd mysite && linkgen profile add alice --name Alice
    """
    level = (
        logging.ERROR if quiet else (logging.WARNING, logging.INFO, logging.DEBUG)[min(verbose, 2)]
    )
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    ctx.obj = App(site_dir)
    ctx.call_on_close(ctx.obj.close)


def serve_options(f: F) -> F:
    f = click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True)(f)
    return click.option("--host", default="127.0.0.1", show_default=True, help="Bind address.")(f)


T = TypeVar("T")


def probe(host: str, port: int) -> None:
    """Fail with a clear message if the address cannot be listened on."""
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host, port))


def bind(make: Callable[[], T], host: str, port: int, remedy: str = "") -> T:
    try:
        return make()
    except OSError as exc:
        hint = f" ({remedy})" if remedy else ""
        raise LinkgenError(f"cannot listen on {host}:{port}: {exc.strerror or exc}{hint}") from None


def key_values(field: str, items: tuple[str, ...]) -> dict[str, str | None]:
    """``KEY=VALUE`` options as a dict; 'KEY=' gives None (remove it)."""
    parsed: dict[str, str | None] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            raise InvalidInput(f"{field}: '{item}' is not KEY=VALUE")
        parsed[key.strip()] = value.strip() or None
    return parsed


utm_option = click.option(
    "--utm",
    "utms",
    multiple=True,
    metavar="KEY=VALUE",
    help="A UTM tag added to the links' URLs as visitors follow them through the "
    "redirector (never written into the page): source, medium or campaign; "
    "utm_content is the link's title. 'KEY=' removes it. Off until set.",
)


def utm_tags(current: Any, items: tuple[str, ...]) -> dict[str, str] | None:
    """The UTM tags ``current`` (a Utm or None) has with ``items`` over them; None: none."""
    tags = current.model_dump(exclude_none=True) if current is not None else {}
    for key, value in key_values("utm", items).items():
        if value is None:
            tags.pop(key, None)
        else:
            tags[key] = value
    return tags or None
