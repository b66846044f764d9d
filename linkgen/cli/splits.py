"""``linkgen link split …``: A/B tests of a link's URL or title, and their numbers."""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Any

import click

from linkgen.cli.base import App, LinkgenGroup, json_option, pass_app, version_option
from linkgen.cli.links import link
from linkgen.cli.output import emit
from linkgen.cli.rules import change_link, current_link
from linkgen.records import VARIANT_LABELS as LABELS

if TYPE_CHECKING:
    from linkgen.clicks.split_stats import SplitReport
    from linkgen.models import Link

WEIGHT = click.IntRange(1, 1000)


@link.group("split", cls=LinkgenGroup)
def split() -> None:
    """A/B tests: a link's own URL and title (variant A) against up to four others.

    A URL test: the redirector shares the link's visitors between the
    variants by their weights, from the visitor hash of the day: a visitor
    keeps one variant all day, with no cookie, and is drawn afresh the next
    day. A title test (`--title`; one link per profile): the build writes a
    page per variant and the edge (`linkgen edge vcl`) serves each visitor
    theirs, drawn from their address, browser and the day; its beacon and
    link say which they saw. `split show` gives each variant's viewers,
    clicks, clickers and CTR, and says when a variant differs from A beyond
    chance (a two-proportion z-test). Rules (`link rule`) come first. Any
    change of the variants or weights starts the test again; its numbers
    count from then. The link goes through the redirector, which needs
    `[redirector] base_url`.

    Example:

        linkgen link split add alice Shop https://example.com/shop-new
        linkgen link split add alice Shop --title "Shop my spring picks"
    """


def _variants(current: Link) -> tuple[int, list[dict[str, Any]]]:
    if current.split is None:
        return 50, []
    return current.split.weight, [v.model_dump(mode="json") for v in current.split.variants]


def _set(
    app: App, username: str, current: Link, weight: int, found: list[dict[str, Any]],
    expected_version: int | None,
) -> Link:  # fmt: skip
    from linkgen.records import iso, now

    value = {"weight": weight, "variants": found, "since": iso(now())} if found else None
    return change_link(app, username, current.id, {"split": value}, expected_version)


def _label(current: Link, label: str) -> int:
    """The index of variant ``label`` (A: the link's own URL)."""
    count = 1 + (len(current.split.variants) if current.split else 0)
    index = LABELS.find(label.strip().upper())
    if len(label.strip()) != 1 or not 0 <= index < count:
        raise click.BadParameter(f"the link has variants {LABELS[0]} to {LABELS[count - 1]}",
                                 param_hint="VARIANT")  # fmt: skip
    return index


@split.command("add")
@click.argument("username")
@click.argument("link_id", metavar="LINK")
@click.argument("url", required=False)
@click.option("--title", help="Show this title instead of the link's (a title test).")
@click.option("--weight", type=WEIGHT, default=50, show_default=True, help="Its share (1-1000).")
@version_option
@pass_app
def split_add(
    app: App, username: str, link_id: str, url: str | None, title: str | None, weight: int,
    expected_version: int | None,
) -> None:  # fmt: skip
    """Add a variant to a link's A/B test (starting one: A is the link itself):
    another URL, another title, or both.

    Example:

        linkgen link split add alice Shop https://example.com/shop-new --weight 50
    """
    if url is None and title is None:
        raise click.UsageError("give the variant a URL, a title (--title), or both")
    current = current_link(app, username, link_id)
    own, found = _variants(current)
    found.append({"url": url, "title": title, "weight": weight})
    changed = _set(app, username, current, own, found, expected_version)
    assert changed.split is not None
    label = LABELS[len(changed.split.variants)]
    click.echo(f"link {changed.id} '{changed.title}': variant {label} added; "
               f"{_shares(changed)}; the test starts now")  # fmt: skip
    provider = app.site.config.cdn.provider
    if title and provider in ("cloudfront", "fastly"):
        click.echo(f"note: the {provider} edge does not draw title tests: its visitors all "
                   "see A (the Varnish edge and the Cloudflare Worker do)", err=True)  # fmt: skip


@split.command("weight")
@click.argument("username")
@click.argument("link_id", metavar="LINK")
@click.argument("variant")
@click.argument("weight", type=WEIGHT)
@version_option
@pass_app
def split_weight(
    app: App, username: str, link_id: str, variant: str, weight: int,
    expected_version: int | None,
) -> None:  # fmt: skip
    """Change a variant's weight (A included); the test starts again.

    Example:

        linkgen link split weight alice Shop B 20
    """
    current = current_link(app, username, link_id)
    index = _label(current, variant)
    own, found = _variants(current)
    if not found:
        raise click.UsageError("the link has no A/B test: add a variant first (`split add`)")
    if index == 0:
        own = weight
    else:
        found[index - 1]["weight"] = weight
    changed = _set(app, username, current, own, found, expected_version)
    click.echo(f"link {changed.id} '{changed.title}': {_shares(changed)}; the test starts again")


