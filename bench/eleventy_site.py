"""Write an Eleventy site with the same profiles and an equivalent template.

The profiles go into one global data file (``_data/profiles.json``, read once)
and a Nunjucks template paginates over it, one page per profile written as
``<username>.html`` (as Hugo's ugly URLs do); the template renders the same
head tags, inline theme CSS, JSON-LD and link list as bench/hugo_site.py's,
and detects social links from the host the way linkgen does (a filter in
``eleventy.config.cjs``). A 404 page is written too.

    python bench/eleventy_site.py LINKGEN_SITE ELEVENTY_DIR
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import hugo_site
from linkgen.pages import brands
from linkgen.site import Site

CONFIG = """\
module.exports = function (config) {
  const brands = require("./_data/brands.json");
  const brandOf = (url) => {
    let host = "";
    try { host = new URL(url).host.replace(/^www\\./, "").replace(/^m\\./, ""); } catch (e) {}
    return brands[host] || "";
  };
  config.addFilter("brand", brandOf);
  // The JSON-LD, as linkgen's sharing.jsonld builds it in Python.
  config.addFilter("jsonld", (p, name, canonical) => JSON.stringify({
    "@context": "https://schema.org", "@type": "ProfilePage", url: canonical,
    dateModified: p.updated_at, mainEntity: {
      "@type": "Person", name: name, alternateName: "@" + p.username, identifier: p.id,
      url: canonical, description: p.bio,
      sameAs: p.links.filter((link) => brandOf(link.url)).map((link) => link.url),
    },
  }).replace(/</g, "\\\\u003c"));
  return { dir: { input: ".", output: "_site" }, htmlTemplateEngine: "njk" };
};
"""

PROFILE = """\
---
pagination:
  data: profiles
  size: 1
  alias: p
permalink: "{{ p.username }}.html"
eleventyExcludeFromCollections: true
---
{%- set name = p.display_name or p.username -%}
{%- set title = name + " (@" + p.username + ")" -%}
{%- set desc = p.bio or ("Links of " + name) -%}
{%- set canonical = site.url + "/" + p.username -%}
{%- set image = site.url + "/" + site.card -%}
<!doctype html>
<html lang="{{ site.lang }}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title>
<meta name="description" content="{{ desc }}">
<link rel="canonical" href="{{ canonical }}">
<link rel="icon" href="data:,">
<meta property="og:type" content="profile">
<meta property="og:title" content="{{ title }}">
<meta property="og:description" content="{{ desc }}">
<meta property="og:image" content="{{ image }}">
<meta property="og:url" content="{{ canonical }}">
<meta property="og:site_name" content="{{ site.title }}">
<meta property="profile:username" content="{{ p.username }}">
<meta name="twitter:card" content="summary_large_image">
<meta name="twitter:title" content="{{ title }}">
<meta name="twitter:description" content="{{ desc }}">
<meta name="twitter:image" content="{{ image }}">
<style>{{ css[p.theme] | safe }}</style>
<script type="application/ld+json">{{ p | jsonld(name, canonical) | safe }}</script>
</head>
<body>
<main>
<header class="who">
<h1>{{ name }}</h1>
{% if p.bio %}<p class="bio">{{ p.bio }}</p>{% endif %}
</header>
<ul class="links">
{%- for link in p.links %}
<li><a href="{{ link.url }}"{% if link.url | brand %} rel="me"{% endif %}><span>{{ link.title }}</span></a></li>
{%- endfor %}
</ul>
</main>
<footer><a href="{{ site.url }}/">{{ site.title }}</a></footer>
</body>
</html>
"""

NOT_FOUND = """\
---
permalink: "404.html"
---
<!doctype html><html lang="{{ site.lang }}"><head><meta charset="utf-8">
<title>Page not found · {{ site.title }}</title><style>{{ css.default | safe }}</style>
</head><body><main><h1>Page not found</h1></main></body></html>
"""


def export(linkgen_dir: Path, eleventy_dir: Path) -> int:
    site = Site.open(linkgen_dir)
    renderer = site.renderer()
    store = site.builds
    if eleventy_dir.exists():
        shutil.rmtree(eleventy_dir)
    data = eleventy_dir / "_data"
    data.mkdir(parents=True)
    (eleventy_dir / "eleventy.config.cjs").write_text(CONFIG)
    (eleventy_dir / "profile.njk").write_text(PROFILE)
    (eleventy_dir / "404.njk").write_text(NOT_FOUND)
    settings = site.config.site
    about = {"url": settings.url, "lang": settings.language, "title": settings.title,
             "card": renderer.social_card_key}  # fmt: skip
    (data / "site.json").write_text(json.dumps(about))
    (data / "css.json").write_text(json.dumps(hugo_site.theme_css(site, renderer)))
    (data / "brands.json").write_text(json.dumps(dict(brands._HOSTS)))
    ids = [page.id for page in store.all_pages()]
    profiles = [hugo_site.profile_data(profile) for profile in store.page_profiles(ids)]
    (data / "profiles.json").write_text(json.dumps(profiles, ensure_ascii=False))
    site.close()
    return len(profiles)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("linkgen_site", type=Path)
    parser.add_argument("eleventy_dir", type=Path)
    args = parser.parse_args()
    print(f"wrote {export(args.linkgen_site, args.eleventy_dir)} profiles", file=sys.stderr)


if __name__ == "__main__":
    main()
