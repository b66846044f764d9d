"""An A/B test's numbers per variant, and whether a difference is significant.

Each view and click is stored with the visitor hash of its day; a visitor's
variant of a split link is worked out again from that hash
(``variants.variant_of``), exactly as the redirector drew it. So the views of
the profile's page count per variant as well as the link's clicks, from the
test's start (``since``) on, humans only (bots and link previews left out).
A title test's visitors were shared by the edge, which served each their
page variant: its views and clicks are counted by the variant their beacon
and link carried (stored with each event), and unlabelled ones left out.

- viewers: visitors of the page (per day: the hash changes daily, so someone
  who comes back tomorrow counts again) whose variant this is;
- clicks: every click on the link in this variant; clickers: the visitors who
  clicked; CTR: the viewers who clicked ÷ viewers.

Each variant is compared with A by a two-sided **two-proportion z-test**
(pooled standard error) on viewers who clicked ÷ viewers. With more than one
variant, the level is shared between the comparisons (Bonferroni: 0.05 ÷ the
number of variants beside A). A comparison is only made when each group has
at least 5 viewers who clicked and 5 who did not (the normal approximation
holds); before that the answer is "too few to tell".
"""

from __future__ import annotations

import math
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime

from linkgen.clicks.variants import bounds_of, draw, link_key
from linkgen.models import Link
from linkgen.records import PAGE_LABELS
from linkgen.records import VARIANT_LABELS as LABELS

ALPHA = 0.05
MIN_EACH = 5  # successes and failures per group for the normal approximation
TEST = "two-sided two-proportion z-test (pooled), Bonferroni-adjusted"


@dataclass
class VariantNumbers:
    label: str
    url: str
    weight: int
    title: str = ""
    viewers: int = 0
    clicks: int = 0
    clickers: int = 0
    ctr: float | None = None  # viewers who clicked ÷ viewers, in percent
    z: float | None = None  # against A
    p_value: float | None = None
    verdict: str = ""  # "A" for A itself; else significant / not significant / too few


@dataclass
class SplitReport:
    link_id: str
    title: str
    since: str
    alpha: float
    test: str = TEST
    variants: list[VariantNumbers] = field(default_factory=list)


def z_test(hits_a: int, n_a: int, hits_b: int, n_b: int) -> tuple[float, float]:
    """(z, two-sided p) of B's proportion against A's, pooled standard error."""
    pooled = (hits_a + hits_b) / (n_a + n_b)
    error = math.sqrt(pooled * (1 - pooled) * (1 / n_a + 1 / n_b))
    if error == 0:
        return 0.0, 1.0
    z = (hits_b / n_b - hits_a / n_a) / error
    return z, math.erfc(abs(z) / math.sqrt(2))


def report(clicks: sqlite3.Connection, profile_id: str, link: Link) -> SplitReport:
    """The numbers of ``link``'s A/B test, from its ``since`` on."""
    split = link.split
    if split is None:
        raise ValueError(f"link {link.id} has no A/B test")
    groups = [VariantNumbers(LABELS[0], link.url, split.weight, link.title)]
    groups += [
        VariantNumbers(LABELS[n], v.url or link.url, v.weight, v.title or link.title)
        for n, v in enumerate(split.variants, 1)
    ]
    viewers: list[set[str]] = [set() for _ in groups]
    clickers: list[set[str]] = [set() for _ in groups]
    drawn: dict[str, int] = {}
    key, bounds = link_key(link.id), bounds_of([group.weight for group in groups])
    labelled = {label: n for n, label in enumerate(PAGE_LABELS[: len(groups)])}
    rows = clicks.execute(
        "SELECT kind, visitor, variant FROM events WHERE at_ms >= ? AND profile_id = ? "
        "AND bot = 0 AND (kind = 'view' OR (kind = 'click' AND link_id = ?))",
        (int(split.since.timestamp() * 1000), profile_id, link.id),
    )
    for kind, visitor, variant in rows:
        if split.titled:  # the page variant the edge served: as its beacon or link said
            n = labelled.get(variant, -1)
            if n < 0:
                continue
        else:
            n = drawn.get(visitor, -1)
            if n < 0:
                n = drawn[visitor] = draw(int(visitor, 16), key, bounds)
        if kind == "view":
            viewers[n].add(visitor)
        else:
            groups[n].clicks += 1
            clickers[n].add(visitor)
    found = SplitReport(link.id, link.title, _iso(split.since), ALPHA / len(split.variants))
    hits = [len(clickers[n] & viewers[n]) for n in range(len(groups))]
    for n, group in enumerate(groups):
        group.viewers, group.clickers = len(viewers[n]), len(clickers[n])
        group.ctr = round(100 * hits[n] / group.viewers, 2) if group.viewers else None
        group.verdict = "A" if n == 0 else _verdict(group, hits[0], groups[0].viewers, hits[n],
                                                    found.alpha)  # fmt: skip
    found.variants = groups
    return found


def _verdict(group: VariantNumbers, hits_a: int, n_a: int, hits_b: int, alpha: float) -> str:
    n_b = group.viewers
    if min(hits_a, n_a - hits_a, hits_b, n_b - hits_b) < MIN_EACH:
        return "too few to tell"
    z, p_value = z_test(hits_a, n_a, hits_b, n_b)
    group.z, group.p_value = round(z, 3), float(f"{p_value:.3g}")
    if p_value < alpha:
        return "better than A" if z > 0 else "worse than A"
    return "no significant difference"


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
