"""The editor process serving the API, over a site with two creators: alice (two
links) and bob (one)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from linkgen import site as sites
from tests.support.api import ApiServer


@pytest.fixture
def creators(add_profile: Callable[..., Any]) -> None:
    add_profile("alice", ("Shop", "https://shop.example.com"), ("Blog", "https://blog.example.com"))
    add_profile("bob", ("Music", "https://music.example.com"))


@pytest.fixture
def server(site: sites.Site, creators: None, tmp_path: Path) -> Iterator[ApiServer]:
    running = ApiServer(site, tmp_path / "editor.log")
    yield running
    running.stop()
