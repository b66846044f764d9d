"""The W3C Nu HTML checker (npm ``vnu-jar``, run on Debian's Java) finds no error in
the pages linkgen builds: the sample pages, pages in Japanese and Arabic behind
warnings, a page of hostile text, the 404 page and the site's home page."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from linkgen import site as sites
from linkgen.build import build
from linkgen.models import NewLink, NewProfile, validate
from tests.support.hostile import XSS
from tests.support.sample_pages import add_samples, add_signup_sample

REPO = Path(__file__).resolve().parents[2]
JAR = Path(
    os.environ.get(
        "VNU_JAR", REPO / ".tools" / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
    )
)
BROKEN = "<!doctype html><html lang=en><title>x</title><p>a</span>"


def checker() -> list[str]:
    java = shutil.which("java")
    if java is None or not JAR.is_file():
        pytest.fail(f"the Nu HTML checker needs java and {JAR}: ./scripts/test installs both")
    return [java, "-Xss2m", "-jar", str(JAR)]


def add_language_pages(site: sites.Site) -> list[str]:
    store = site.content
    haru = {"username": "haru", "display_name": "春", "language": "ja", "sensitive": "18+"}
    store.create_profile(validate(NewProfile, haru))
    for title, warning in (("写真集", None), ("夜の写真", "sensitive"), ("展示", "25+")):
        link = {"title": title, "url": f"https://example.com/{len(title)}", "sensitive": warning}
        store.add_link("haru", validate(NewLink, link))
    text = " ".join(XSS)
    store.create_profile(
        validate(NewProfile, {"username": "mallory", "display_name": XSS[0], "bio": text})
    )
    for n, title in enumerate(XSS):
        link = {"title": title, "url": f'https://example.com/{n}?q=<x>&y="z"'}
        store.add_link("mallory", validate(NewLink, {**link, "sensitive": "18+"}))
    return ["haru", "mallory"]


@pytest.mark.timeout(120)
def test_the_nu_checker_finds_no_error_in_any_built_page(site: sites.Site, tmp_path: Path) -> None:
    command = checker()
    names = [*add_samples(site), *add_language_pages(site)]
    build(site)
    with_form = add_signup_sample(tmp_path / "signup")  # a sign-up form needs a redirector
    build(with_form)
    pages = [site.build_dir / name for name in names] + [with_form.build_dir / "sol"]
    pages += [site.build_dir / "404.html", site.build_dir / "index.html"]
    control = tmp_path / "broken"  # proves the checker reads extensionless files
    control.write_text(BROKEN)
    result = subprocess.run(
        [*command, "--format", "json", "--html", *map(str, [*pages, control])],
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    messages = json.loads(result.stderr)["messages"]
    errors = [m for m in messages if m["type"] == "error"]
    checked_control = [m for m in errors if m["url"].endswith("/broken")]
    assert checked_control, "the checker did not read the control page"
    found = [
        f"{m['url'].rsplit('/', 1)[-1]}:{m.get('lastLine')}: {m['message']}"
        for m in errors
        if m not in checked_control
    ]
    assert found == []
    assert not [m for m in messages if m["type"] != "error"]  # no warnings either
