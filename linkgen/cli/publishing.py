"""``linkgen build``, ``publish``, ``worker`` and ``edge``: from the database to the
edge, and the edge's configuration."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

import click

from linkgen.cli.base import App, bind, cli, json_option, pass_app, warn_loopback
from linkgen.cli.output import build_report_text, emit, progress_bar
from linkgen.errors import LinkgenError

if TYPE_CHECKING:
    from linkgen.publish.run import PublishReport


@cli.command("build")
@click.option("--full", is_flag=True, help="Render every profile, changed or not.")
@click.option("--jobs", type=click.IntRange(1, 256), help="Processes (default: one per core).")
@json_option
@pass_app
def build_cmd(app: App, full: bool, jobs: int | None, as_json: bool) -> None:
    """Render the profiles that changed since the last build into build/.

    Example:

        linkgen build --jobs 4
    """
    from linkgen.build import build

    with progress_bar(not as_json, "rendering") as progress:
        report = build(app.site, full=full, jobs=jobs, progress=progress)
    data = {
        "total": report.total,
        "rendered": report.rendered,
        "removed": report.removed,
        "site_files": report.site_files,
        "next_change": report.next_change,
        "seconds": round(report.seconds, 3),
        "jobs": report.jobs,
        "failed": report.failed,
    }
    emit(as_json, data, build_report_text(report))
    if report.failed:
        _refused(report.failed)
        raise click.exceptions.Exit(1)


def _check_address(app: App, allowed: bool) -> None:
    """A site whose [site] url is this machine may be published to this machine (a
    folder, a local S3); to anywhere else only when asked: its pages would send
    every visitor to their own computer."""
    from linkgen.rules import loopback

    settings = app.site.config
    if not loopback(settings.site.url):
        return
    publish = settings.publish
    local = publish.target.startswith("file://") or loopback(publish.endpoint_url)
    if not local and not allowed:
        raise LinkgenError(
            f"[site] url is {settings.site.url}, a loopback address, and {publish.target} is "
            "not on this machine: the pages' canonical, Open Graph and QR addresses would "
            "point at each visitor's own computer. Set [site] url to the public address "
            "(or pass --allow-loopback-url)"
        )
    warn_loopback(app, "the pages' canonical, Open Graph and QR addresses")


def _refused(failed: dict[str, str]) -> None:
    for username, why in sorted(failed.items())[:50]:
        click.echo(f"Error: @{username} was not built: {why}", err=True)


@cli.command("publish")
@click.option("--dry-run", is_flag=True, help="Print the plan; change nothing.")
@click.option("--no-build", is_flag=True, help="Publish build/ as it is, without building first.")
@click.option(
    "--verify",
    is_flag=True,
    help="List the target once and repair objects changed or deleted behind our back.",
)
@click.option(
    "--max-deletes",
    type=click.IntRange(0),
    help="Allow this many deletes in this run (default: [publish] max_deletes).",
)
@click.option(
    "--allow-loopback-url",
    is_flag=True,
    help="Publish to a bucket off this machine although [site] url is 127.0.0.1 or "
    "localhost (the pages' canonical, Open Graph and QR addresses would point there).",
)
@json_option
@pass_app
def publish_cmd(
    app: App,
    dry_run: bool,
    no_build: bool,
    verify: bool,
    max_deletes: int | None,
    allow_loopback_url: bool,
    as_json: bool,
) -> None:
    """Build what changed, upload only changed objects, delete removed ones.

    Exit 0 only if everything succeeded; otherwise one line per failure.

    Example:

        linkgen publish --dry-run
    """
    from linkgen.publish.run import publish

    _check_address(app, allow_loopback_url)
    # A dry run builds too: that only touches build/, and the plan must
    # show what a real run would upload.
    built = None
    marks = []  # the edits this build and publish put live (none known without a build)
    if not no_build:
        marks = app.site.outbox.marks()
        from linkgen.build import build

        with progress_bar(not as_json, "rendering") as progress:
            built = build(app.site, progress=progress)
    with progress_bar(not as_json and not dry_run, "uploading") as progress:
        report = publish(
            app.site, dry_run=dry_run, max_deletes=max_deletes, verify=verify, progress=progress
        )
    data = {
        "target": report.target,
        "dry_run": report.dry_run,
        "built": built.rendered if built else None,
        "uploads": report.uploaded,
        "deletes": report.deleted,
        "purge_keys": report.purge_keys,
        "purged": report.purged,
        "purge_pending": report.purge_pending,
        "unchanged": report.unchanged,
        "bytes": report.bytes,
        "failures": report.failures,
        "drift": report.drift,
        "unknown": report.unknown,
        "verified": report.verified,
        "link_map_shards_written": report.link_map_shards_written,
        "seconds": round(report.seconds, 3),
    }
    if report.ok and built is not None and not dry_run:  # as the worker does after a cycle
        from linkgen.publish.deliveries import announce_published

        app.site.outbox.done(marks)
        announce_published(app.site, marks)
    emit(as_json, data, _publish_text(report, verify))
    if built and built.failed:
        _refused(built.failed)
    if report.failures:
        for failure in report.failures[:50]:
            click.echo(f"Error: {failure}", err=True)
        if len(report.failures) > 50:
            click.echo(f"Error: ... and {len(report.failures) - 50} more", err=True)
        raise click.exceptions.Exit(1)
    if built and built.failed:
        raise click.exceptions.Exit(1)


@cli.command("worker")
@click.option("--once", is_flag=True, help="Publish what is waiting, then exit.")
@click.option(
    "--metrics-port",
    type=click.IntRange(0, 65535),
    help="Serve /healthz and Prometheus /metrics on this port (0: any free one).",
)
@click.option("--metrics-host", default="127.0.0.1", show_default=True, help="Their address.")
@pass_app
def worker_cmd(app: App, once: bool, metrics_port: int | None, metrics_host: str) -> None:
    """Publish edits as they are saved: build, upload, purge (one worker per site).

    Stops cleanly on Ctrl+C or SIGTERM after the publish in progress.

    Example:

        linkgen worker
    """
    import signal

    from linkgen.publish.worker import Cycle, run

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    root = app.site.root
    metrics = None
    if metrics_port is not None:
        from linkgen.publish.metrics import WorkerMetrics

        metrics = WorkerMetrics(root)
        server = bind(lambda: metrics.serve(metrics_host, metrics_port), metrics_host, metrics_port)
        click.echo(f"worker health and metrics on http://{metrics_host}:{server.server_port}/")

    def cycle(done: Cycle) -> None:
        report = done.report
        if metrics is not None:
            metrics.cycle(report.ok, done.seconds, done.queued_at)
        state = "ok" if report.ok else f"{len(report.failures)} failures"
        click.echo(
            f"published {done.edits} edited profiles: {len(report.uploaded)} uploads, "
            f"{len(report.deleted)} deletes, {len(report.purged)} keys purged "
            f"in {done.seconds:.2f}s ({state})"
        )
        for failure in report.failures[:10]:
            click.echo(f"Error: {failure}", err=True)
        _refused(done.refused)

    def failed(exc: LinkgenError) -> None:
        click.echo(f"Error: {exc}", err=True)

    if not once:
        click.echo(f"worker for {root} started (Ctrl+C stops)")
    try:
        ok = run(
            root,
            stop=stop,
            once=once,
            on_cycle=cycle,
            on_error=failed,
            heartbeat=metrics.beat if metrics else None,
        )
    except KeyboardInterrupt:
        return
    if not ok:
        raise click.exceptions.Exit(1)


@cli.group("edge")
def edge_group() -> None:
    """The CDN edge's configuration for this site: Varnish, CloudFront, Fastly or
    Cloudflare, each doing the same (docs/publishing.md).

    Example:

        linkgen edge vcl > /etc/varnish/default.vcl
    """


_prefix_option = click.option(
    "--prefix", metavar="/PREFIX", help="The objects' key prefix (default: from [publish] target)."
)


def _publish_text(report: PublishReport, verify: bool) -> str:
    dry_run = report.dry_run
    verb = "would upload" if dry_run else "uploaded"
    lines = [
        f"{report.target}: {verb} {len(report.uploaded)} ({report.bytes:,} bytes), "
        f"{'would delete' if dry_run else 'deleted'} {len(report.deleted)}, "
        f"unchanged {report.unchanged} in {report.seconds:.2f}s"
    ]
    if report.link_map_shards_written:
        lines.append(f"link map: wrote {report.link_map_shards_written} shards and the index")
    if report.verified and not verify:
        lines.append(f"compared every object with the bucket: {report.verified}")
    if report.drift:
        lines.append(f"repaired {len(report.drift)} objects changed behind our back")
    if report.unknown:
        lines.append(f"{len(report.unknown)} objects under the prefix were not written by linkgen")
    if dry_run:
        lines += [f"  PUT {key}" for key in report.uploaded]
        lines += [f"  DELETE {key}" for key in report.deleted]
    if report.purge_keys:
        shown = " ".join(report.purge_keys[:20])
        more = f" (+{len(report.purge_keys) - 20} more)" if len(report.purge_keys) > 20 else ""
        state = "purged" if report.purged else "to purge" if dry_run else "purge keys"
        lines.append(f"{state}: {shown}{more}")
    return "\n".join(lines)


def _key_prefix(app: App, given: str | None) -> str:
    from linkgen.publish import edge

    return edge.key_prefix(app.site.config.publish) if given is None else given


@edge_group.command("vcl")
@click.option(
    "--origin", metavar="HOST:PORT", help="The S3 endpoint (default: [publish] endpoint_url)."
)
@click.option(
    "--bucket-path",
    metavar="/BUCKET/PREFIX",
    help="Where the site's objects are on it, path-style (default: from [publish] target).",
)
@pass_app
def edge_vcl(app: App, origin: str | None, bucket_path: str | None) -> None:
    """Print the Varnish VCL (varnish-modules' xkey) for this site's bucket: pages
    cached until purged, the site's 404 page for missing keys, one address per
    page, compression, linkgen's own files refused, and each profile's own
    domain (print it again, and reload Varnish, after a domain changes).

    Example:

        linkgen edge vcl --origin 127.0.0.1:9000 --bucket-path /my-bucket/links
    """
    from linkgen.publish import edge

    if origin is None or bucket_path is None:
        default_origin, default_path = edge.from_settings(app.site.config.publish)
        origin, bucket_path = origin or default_origin, bucket_path or default_path
    click.echo(edge.vcl(origin, bucket_path, app.site.builds.domains()), nl=False)


@edge_group.command("cloudfront")
@click.option(
    "--event",
    type=click.Choice(["viewer-request", "viewer-response"]),
    required=True,
    help="Which of the two CloudFront Functions (runtime cloudfront-js-2.0).",
)
def edge_cloudfront(event: str) -> None:
    """Print a CloudFront Function for the distribution in front of the bucket:
    viewer-request (one address per page, / is the home page, linkgen's own files
    refused) or viewer-response (no year-long lifetime downstream, no S3 headers).

    Example:

        linkgen edge cloudfront --event viewer-request > linkgen-request.js
    """
    from linkgen.publish import edge

    click.echo(edge.cloudfront(event), nl=False)


@edge_group.command("fastly")
@_prefix_option
@pass_app
def edge_fastly(app: App, prefix: str | None) -> None:
    """Print the custom VCL for a Fastly service whose backend is the bucket.

    Example:

        linkgen edge fastly > linkgen.vcl
    """
    from linkgen.publish import edge

    click.echo(edge.fastly(_key_prefix(app, prefix)), nl=False)


@edge_group.command("cloudflare")
@_prefix_option
@click.option(
    "--origin",
    metavar="URL",
    default="",
    help="Where the bucket answers (default: the site's own hostname, bound to the bucket; "
    "only then do purges by URL reach the cache).",
)
@pass_app
def edge_cloudflare(app: App, prefix: str | None, origin: str) -> None:
    """Print the Cloudflare Worker for the site's route, in front of the bucket.

    Example:

        linkgen edge cloudflare > worker.js
    """
    from linkgen.publish import edge

    click.echo(edge.cloudflare(_key_prefix(app, prefix), origin), nl=False)


@edge_group.command("varnishncsa")
@click.option(
    "--log",
    "log_file",
    default="/var/log/varnish/linkgen.log",
    show_default=True,
    help="Where varnishncsa writes the access log.",
)
@pass_app
def edge_varnishncsa(app: App, log_file: str) -> None:
    """Print the varnishncsa command whose log `linkgen clicks ingest` reads (clicks
    and views of links the edge answers, [redirector] mode = "edge").

    Example:

        linkgen edge varnishncsa --log /var/log/varnish/linkgen.log
    """
    import shlex

    from linkgen.clicks.ingest import varnishncsa_format

    format_ = varnishncsa_format(app.site.config.redirector.country_header)
    click.echo(f"varnishncsa -a -j -w {shlex.quote(log_file)} -F {shlex.quote(format_)}")
