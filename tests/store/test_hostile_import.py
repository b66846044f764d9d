"""`linkgen import FILE`: a file is hostile until checked, exactly like typed input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from linkgen import site as sites
from tests.support.cli import Cli


def exported(run: Cli, username: str) -> dict[str, Any]:
    return dict(json.loads(run("export", username).stdout))


def importing(run: Cli, tmp_path: Path, data: dict[str, Any], *args: str, code: int = 0) -> Any:
    path = tmp_path / "profile.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return run("import", str(path), *args, code=code)


@pytest.fixture
def alice(run: Cli) -> dict[str, Any]:
    run("profile", "add", "alice", "--name", "Alice")
    run("link", "add", "alice", "Shop", "https://shop.example.com")
    data = exported(run, "alice")
    run("profile", "rm", "alice", "--yes")
    return data


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda p: p.update(social_image="javascript:alert(1)"), "social_image"),
        (lambda p: p.update(avatar="data:image/png;base64,AAAA"), "avatar"),
        (lambda p: p["links"][0].update(icon="../../etc/passwd"), "icon"),
        (lambda p: p["links"][0].update(thumbnail="javascript:alert(1)"), "thumbnail"),
        (lambda p: p["links"][0].update(url="javascript:alert(1)"), "javascript"),
        (lambda p: p.update(id="abcdefghijk all"), "is not a profile id"),
        (lambda p: p.update(id="../../x"), "is not a profile id"),
        (lambda p: p["links"][0].update(id="p-x all site"), "is not a link id"),
        (lambda p: p.update(display_name="x" * 81), "display_name"),
    ],
)
def test_a_hostile_field_is_refused_and_nothing_is_stored(
    run: Cli, site: sites.Site, tmp_path: Path, alice: dict[str, Any], change: Any, message: str
) -> None:
    change(alice["profile"])
    result = importing(run, tmp_path, alice, code=1)
    assert message in result.stderr and "Traceback" not in result.stderr
    assert site.content.list_profiles() == []


def test_imported_urls_are_normalised_like_typed_ones(
    run: Cli, site: sites.Site, tmp_path: Path, alice: dict[str, Any]
) -> None:
    alice["profile"]["links"][0]["url"] = "shop.example.com"
    alice["profile"]["links"].append(
        {**alice["profile"]["links"][0], "id": "Lookalike001", "title": "Pay",
         "url": "https://p\u0430ypal.com/login"}  # a Cyrillic а
    )  # fmt: skip
    importing(run, tmp_path, alice)
    urls = [link.url for link in site.content.get("alice").links]
    assert urls == ["https://shop.example.com/", "https://xn--pypal-4ve.com/login"]


def test_a_file_never_replaces_a_different_profile_unless_asked(
    run: Cli, site: sites.Site, tmp_path: Path
) -> None:
    run("profile", "add", "bob", "--name", "Bob")
    hostile = exported(run, "bob")
    hostile["profile"]["display_name"] = "Not Bob"
    refused = importing(run, tmp_path, hostile, code=1)
    assert "is @bob here and differs" in refused.stderr and "--replace" in refused.stderr
    assert site.content.get("bob").display_name == "Bob"
    importing(run, tmp_path, hostile, "--replace")
    assert site.content.get("bob").display_name == "Not Bob"
    assert "undid" in run("undo", "bob").stdout  # and it is in the history like any edit
    assert site.content.get("bob").display_name == "Bob"


def test_a_hand_edited_file_gets_one_line_per_problem_naming_its_path(
    run: Cli, tmp_path: Path
) -> None:
    edited = {
        "format": "linkgen.profile/1",
        "profile": {
            "id": "x",
            "bogus": 1,
            "links": [{"title": 3}, *({"url": "javascript:alert(1)"} for _ in range(30))],
        },
    }
    (tmp_path / "edited.json").write_text(json.dumps(edited))
    refused = run("import", str(tmp_path / "edited.json"), code=1)
    lines = refused.stderr.splitlines()
    assert lines[0].startswith("Error: ") and "problems in the file:" in lines[0]
    assert len(lines) == 12  # the count, ten problems, and how many more
    assert "  profile.username: Field required" in lines
    assert "  profile.links[0].title: Input should be a valid string" in lines
    assert lines[-1].startswith("  … and ") and lines[-1].endswith(" more problems")
    assert max(len(line) for line in lines) < 300
    assert run("profile", "list").stdout.strip() == "(no profiles)"
