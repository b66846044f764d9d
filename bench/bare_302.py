"""The least a Python application on granian can do for a redirect: one fixed 302.

The reference for what granian itself costs (`bench/redirect_bench.py`):
linkgen's redirector is this plus finding the link, its schedule and
handing the click to the writer.
"""

from __future__ import annotations

from typing import Any

HEADERS = [("location", "https://shop.example.com/item"), ("cache-control", "private, no-store")]


class Bare:
    async def __rsgi__(self, scope: Any, protocol: Any) -> None:
        protocol.response_bytes(302, HEADERS, b"")


app = Bare()
