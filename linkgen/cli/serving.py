"""``linkgen serve``, ``watch``, ``redirector`` and ``editor``: the long-running servers."""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING

import click

from linkgen.cli.base import App, bind, cli, pass_app, probe, serve_options
from linkgen.cli.output import build_report_text
from linkgen.errors import LinkgenError

if TYPE_CHECKING:
    from linkgen.build import BuildReport


@cli.command()
@serve_options
@click.option(
    "--published",
    is_flag=True,
    help="Serve what was published to the folder target ([publish] target = file://…), "
    "as an edge would, instead of build/.",
)
@pass_app
def serve(app: App, host: str, port: int, published: bool) -> None:
    """Preview build/ in a browser (pages served as the bucket will serve them).

    Example:

        linkgen serve --port 8000
    """
    from linkgen.preview.serve import make_server

    folder = app.site.build_dir
    if published:
        from linkgen.publish.targets import FileTarget, open_target

        target = open_target(app.site.config.publish, app.site.root)
        if not isinstance(target, FileTarget):
            raise LinkgenError("--published serves a folder target (file://); this site's is S3")
        folder = target.root
        folder.mkdir(parents=True, exist_ok=True)
    server = bind(lambda: make_server(folder, host, port), host, port)
    click.echo(f"serving {folder} at {server.url}/ (Ctrl+C stops)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


@cli.command("watch")
@serve_options
@pass_app
def watch_cmd(app: App, host: str, port: int) -> None:
    """Rebuild on every change and serve a preview that reloads itself.

    Example:

        linkgen watch --port 8000
    """
    from linkgen.preview.serve import ReloadSignal, make_server
    from linkgen.preview.watch import watch

    reload = ReloadSignal()
    server = bind(lambda: make_server(app.site.build_dir, host, port, reload), host, port)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    click.echo(f"watching {app.site.root}; preview at {server.url}/ (Ctrl+C stops)")
    stop = threading.Event()

    def built(report: BuildReport) -> None:
        click.echo(build_report_text(report))
        reload.bump()

    def failed(exc: LinkgenError) -> None:
        click.echo(f"Error: {exc}", err=True)

    try:
        watch(app.site.root, on_build=built, on_error=failed, stop=stop)
    except KeyboardInterrupt:
        stop.set()
    finally:
        server.shutdown()
        server.server_close()


@cli.command("redirector")
@click.option("--host", help="Bind address (default: [redirector] host, 127.0.0.1).")
@click.option("--port", type=click.IntRange(1, 65535), help="Default: [redirector] port.")
@click.option("--workers", type=click.IntRange(1, 64), help="Processes (default: 1).")
@pass_app
def redirector_cmd(app: App, host: str | None, port: int | None, workers: int | None) -> None:
    """Serve /r/<link id> (302 to the link) and /v/<profile id> (the view beacon).

    Clicks and views are written to site_data/clicks.db in batches, off the
    request path. SIGTERM or Ctrl+C stops it after writing every queued one.
    With [redirector] links_from, the links come from the link map the
    publisher writes to the bucket: any number of redirectors, on machines
    with no content database (docs/operations.md).

    Example:

        linkgen redirector --port 8081
    """
    from linkgen import site as sites
    from linkgen.clicks.server import serve

    config_only = sites.Site.open(app.site_dir)  # the content database may not be here
    if not config_only.config.redirector.links_from:
        config_only = app.site  # links from the database: it must exist
    settings = config_only.config.redirector
    host, port = host or settings.host, port or settings.port
    bind(lambda: probe(host, port), host, port)
    metrics_host, metrics_port = settings.metrics_host, settings.metrics_port
    if metrics_port and (workers or settings.workers) == 1:  # its worker would hang on it
        bind(
            lambda: probe(metrics_host, metrics_port),
            metrics_host,
            metrics_port,
            "[redirector] metrics_port: another port, or 0 for no metrics",
        )
    root = config_only.root
    click.echo(f"redirector for {root} on http://{host}:{port}/ (Ctrl+C stops)")
    app.close()
    serve(root, host=host, port=port, workers=workers or settings.workers)


@cli.command("editor")
@click.option("--host", default="127.0.0.1", show_default=True, help="Bind address.")
@click.option("--port", type=click.IntRange(1, 65535), default=8090, show_default=True)
@pass_app
def editor_cmd(app: App, host: str, port: int) -> None:
    """Serve the creators' web editor (sign in, edit, preview).

    Accounts come from `linkgen user add`. Its cookies are Secure (https only)
    unless it listens on loopback; behind https, set [editor] base_url to the
    https address.

    Example:

        linkgen editor --port 8090
    """

    from granian import Granian
    from granian.constants import HTTPModes, Interfaces, Loops
    from granian.log import LogLevels

    bind(lambda: probe(host, port), host, port)
    root = app.site.root
    click.echo(f"editor for {root} on http://{host}:{port}/ (Ctrl+C stops)")
    app.close()
    os.environ["LINKGEN_SITE"] = str(root)
    os.environ["LINKGEN_EDITOR_HOST"] = host  # cookies are Secure off loopback
    Granian(
        "linkgen.editor.app:app_from_env",
        factory=True,
        address=host,
        port=port,
        interface=Interfaces.ASGI,
        workers=1,
        loop=Loops.uvloop,
        http=HTTPModes.http1,
        websockets=False,
        log_level=LogLevels.warning,
    ).serve()
