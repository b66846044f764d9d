"""``linkgen webhook …``: where events are sent, and deliveries given up on."""

from __future__ import annotations

import click

from linkgen.cli.base import App, LinkgenGroup, cli, json_option, pass_app
from linkgen.cli.output import emit


@cli.group(cls=LinkgenGroup)
def webhook() -> None:
    """Events sent to a URL of yours, signed (Standard Webhooks), retried for 24 hours.

    Example:

        linkgen webhook add https://hooks.example.com/linkgen --events profile.published
    """


@webhook.command("add")
@click.argument("url")
@click.option(
    "--events",
    required=True,
    help="Comma-separated: profile.updated, profile.published, link.clicked.hourly.",
)
@click.option("--profile", "username", help="Only this profile's events (default: every one).")
@pass_app
def webhook_add(app: App, url: str, events: str, username: str | None) -> None:
    """Send events to URL; prints the signing secret once.

    Example:

        linkgen webhook add https://hooks.example.com/in --events profile.published --profile alice
    """
    from linkgen import fetch, rules
    from linkgen.errors import InvalidInput
    from linkgen.store.webhooks import parse_events

    try:
        checked = rules.url(url)
    except ValueError as exc:
        raise InvalidInput(f"url: {exc}") from None
    if not checked.startswith(("https://", "http://")):
        raise InvalidInput("url: a webhook is sent to an http:// or https:// URL")
    wanted = parse_events(events)
    try:
        fetch.check_public(checked, app.site.config.fetch.allow_networks)
    except fetch.Refused:
        raise
    except fetch.FetchFailed as exc:  # not found from here, now: checked again on each send
        click.echo(f"warning: {exc}", err=True)
    profile_id = app.site.content.get(username.lower()).id if username else None
    hook, secret = app.site.webhooks.add(checked, wanted, profile_id)
    whose = f"@{username.lower()}'s" if username else "every profile's"
    click.echo(f"webhook {hook.id}: {whose} {', '.join(sorted(wanted))} to {checked}; "
               "signing secret (shown only now):", err=True)  # fmt: skip
    click.echo(secret)


@webhook.command("list")
@json_option
@pass_app
def webhook_list(app: App, as_json: bool) -> None:
    """Every webhook: its id, URL, events and profile.

    Example:

        linkgen webhook list
    """
    names = {p.id: p.username for p in app.site.content.list_profiles()}
    hooks = app.site.webhooks.all()
    rows, lines = [], []
    for h in hooks:
        whose = names.get(h.profile_id, h.profile_id) if h.profile_id else None
        events = sorted(h.events)
        rows.append({"id": h.id, "url": h.url, "events": events, "profile": whose,
                     "created_at": h.created_at})  # fmt: skip
        lines.append(f"{h.id}  {h.url}  {' '.join(events)}  "
                     + (f"@{whose}" if whose else "every profile"))  # fmt: skip
    emit(as_json, rows, "\n".join(lines) or "(no webhooks)")


@webhook.command("rm")
@click.argument("hook_id")
@pass_app
def webhook_rm(app: App, hook_id: str) -> None:
    """Stop sending to a webhook; what it was still owed is dropped.

    Example:

        linkgen webhook rm Xy12ab34Cd56
    """
    app.site.webhooks.remove(hook_id)
    click.echo(f"removed webhook {hook_id}")


@webhook.command("failed")
@json_option
@pass_app
def webhook_failed(app: App, as_json: bool) -> None:
    """Deliveries given up on after 24 hours of tries (dead letters).

    Example:

        linkgen webhook failed
    """
    dead = app.site.webhooks.dead_letters()
    rows = [
        {"id": d.id, "webhook": d.webhook_id, "url": d.url, "event": d.event,
         "created_at": d.created_at, "attempts": d.attempts, "last_error": d.last_error}
        for d in dead
    ]  # fmt: skip
    lines = [
        f"{d.id}  {d.event}  {d.url}  {d.attempts} tries since {d.created_at}: {d.last_error}"
        for d in dead
    ]
    emit(as_json, rows, "\n".join(lines) or "(no failed deliveries)")


@webhook.command("retry")
@click.argument("delivery_ids", nargs=-1)
@click.option("--all", "every", is_flag=True, help="Every failed delivery.")
@pass_app
def webhook_retry(app: App, delivery_ids: tuple[str, ...], every: bool) -> None:
    """Try failed deliveries again (the running worker sends them).

    Example:

        linkgen webhook retry --all
    """
    if not delivery_ids and not every:
        raise click.UsageError("name the deliveries (see 'linkgen webhook failed') or --all")
    count = app.site.webhooks.retry(None if every else list(delivery_ids))
    click.echo(f"{count} deliveries queued again")
