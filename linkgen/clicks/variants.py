"""A/B tests: which of a link's URLs a visitor gets, from the day's visitor hash.

A split link's own URL is variant A; its variants B, C, … follow. A visitor's
variant is a keyed point of their visitor hash of the day (the one the click
writer stores, ``hits``) and the link's id, mapped onto the weights: the same
visitor keeps the same variant all day, gets a fresh draw the next day (the
salt changes), and nothing is set in their browser. The stats work the
variant out again from the hash stored with each view and click (``split_stats``),
so views as well as clicks are counted per variant without storing anything more.
"""

from __future__ import annotations

import bisect
import hashlib
import itertools
import logging
import secrets
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from linkgen.clicks import hits
from linkgen.clicks.db import DAY_MS, day_of
from linkgen.records import PAGE_LABELS

log = logging.getLogger(__name__)


def bounds_of(weights: Sequence[int]) -> tuple[int, ...]:
    """The cumulative weights: variant i holds the points below ``bounds[i]``."""
    return tuple(itertools.accumulate(weights))


MASK = (1 << 64) - 1
LABELS = PAGE_LABELS  # as a page variant's links and beacon carry them: ?x=b


def label_of(query: str) -> str:
    """The variant a page's link or beacon said it showed (``x=b``), or "" (none,
    or not one of ours: a visitor may type anything there)."""
    return query[2] if len(query) == 3 and query[:2] == "x=" and query[2] in LABELS else ""


def link_key(link_id: str) -> int:
    """A link's own 64 bits: each link's test draws its visitors independently."""
    return int.from_bytes(hashlib.blake2b(link_id.encode(), digest_size=8).digest(), "big")


def draw(visitor: int, key: int, bounds: Sequence[int]) -> int:
    """The variant of a visitor hash (an integer) for the link of ``key``."""
    # The visitor hash is uniform already; the link's key and a multiplicative
    # hash (Fibonacci hashing's constant, the product's high half) make each
    # link's draw its own — integer steps on the request path, not a second hash.
    point = (((visitor ^ key) * 0x9E3779B97F4A7C15) & MASK) >> 32
    return bisect.bisect_right(bounds, point % bounds[-1])


def variant_of(visitor: str, link_id: str, bounds: Sequence[int]) -> int:
    """The variant (0: A) of a visitor of the day, by their stored visitor hash (hex)."""
    return draw(int(visitor, 16), link_key(link_id), bounds)


@dataclass(frozen=True)
class Test:
    """A link's A/B test as the redirector serves it: each variant's 302, built once."""

    link_id: str
    bounds: tuple[int, ...]
    answers: tuple[Any, ...]  # the redirector's prebuilt answers, A first
    key: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "key", link_key(self.link_id))

    def answer(self, visitor: int | None) -> Any:
        """A visitor's variant's answer (``visitor``: their hash of the day as an
        integer); without one, A's."""
        if visitor is None:
            return self.answers[0]
        return self.answers[draw(visitor, self.key, self.bounds)]

    def label(self, query: str) -> str:
        """The variant a page said it showed, if this test has it (not a typed label,
        nor one of a variant since removed), else ""."""
        label = label_of(query)
        return label if label and LABELS.index(label) < len(self.answers) else ""

    def labelled(self, label: str) -> Any:
        """The answer of a variant by its label (from ``label``)."""
        return self.answers[LABELS.index(label)]


class DayHasher:
    """The click writer's visitor hash of the day, worked out on the request path
    for a split link only. Today's salt is read from clicks.db once a day (made
    there if the writer has not made it yet: the same ``INSERT OR IGNORE``)."""

    def __init__(self, clicks_db: Path) -> None:
        self.path = clicks_db
        self._day = -1
        self._hasher: Any = None
        self._warned = False

    def visitor(
        self, at: float, ip: bytes | str, agent: bytes | str, profile_id: str
    ) -> int | None:
        """The visitor hash of the day of this hit, as an integer; None: no salt."""
        day = int(at * 1000) // DAY_MS
        if day != self._day:
            try:
                self._hasher = hits.hasher_of(self._salt(day_of(day * DAY_MS)))
            except sqlite3.Error as exc:  # the visitor still gets a redirect: variant A
                if not self._warned:
                    log.warning("no visitor salt for the A/B tests: %s; sending variant A", exc)
                    self._warned = True
                return None
            self._day = day
        # what Classifier.events hashes (tests/clicks/test_ab_tests.py checks they agree)
        raw_ip = ip.encode("utf-8", "surrogateescape") if isinstance(ip, str) else ip
        raw = agent.encode("utf-8", "surrogateescape") if isinstance(agent, str) else agent
        first_ip = raw_ip.split(b",", 1)[0].strip()[:64]
        visitor = self._hasher.copy()
        visitor.update(b"\x00".join((first_ip, raw[:512], profile_id.encode())))
        return int.from_bytes(visitor.digest(), "big")

    def _salt(self, day: str) -> bytes:
        conn = sqlite3.connect(self.path, timeout=1, isolation_level=None)
        try:
            found = conn.execute("SELECT salt FROM salts WHERE day = ?", (day,)).fetchone()
            if found is None:
                conn.execute(
                    "INSERT OR IGNORE INTO salts VALUES (?, ?)", (day, secrets.token_bytes(32))
                )
                found = conn.execute("SELECT salt FROM salts WHERE day = ?", (day,)).fetchone()
            return bytes(found[0])
        finally:
            conn.close()