@split.command("rm")
@click.argument("username")
@click.argument("link_id", metavar="LINK")
@click.argument("variant")
@version_option
@pass_app
def split_rm(
    app: App, username: str, link_id: str, variant: str, expected_version: int | None
) -> None:
    """Remove a variant (B to E; the later ones move up); the test starts again.

    Example:

        linkgen link split rm alice Shop C
    """
    current = current_link(app, username, link_id)
    index = _label(current, variant)
    if index == 0:
        raise click.BadParameter("A is the link's own URL: `split end --keep B` adopts B",
                                 param_hint="VARIANT")  # fmt: skip
    own, found = _variants(current)
    del found[index - 1]
    changed = _set(app, username, current, own, found, expected_version)
    left = _shares(changed) if changed.split else "no A/B test left"
    click.echo(f"link {changed.id} '{changed.title}': variant {variant.upper()} removed; {left}")


@split.command("end")
@click.argument("username")
@click.argument("link_id", metavar="LINK")
@click.option("--keep", metavar="VARIANT", help="Make this variant's URL the link's own.")
@version_option
@pass_app
def split_end(
    app: App, username: str, link_id: str, keep: str | None, expected_version: int | None
) -> None:
    """End a link's A/B test: every visitor gets A again, or the variant kept
    (its URL and title become the link's).

    Example:

        linkgen link split end alice Shop --keep B
    """
    current = current_link(app, username, link_id)
    if current.split is None:
        raise click.UsageError(f"link {current.id} '{current.title}' has no A/B test")
    values: dict[str, Any] = {"split": None}
    if keep is not None:
        index = _label(current, keep)
        kept = current.split.variants[index - 1] if index else None
        if kept is not None and kept.url is not None:
            values["url"] = kept.url
        if kept is not None and kept.title:
            values["title"] = kept.title
    changed = change_link(app, username, current.id, values, expected_version)
    click.echo(f"link {changed.id} '{changed.title}': A/B test ended; it goes to {changed.url}")


@split.command("show")
@click.argument("username")
@click.argument("link_id", metavar="LINK")
@json_option
@pass_app
def split_show(app: App, username: str, link_id: str, as_json: bool) -> None:
    """A link's A/B test: each variant's viewers, clicks, clickers, CTR, and
    whether it differs from A beyond chance.

    Example:

        linkgen link split show alice Shop
    """
    from linkgen.clicks.db import ClickStore, clicks_path
    from linkgen.clicks.split_stats import report

    current = current_link(app, username, link_id)
    if current.split is None:
        raise click.UsageError(f"link {current.id} '{current.title}' has no A/B test")
    profile_id = app.site.content.get(username).id
    store = ClickStore(clicks_path(app.site.root))
    try:
        numbers = report(store.conn, profile_id, current)
    finally:
        store.close()
    emit(as_json, asdict(numbers), _report_text(numbers))


def _shares(current: Link) -> str:
    assert current.split is not None
    weights = [current.split.weight, *(v.weight for v in current.split.variants)]
    total = sum(weights)
    return ", ".join(f"{LABELS[n]} {100 * w / total:.0f} %" for n, w in enumerate(weights))


def _report_text(numbers: SplitReport) -> str:
    lines = [f"A/B test of link {numbers.link_id} '{numbers.title}' since {numbers.since}"]
    titled = any(v.title != numbers.title for v in numbers.variants)
    lines.append("  variant  weight  viewers  clicks  clickers     CTR  against A")
    for v in numbers.variants:
        ctr = f"{v.ctr:.2f} %" if v.ctr is not None else "—"
        against = v.verdict if v.p_value is None else f"{v.verdict} (p = {v.p_value:g})"
        against = "—" if v.label == "A" else against
        lines.append(f"  {v.label:<7}  {v.weight:>6}  {v.viewers:>7}  {v.clicks:>6}  "
                     f"{v.clickers:>8}  {ctr:>7}  {against}")  # fmt: skip
        lines.append(f"           {v.url}")
        if titled:
            lines.append(f"           {v.title!r}")
    lines.append(f"  {numbers.test}, level {numbers.alpha:g}; humans only; visitors per day.")
    return "\n".join(lines)
