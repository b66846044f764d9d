"""``linkgen backup`` and ``restore``: a running site copied, and brought back."""

from __future__ import annotations

from dataclasses import asdict

import click

from linkgen.cli.base import App, cli, json_option, pass_app
from linkgen.cli.output import emit

_ENDPOINT = click.option(
    "--endpoint-url",
    metavar="URL",
    help="The S3 endpoint for an s3:// location (default: [publish] endpoint_url).",
)


@cli.command()
@click.argument("destination")
@click.option(
    "--keep", type=int, metavar="N", help="Keep the N newest backups there, remove the rest."
)
@_ENDPOINT
@json_option
@pass_app
def backup(
    app: App, destination: str, keep: int | None, endpoint_url: str | None, as_json: bool
) -> None:
    """Copy the site while it runs into DESTINATION (a folder or s3://BUCKET/PREFIX):
    both databases as consistent snapshots, the media, the settings, templates and
    themes, with a manifest of checksums. Yesterday's visitor salts are never in it.

    Example:

        linkgen backup /var/backups/linkgen --keep 14
    """
    from linkgen.ops.backup import backup as make

    settings = app.site.config.publish
    report = make(
        app.site,
        destination,
        keep=keep,
        endpoint_url=endpoint_url or settings.endpoint_url,
        region=settings.region,
    )
    human = (
        f"backed up {report.files} files ({report.bytes:,} bytes) to "
        f"{report.location.rstrip('/')}/{report.name} in {report.seconds:.1f}s"
    )
    if report.removed:
        human += f"\nremoved {len(report.removed)} older: {', '.join(report.removed)}"
    emit(as_json, asdict(report), human)


@cli.command()
@click.argument("source")
@click.option(
    "--replace",
    is_flag=True,
    help="Restore over a site that has a database (what it replaces is kept as *.before-restore).",
)
@_ENDPOINT
@click.option("--region", help="The S3 region for an s3:// location.")
@json_option
@pass_app
def restore(
    app: App,
    source: str,
    replace: bool,
    endpoint_url: str | None,
    region: str | None,
    as_json: bool,
) -> None:
    """Check a backup (every checksum, both databases' integrity) and restore it into
    the --site directory. SOURCE is one backup, or a folder or s3:// prefix of them
    (the newest is taken). The next publish compares every object with the bucket.

    Example:

        linkgen --site /srv/links restore /var/backups/linkgen
    """
    from linkgen.ops.restore import restore as bring_back

    report = bring_back(
        source, app.site_dir.resolve(), replace=replace, endpoint_url=endpoint_url, region=region
    )
    human = f"restored {report.name} (taken {report.created_at}): {report.files} files"
    if report.kept_aside:
        human += f"\nkept what it replaced: {', '.join(report.kept_aside)}"
    human += "\nnext: linkgen build && linkgen publish (it compares every object with the bucket)"
    data = {**asdict(report), "site": str(report.site)}
    emit(as_json, data, human)
