"""The Open Graph and description tags of someone else's page.

The page is hostile: only ``<meta>`` tags are read, the first value of each
name is kept, and each is cut to a length no field of ours exceeds.
"""

from __future__ import annotations

from html.parser import HTMLParser

VALUE_MAX = 4096
_NAMES = frozenset({"og:title", "og:description", "og:image", "description", "twitter:image"})


class _Meta(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "meta":
            return
        values = dict(attrs)
        name = (values.get("property") or values.get("name") or "").strip().lower()
        content = values.get("content")
        if name in _NAMES and content and name not in self.found:
            self.found[name] = content.strip()[:VALUE_MAX]


def read(html: str) -> dict[str, str]:
    """``og:title``, ``og:description``, ``og:image``, ``description`` and
    ``twitter:image`` of ``html``, where it has them."""
    parser = _Meta()
    try:
        parser.feed(html)
        parser.close()
    except (AssertionError, ValueError):  # markup the parser gives up on: what it read stands
        pass
    return parser.found
