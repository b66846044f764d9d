"""The visitors a day has seen: one 64-bit key per rollup key and visitor.

A visitor counts once a day in each rollup it falls in (a link's clicks, a
profile's clicks over all its links, its views), so the writer asks SQLite
which of a batch's (rollup key, visitor) pairs it had not seen yet. Kept as
six text columns such a row was about 80 bytes, and visitors arriving in no
order dirtied most of the table's pages at every commit — with many
different visitors that was most of the writer's time (docs/benchmarks.md,
"Redirects"). Kept as the day's number and a 64-bit key — the visitor hash
(64 random bits) XOR a hash of the rollup key — a row is about 16 bytes.

Two different pairs of one day share a key with odds of about n²/2⁶⁵ (ten
million pairs in a day: one in 370,000); then that day's uniques miss one
visitor. The visitor hash is keyed with the day's salt: nothing here can be
linked across days either, and the rows go with the salt.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
from collections.abc import Iterable

EPOCH = dt.date(1970, 1, 1)


def keys(pairs: Iterable[Pair]) -> dict[tuple[int, int], Rollup]:
    """The (day number, key) of each pair, and the rollup key it counts in."""
    found: dict[tuple[int, int], Rollup] = {}
    rollups: dict[Rollup, tuple[int, int]] = {}  # a batch has few: hashed once each
    for pair in pairs:
        rollup = pair[:5]
        day_and_bits = rollups.get(rollup)
        if day_and_bits is None:
            day, profile_id, link_id, kind, bot = rollup
            text = "\x00".join((profile_id, link_id, kind, "1" if bot else "0"))
            day_and_bits = rollups[rollup] = (day_number(day), _bits(text))
        found[day_and_bits[0], _signed(day_and_bits[1] ^ _visitor_bits(pair[5]))] = rollup
    return found


def key(day: str, profile_id: str, link_id: str, kind: str, bot: int, visitor: str) -> int:
    """One pair's key, a signed 64-bit integer as SQLite stores it."""
    ((_, found),) = keys([(day, profile_id, link_id, kind, bot, visitor)])
    return found


def _visitor_bits(visitor: str) -> int:
    """A visitor hash is 64 random bits already (keyed with the day's secret salt,
    so nobody can choose theirs); anything else is hashed."""
    if len(visitor) == 16:
        try:
            return int(visitor, 16)
        except ValueError:
            pass
    return _bits(visitor)


def _bits(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")


def _signed(bits: int) -> int:
    return bits - (1 << 64) if bits >= 1 << 63 else bits


@functools.lru_cache(maxsize=64)
def day_number(day: str) -> int:
    """``2026-12-03`` -> the days since 1970-01-01."""
    return (dt.date.fromisoformat(day) - EPOCH).days


# (day, profile id, link id, kind, bot 0/1, visitor): a visitor in one rollup of a day.
Pair = tuple[str, str, str, str, int, str]
Rollup = tuple[str, str, str, str, int]  # (day, profile id, link id, kind, bot)
