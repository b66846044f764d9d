"""``linkgen up``: the whole service for a site in one command."""

from __future__ import annotations

import signal
import threading
import time
from typing import TYPE_CHECKING

import click

from linkgen.cli.base import App, cli, pass_app

if TYPE_CHECKING:
    from linkgen.ops.supervisor import Service

READY_WITHIN = 60.0  # seconds the services have to answer their health checks


@cli.command()
@click.option(
    "--preview",
    is_flag=True,
    help="Also serve what is published (a folder target) as an edge would, on --preview-port.",
)
@click.option("--preview-port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@click.option("--editor-port", type=click.IntRange(1, 65535), default=8090, show_default=True)
@click.option(
    "--worker-port",
    type=click.IntRange(1, 65535),
    default=8092,
    show_default=True,
    help="The worker's /healthz and /metrics.",
)
@click.option(
    "--redirector-port",
    type=click.IntRange(1, 65535),
    help="Default: [redirector] port.",
)
@click.option("--no-redirector", is_flag=True, help="Do not run the redirector.")
@pass_app
def up(
    app: App,
    preview: bool,
    preview_port: int,
    editor_port: int,
    worker_port: int,
    redirector_port: int | None,
    no_redirector: bool,
) -> None:
    """Run the site's services together: the editor, the worker that publishes every
    edit, the redirector (and with --preview a local edge). A service that stops is
    started again; Ctrl+C or SIGTERM stops them all, and none outlives this command.

    Example:

        linkgen up --preview
    """
    from linkgen.ops.supervisor import Service, Supervisor

    site = app.site  # a missing database is refused here, before anything starts
    root = site.root
    redirector = site.config.redirector
    services = [
        Service(
            "editor",
            ["editor", "--port", str(editor_port)],
            f"http://127.0.0.1:{editor_port}/healthz",
        ),
        Service(
            "worker",
            ["worker", "--metrics-port", str(worker_port)],
            f"http://127.0.0.1:{worker_port}/healthz",
        ),
    ]
    if not no_redirector:
        port = redirector_port or redirector.port
        address = f"http://{redirector.host}:{port}/healthz"
        services.append(Service("redirector", ["redirector", "--port", str(port)], address))
    if preview:
        services.append(
            Service(
                "preview",
                ["serve", "--published", "--port", str(preview_port)],
                f"http://127.0.0.1:{preview_port}/",
            )
        )
    app.close()
    supervisor = Supervisor(root, services, say=click.echo)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())

    def announce() -> None:
        threading.Thread(target=_when_ready, args=(services, stop), daemon=True).start()

    click.echo(f"starting {', '.join(s.name for s in services)} for {root} (Ctrl+C stops)")
    supervisor.run(stop, ready=announce)
    click.echo("stopped")


def _answers(url: str) -> bool:
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status < 500)
    except urllib.error.HTTPError as refused:
        return refused.code < 500
    except OSError:
        return False


def _when_ready(services: list[Service], stop: threading.Event) -> None:
    waiting = [s for s in services if s.health]
    deadline = time.monotonic() + READY_WITHIN
    while waiting and not stop.wait(0.2):
        waiting = [s for s in waiting if s.health and not _answers(s.health)]
        if time.monotonic() > deadline:
            click.echo(f"not answering yet: {', '.join(s.name for s in waiting)}", err=True)
            return
    if stop.is_set():
        return
    lines = ["all services are up:"]
    for service in services:
        lines.append(f"  {service.name:<11} {(service.health or '').removesuffix('healthz')}")
    lines.append("sign in to the editor with a link from: linkgen user add EMAIL --admin")
    click.echo("\n".join(lines))
