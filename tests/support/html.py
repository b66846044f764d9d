"""Reading built pages, and parsing them as strictly as a validator."""

from __future__ import annotations

from typing import Any

import html5lib

from linkgen import site as sites


def parse(html: str) -> Any:
    return html5lib.HTMLParser(strict=True, namespaceHTMLElements=False).parse(html)


def page(site: sites.Site, username: str) -> str:
    return (site.build_dir / username).read_text(encoding="utf-8")
