"""Each token's allowance: a token bucket (``rate`` a second, ``burst`` at once).

Kept in the editor process's memory (it runs one worker), shared by its threads.
Every answer says what is left (the IETF ``RateLimit`` and ``RateLimit-Policy``
fields); a refusal is a 429 with ``Retry-After``.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Allowance:
    allowed: bool
    remaining: int
    reset_seconds: int  # until the bucket is full again
    retry_after: int  # when refused: until one request is allowed

    def headers(self, burst: int, rate: float) -> dict[str, str]:
        window = max(1, math.ceil(burst / rate))
        headers = {
            "RateLimit-Policy": f'"token";q={burst};w={window}',
            "RateLimit": f'"token";r={self.remaining};t={self.reset_seconds}',
        }
        if not self.allowed:
            headers["Retry-After"] = str(self.retry_after)
        return headers


class TokenBuckets:
    def __init__(self, rate: float, burst: int) -> None:
        self.rate, self.burst = rate, burst
        self._levels: dict[str, tuple[float, float]] = {}  # key -> (tokens, at)
        self._lock = threading.Lock()

    def take(self, key: str) -> Allowance:
        """Spend one request of ``key``'s allowance, if there is one."""
        moment = time.monotonic()
        with self._lock:
            tokens, at = self._levels.get(key, (float(self.burst), moment))
            tokens = min(float(self.burst), tokens + (moment - at) * self.rate)
            allowed = tokens >= 1.0
            if allowed:
                tokens -= 1.0
            self._levels[key] = (tokens, moment)
        missing = self.burst - tokens
        return Allowance(
            allowed=allowed,
            remaining=int(tokens),
            reset_seconds=math.ceil(missing / self.rate),
            retry_after=0 if allowed else max(1, math.ceil((1.0 - tokens) / self.rate)),
        )
