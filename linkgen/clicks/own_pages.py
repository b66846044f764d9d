"""The redirector's own small pages: a locked link's form, a sign-up's answers.

No script, no picture, nothing from elsewhere: answered with a policy that
allows only their inline style and posting back to the redirector.
"""

from __future__ import annotations

import html

POLICY = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'"
HEADERS = {"content-security-policy": POLICY, "x-frame-options": "DENY"}

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{title}</title>
<link rel="icon" href="data:,">
<style>body{{font:1.1rem/1.5 system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem}}
input,button{{font:inherit;padding:.6rem;width:100%;box-sizing:border-box;margin:.3rem 0}}
.error{{color:#a00}}</style>
</head>
<body>
<main>
<h1>{title}</h1>
{main}</main>
</body>
</html>
"""


def small_page(title: str, main: str) -> str:
    """A page of the redirector's own (a lock's form, a sign-up's answer): ``title``
    is escaped here, ``main`` is HTML escaped by the caller."""
    return _PAGE.format(title=html.escape(title), main=main)
