"""``linkgen stats`` and ``linkgen clicks …``: the figures, and the raw events
beyond this machine."""

from __future__ import annotations

from pathlib import Path

import click

from linkgen.cli.base import App, cli, json_option, pass_app
from linkgen.cli.output import emit


@cli.command("stats")
@click.argument("username")
@click.option("--days", type=click.IntRange(1, 3660), default=30, show_default=True)
@click.option("--bots", is_flag=True, help="Count bots and link-preview fetchers too.")
@click.option("--csv", "as_csv", is_flag=True, help="One CSV row per day.")
@click.option(
    "--html",
    "html_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write a self-contained dashboard page (SVG charts, no JavaScript) to this file.",
)
@click.option(
    "--from-s3",
    "from_s3",
    is_flag=True,
    help="Compute from the hourly files every redirector shipped ([clicks] ship_to).",
)
@json_option
@pass_app
def stats_cmd(
    app: App,
    username: str,
    days: int,
    bots: bool,
    as_csv: bool,
    html_file: Path | None,
    from_s3: bool,
    as_json: bool,
) -> None:
    """Views, unique views, clicks, unique clickers and CTR of a profile.

    Example:

        linkgen stats alice --days 7 --html alice-stats.html
    """
    from linkgen.clicks import stats
    from linkgen.clicks.db import ClickStore, clicks_path

    if from_s3:
        from linkgen.clicks.shipping import s3_events

        with s3_events(app.site.config.clicks) as shipped:
            numbers = stats.compute(
                app.site.database, shipped, username.lower(), days=days, bots=bots
            )
    else:
        clicks = ClickStore(clicks_path(app.site.root))
        try:
            numbers = stats.compute(
                app.site.database, clicks, username.lower(), days=days, bots=bots
            )
        finally:
            clicks.close()
    if html_file is not None:
        from linkgen.clicks.dashboard import render
        from linkgen.fsutil import write_file

        page = render(numbers, note=counting_note(app))
        write_file(html_file.resolve(), page.encode("utf-8"))
        click.echo(f"wrote {html_file}")
        return
    if as_csv:
        click.echo(stats.as_csv(numbers), nl=False)
        return
    emit(as_json, stats.as_dict(numbers), stats.as_text(numbers))
    note = counting_note(app)
    if note and not from_s3:
        click.echo(f"note: {note}", err=True)


def counting_note(app: App) -> str | None:
    from linkgen.clicks import stats

    setting = app.site.setting
    return stats.counting_note(setting("redirector", "mode"), setting("redirector", "base_url"))


@cli.group("clicks")
def clicks_group() -> None:
    """Raw click and view events beyond this machine.

    Example:

        linkgen clicks ship
    """


@clicks_group.command("ship")
@json_option
@pass_app
def clicks_ship(app: App, as_json: bool) -> None:
    """Copy each closed hour of events to S3 as gzip NDJSON (never twice).

    Objects: <prefix>clicks/dt=YYYY-MM-DD/hour=HH/<instance>.ndjson.gz

    Example:

        linkgen clicks ship
    """
    import time

    from linkgen.clicks.db import ClickStore, clicks_path
    from linkgen.clicks.shipping import ship

    store = ClickStore(clicks_path(app.site.root))
    try:
        report = ship(store, app.site.config.clicks, now_ms=int(time.time() * 1000))
    finally:
        store.close()
    data = {"shipped": [{"key": key, "events": count} for key, count in report.shipped]}
    lines = [f"shipped {key} ({count:,} events)" for key, count in report.shipped]
    emit(as_json, data, "\n".join(lines) or "nothing to ship: every closed hour is shipped")


@clicks_group.command("ingest")
@click.argument("logs", nargs=-1, required=True)
@click.option(
    "--endpoint-url",
    metavar="URL",
    help="The S3 endpoint for s3:// logs (default: [publish] endpoint_url).",
)
@json_option
@pass_app
def clicks_ingest(app: App, logs: tuple[str, ...], endpoint_url: str | None, as_json: bool) -> None:
    """Count the clicks and views in the edge's access logs (with [redirector] mode =
    "edge"): each log is read on from where it was left, so giving a file again, or
    a rotated one under its new name, never counts a line twice. Plain or .gz;
    s3://BUCKET/PREFIX/ reads every log object under it (CloudFront, Logpush).

    Example:

        linkgen clicks ingest /var/log/varnish/linkgen.log /var/log/varnish/linkgen.log.1
    """
    from dataclasses import asdict

    from linkgen.clicks.ingest import ingest

    report = ingest(app.site, list(logs), endpoint_url=endpoint_url)
    human = (
        f"{report.clicks} clicks and {report.views} views from {report.lines} new lines "
        f"in {report.files} logs ({report.ignored} other requests"
        + (f", {report.already} logs with nothing new" if report.already else "")
        + ")"
    )
    emit(as_json, asdict(report), human)
