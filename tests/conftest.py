from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from linkgen import site as sites
from linkgen.cli import cli
from linkgen.models import NewLink, NewProfile, validate
from linkgen.store import Store

XSS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "'><svg onload=alert(1)>",
    "</style><script>alert(1)</script>",
    "</script><script>alert(1)</script>",
    "{{ 7*7 }}{% raw %}",
    "&lt;b&gt; &amp; \u202egnp.exe",
]


@pytest.fixture
def site(tmp_path: Path) -> Iterator[sites.Site]:
    created = sites.init(tmp_path / "site")
    yield created
    created.close()


@pytest.fixture
def store(site: sites.Site) -> Store:
    return site.store


@pytest.fixture
def add_profile(store: Store) -> Callable[..., Any]:
    def add(username: str, *links: tuple[str, str], **fields: Any) -> Any:
        store.create_profile(validate(NewProfile, {"username": username, **fields}))
        for title, url in links:
            store.add_link(username, validate(NewLink, {"title": title, "url": url}))
        return store.get(username)

    return add


class Cli:
    """Runs ``linkgen --site SITE ...`` in-process against the real database."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.runner = CliRunner()

    def __call__(self, *args: str, code: int = 0, stdin: str | None = None) -> Result:
        result = self.runner.invoke(
            cli, ["--site", str(self.root), *args], input=stdin, catch_exceptions=False
        )
        assert result.exit_code == code, (result.exit_code, result.output, result.stderr)
        return result

    def json(self, *args: str) -> Any:
        return json.loads(self(*args, "--json").stdout)


@pytest.fixture
def run(site: sites.Site) -> Cli:
    return Cli(site.root)
