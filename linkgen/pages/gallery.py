"""One page showing every theme, each rendered by the real renderer.

Each theme renders the same sample profile exactly as a creator's page would
look, embedded with ``<iframe srcdoc>`` so the pages' styles stay apart. No
script; the file opens from disk.
"""

from __future__ import annotations

from collections.abc import Mapping

from jinja2 import Environment, select_autoescape

from linkgen.pages.render import Renderer
from linkgen.pages.themes import Theme, lowest_contrast
from linkgen.records import PageLink, PageProfile

SAMPLE_LINKS = (
    ("My new album", "https://open.spotify.com/album/sample"),
    ("Watch the video", "https://www.youtube.com/watch?v=sample"),
    ("Instagram", "https://www.instagram.com/sample"),
    ("Shop", "https://shop.example.com/"),
)
# Blocks among the sample's links, as (kind, title, url, body): every kind a theme draws.
SAMPLE_ITEMS = (
    ("featured", "Pre-save the new album", "https://music.example.com/pre-save", None),
    ("text", "", "", "New songs every month.\nTour dates below."),
    ("header", "Listen", "", None),
    ("embed", "The new single", "https://www.youtube.com/watch?v=dQw4w9WgXcQ", None),
    ("group", "Shows", "", None),
    ("link", "Tickets: spring tour", "https://tickets.example.com/", None),
    ("divider", "", "", None),
)

PAGE = """<!doctype html>
<html lang="en">
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>linkgen themes</title>
<style>
body{margin:0;padding:1.5rem;font:15px/1.5 system-ui,sans-serif;background:#f4f4f6;color:#16181d}
h1{margin:0 0 1rem;font-size:1.4rem}
ul{list-style:none;margin:0;padding:0;display:grid;gap:1.5rem;
grid-template-columns:repeat(auto-fill,minmax(340px,1fr))}
li{background:#fff;border-radius:12px;padding:1rem;box-shadow:0 1px 4px rgba(0,0,0,.08)}
h2{margin:0;font-size:1.05rem}
p{margin:.25rem 0 .75rem;color:#4a4f5c}
code{font-size:.85rem}
iframe{width:100%;height:900px;border:1px solid #d5d7dd;border-radius:8px;background:#fff}
</style>
<h1>{{ themes|length }} themes</h1>
<ul>
{% for theme in themes %}
<li id="{{ theme.slug }}">
<h2>{{ theme.name }} <code>{{ theme.slug }}</code></h2>
<p>{{ theme.description }}{% if theme.dark %} Follows dark mode.{% endif %}
Lowest text contrast {{ "%.1f"|format(theme.contrast) }}:1.</p>
<iframe title="{{ theme.name }} theme" srcdoc="{{ theme.page }}" loading="lazy"></iframe>
</li>
{% endfor %}
</ul>
</html>
"""


def render_gallery(renderer: Renderer, theme_set: Mapping[str, Theme]) -> bytes:
    env = Environment(autoescape=select_autoescape(default=True))
    renderer.standalone = True  # one file that opens from disk: images inside it
    rendered = []
    for slug, theme in sorted(theme_set.items()):
        tokens = theme.tokens
        sample = PageProfile(
            id="sample",
            username="sample",
            display_name=tokens.name,
            bio=tokens.description,
            avatar=None,
            theme=slug,
            style={},
            seo_title=None,
            seo_description=None,
            updated_at="2026-01-01T00:00:00Z",
            links=(),
        )
        links = [
            PageLink(f"sample{n}", title, url, None, None, None)
            for n, (title, url) in enumerate(SAMPLE_LINKS)
        ]
        links += [
            PageLink(
                f"item{n}",
                title,
                url,
                None,
                None,
                None,
                kind=kind.replace("embed", "link"),
                embed=kind == "embed",
                body=body,
            )
            for n, (kind, title, url, body) in enumerate(SAMPLE_ITEMS)
        ]
        rendered.append(
            {
                "slug": slug,
                "name": tokens.name,
                "description": tokens.description,
                "dark": tokens.dark is not None,
                "contrast": lowest_contrast(tokens)[0],
                "page": renderer.page(sample, links).decode("utf-8"),
            }
        )
    return env.from_string(PAGE).render(themes=rendered).encode("utf-8")
