"""The bucket's generation: one small private object saying the bucket still holds
what this site's manifest says it published.

A publish that starts with the target's manifest in hand reads it (one GET,
while the plan is made). If it is gone, or is another one than this site wrote
(the bucket was emptied, replaced or restored behind linkgen's back), the
publish verifies every object instead of trusting the manifest. A restored site
asks its next publish to verify in the same way (``ask_verify``).
"""

from __future__ import annotations

import secrets

from linkgen.publish.targets import Target
from linkgen.store.build_state import BuildState

KEY = "_linkgen/generation"
VERIFY_NEXT = "verify_next"  # build meta: "1" after a restore


def _meta(target: Target) -> str:
    return f"generation {target.name}"


def key(target: Target) -> str:
    return f"{target.prefix}{KEY}"


def expected(builds: BuildState, target: Target) -> str | None:
    """The generation this site last wrote to ``target`` (None: never)."""
    return builds.build_meta(_meta(target))


def lost(target: Target, mine: str | None) -> bool:
    """Whether the bucket no longer holds the generation ``mine`` (one GET)."""
    if mine is None:
        return False  # never written (a first publish, or a site from before it)
    theirs = target.get(key(target))
    return theirs is None or theirs.decode("utf-8", "replace").strip() != mine


def verify_asked(builds: BuildState) -> bool:
    return builds.build_meta(VERIFY_NEXT) == "1"


def ask_verify(builds: BuildState) -> None:
    """The next publish to every target compares with the bucket (after a restore)."""
    builds.set_build_meta(VERIFY_NEXT, "1")


def renew(builds: BuildState, target: Target) -> None:
    """Write a new generation to ``target`` and remember it; the bucket now holds
    what the manifest says (a publish just made sure of it)."""
    fresh = secrets.token_hex(16)
    target.put_private(key(target), fresh.encode())
    builds.set_build_meta(_meta(target), fresh)
    builds.set_build_meta(VERIFY_NEXT, "0")
