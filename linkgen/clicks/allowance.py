"""How often one visitor may do something: a sliding window per key, in memory.

A locked link's wrong passwords and a sign-up form's posts are limited per
client address (and link); the addresses live only in this process's memory,
the oldest forgotten first beyond ``tracked``, and never reach a database.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Hashable


class Allowance:
    """``allowed`` uses per ``window`` seconds per key."""

    def __init__(self, allowed: int, window: float, tracked: int = 100_000) -> None:
        self.allowed = allowed
        self.window = window
        self.tracked = tracked
        self._uses: OrderedDict[Hashable, deque[float]] = OrderedDict()

    def spent(self, key: Hashable, now: float) -> bool:
        """Whether ``key`` has used its allowance (until its oldest use expires)."""
        uses = self._uses.get(key)
        if not uses:
            return False
        while uses and uses[0] <= now - self.window:
            uses.popleft()
        return len(uses) >= self.allowed

    def use(self, key: Hashable, now: float) -> None:
        self._uses.setdefault(key, deque(maxlen=self.allowed)).append(now)
        self._uses.move_to_end(key)
        while len(self._uses) > self.tracked:
            self._uses.popitem(last=False)
