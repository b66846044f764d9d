"""Write a Hugo site with the same profiles and an equivalent template.

Each profile becomes ``content/<username>.md`` with JSON front matter (the
fastest front matter for Hugo to parse); the layout renders the same head
tags, inline theme CSS, JSON-LD and link list as linkgen's ``profile.html``,
and detects social links from the host the way linkgen does. Hugo also
writes a sitemap, robots.txt and 404 page, like a linkgen build.

    python bench/hugo_site.py LINKGEN_SITE HUGO_DIR
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from linkgen.pages import brands
from linkgen.pages.render import Renderer
from linkgen.records import PageProfile
from linkgen.site import Site

HUGO_CONFIG = """\
baseURL = "{url}/"
languageCode = "{lang}"
title = "{title}"
uglyURLs = true
enableRobotsTXT = true
disableKinds = ["taxonomy", "term", "RSS", "home", "section"]
[outputs]
page = ["HTML"]
[params]
socialCard = "{card}"
"""

SINGLE = """\
<!doctype html>
<html lang="{{ site.LanguageCode }}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
{{- $name := .Params.display_name | default .Params.username -}}
{{- $title := printf "%s (@%s)" $name .Params.username -}}
{{- $desc := .Params.bio | default (printf "Links of %s" $name) -}}
{{- $canonical := printf "%s%s" site.BaseURL .Params.username -}}
{{- $image := printf "%s%s" site.BaseURL site.Params.socialCard }}
<title>{{ $title }}</title>
<meta name="description" content="{{ $desc }}">
<link rel="canonical" href="{{ $canonical }}">
<link rel="icon" href="data:,">
<meta property="og:type" content="profile">
<meta property="og:title" content="{{ $title }}">
<meta property="og:description" content="{{ $desc }}">
<meta property="og:image" content="{{ $image }}">
<meta property="og:url" content="{{ $canonical }}">
<meta property="og:site_name" content="{{ site.Title }}">
<meta property="profile:username" content="{{ .Params.username }}">
<meta name="twitter:card" content="summary_large_image">
<meta name="twitter:title" content="{{ $title }}">
<meta name="twitter:description" content="{{ $desc }}">
<meta name="twitter:image" content="{{ $image }}">
<style>{{ index site.Data.css .Params.theme | safeCSS }}</style>
{{- $same := slice -}}
{{- $rels := dict -}}
{{- range .Params.links -}}
{{- $host := (urls.Parse .url).Host | strings.TrimPrefix "www." | strings.TrimPrefix "m." -}}
{{- if index site.Data.brands $host }}{{ $same = $same | append .url }}{{ $rels = merge $rels (dict .id "me") }}{{ end -}}
{{- end -}}
{{- $person := dict "@type" "Person" "name" $name "alternateName" (printf "@%s" .Params.username) "identifier" .Params.id "url" $canonical "description" .Params.bio "sameAs" $same -}}
{{- $ld := dict "@context" "https://schema.org" "@type" "ProfilePage" "url" $canonical "dateModified" .Params.updated_at "mainEntity" $person }}
<script type="application/ld+json">{{ $ld | jsonify | safeJS }}</script>
</head>
<body>
<main>
<header class="who">
<h1>{{ $name }}</h1>
{{ with .Params.bio }}<p class="bio">{{ . }}</p>{{ end }}
</header>
<ul class="links">
{{- range .Params.links }}
<li><a href="{{ .url }}"{{ with index $rels .id }} rel="{{ . }}"{{ end }}><span>{{ .title }}</span></a></li>
{{- end }}
</ul>
</main>
<footer><a href="{{ site.BaseURL }}">{{ site.Title }}</a></footer>
</body>
</html>
"""

NOT_FOUND = """<!doctype html><html lang="{{ site.LanguageCode }}"><head><meta charset="utf-8">
<title>Page not found · {{ site.Title }}</title><style>{{ index site.Data.css "default" | safeCSS }}</style>
</head><body><main><h1>Page not found</h1></main></body></html>
"""


def theme_css(site: Site, renderer: Renderer) -> dict[str, str]:
    """Each theme's CSS as linkgen inlines it (for the peers' templates)."""
    return {slug: str(renderer.css(slug, {})) for slug in site.themes}


def profile_data(profile: PageProfile) -> dict[str, Any]:
    """What the peers' templates read of a profile (the same fields for each)."""
    return {
        "id": profile.id,
        "username": profile.username,
        "display_name": profile.display_name,
        "bio": profile.bio,
        "theme": profile.theme,
        "updated_at": profile.updated_at,
        "links": [{"id": lk.id, "title": lk.title, "url": lk.url} for lk in profile.links],
    }


def export(linkgen_dir: Path, hugo_dir: Path) -> int:
    site = Site.open(linkgen_dir)
    renderer = site.renderer()
    store = site.builds
    if hugo_dir.exists():
        shutil.rmtree(hugo_dir)
    content = hugo_dir / "content"
    content.mkdir(parents=True)
    (hugo_dir / "layouts" / "_default").mkdir(parents=True)
    (hugo_dir / "data").mkdir()
    (hugo_dir / "layouts" / "_default" / "single.html").write_text(SINGLE)
    (hugo_dir / "layouts" / "404.html").write_text(NOT_FOUND)
    (hugo_dir / "hugo.toml").write_text(
        HUGO_CONFIG.format(
            url=site.config.site.url,
            lang=site.config.site.language,
            title=site.config.site.title,
            card=renderer.social_card_key,
        )
    )
    (hugo_dir / "data" / "css.json").write_text(json.dumps(theme_css(site, renderer)))
    hosts = {host: slug for host, slug in brands._HOSTS.items()}
    (hugo_dir / "data" / "brands.json").write_text(json.dumps(hosts))
    ids = [page.id for page in store.all_pages()]
    count = 0
    for profile in store.page_profiles(ids):
        front = {"title": profile.display_name or profile.username, **profile_data(profile)}
        (content / f"{profile.username}.md").write_text(
            json.dumps(front, ensure_ascii=False) + "\n"
        )
        count += 1
    site.close()
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("linkgen_site", type=Path)
    parser.add_argument("hugo_dir", type=Path)
    args = parser.parse_args()
    print(f"wrote {export(args.linkgen_site, args.hugo_dir)} content files", file=sys.stderr)


if __name__ == "__main__":
    main()
