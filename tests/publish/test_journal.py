"""A publish compares only the names the builds journalled since the target's last
complete publish — and finds exactly what a walk of every file in build/ finds."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from linkgen import site as sites
from linkgen.publish.plan import Plan, make_plan
from linkgen.publish.run import publish
from linkgen.publish.targets import open_target
from tests.support.cli import Cli


@pytest.fixture(autouse=True)
def _no_social_cards(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LINKGEN_BUILD__SOCIAL_CARDS", "false")
    monkeypatch.setenv("LINKGEN_EMBEDS__THUMBNAILS", "false")  # nothing fetched


def plans(root: Any) -> tuple[Plan, Plan]:
    """(the journalled plan, the plan of a walk of build/) of the site as it is now."""
    site = sites.Site.open(root)
    target = open_target(site.config.publish, site.root)
    return make_plan(site, target.name, target.prefix), make_plan(
        site, target.name, target.prefix, walk=True
    )


def shape(plan: Plan) -> tuple[list[str], list[str], int]:
    return [u.key for u in plan.uploads], [d.key for d in plan.deletes], plan.unchanged


EDITS: list[tuple[str, Callable[[Cli], Any]]] = [
    ("a new profile", lambda run: run("profile", "add", "bob")),
    ("a link", lambda run: run("link", "add", "bob", "Blog", "https://blog.example.com/")),
    ("an embed", lambda run: run("link", "add", "ada", "Video",
                                 "https://www.youtube.com/watch?v=dQw4w9WgXcQ", "--embed")),
    ("a contact card", lambda run: run("block", "add", "ada", "contact", "Ada Lovelace")),
    ("a title test", lambda run: run("link", "split", "add", "ada", "Shop", "--title", "Sale")),
    ("its weights", lambda run: run("link", "split", "weight", "ada", "Shop", "B", "200")),
    ("a rename", lambda run: run("profile", "rename", "bob", "robert")),
    ("the embed gone", lambda run: run("link", "rm", "ada", "Video")),
    ("the test ended", lambda run: run("link", "split", "end", "ada", "Shop")),
    ("a profile gone", lambda run: run("profile", "rm", "robert", "--yes")),
]  # fmt: skip


def test_each_publish_after_an_edit_plans_what_a_walk_of_build_plans(
    site: sites.Site, run: Cli
) -> None:
    (site.root / "linkgen.toml").write_text(
        '[site]\nurl = "https://links.example.com"\n[redirector]\nmode = "edge"\n'
        '[publish]\ntarget = "file://published"\n'
    )
    site.close()
    run("profile", "add", "ada")
    run("link", "add", "ada", "Shop", "https://shop.example.com/")
    run("publish")  # the first: a walk (the target has no position yet)
    for what, edit in EDITS:
        edit(run)
        run("build")
        journalled, walked = plans(site.root)
        assert not journalled.walked and walked.walked, what
        assert shape(journalled) == shape(walked), what
        assert journalled.uploads, f"{what}: nothing to publish?"
        assert publish(sites.Site.open(site.root)).ok, what
    final, _ = plans(site.root)
    assert shape(final) == ([], [], final.unchanged)  # all published: nothing left
    published = {p.name for p in (site.root / "published").iterdir()}
    assert "robert" not in published and "bob" not in published and "ada" in published


def test_a_full_build_or_a_new_target_walks_every_file(site: sites.Site, run: Cli) -> None:
    (site.root / "linkgen.toml").write_text('[publish]\ntarget = "file://published"\n')
    site.close()
    run("profile", "add", "ada")
    run("publish")
    run("build", "--full")  # may have changed anything
    assert plans(site.root)[0].walked
    run("publish")
    run("profile", "set", "ada", "--bio", "Hello")
    run("build")
    journalled, _ = plans(site.root)
    assert not journalled.walked and [u.key for u in journalled.uploads] == ["ada"]
    run("publish")
    sites.Site.open(site.root).builds.set_build_meta("build_running", "1")  # a build died
    run("profile", "set", "ada", "--bio", "Hello again")
    run("build")  # what the dead one wrote was never journalled: compare everything
    assert plans(site.root)[0].walked
    (site.root / "linkgen.toml").write_text('[publish]\ntarget = "file://elsewhere"\n')
    assert plans(site.root)[0].walked  # a target this site never published to
