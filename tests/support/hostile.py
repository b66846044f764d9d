"""Text an attacker would type into every field."""

from __future__ import annotations

XSS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "'><svg onload=alert(1)>",
    "</style><script>alert(1)</script>",
    "</script><script>alert(1)</script>",
    "{{ 7*7 }}{% raw %}",
    "&lt;b&gt; &amp; \u202egnp.exe",
]
