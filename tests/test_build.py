"""The incremental build: exactly the pages whose inputs changed are written."""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from linkgen import build as build_module
from linkgen import site as sites
from linkgen.build import build
from linkgen.models import LinkChanges, NewLink, ProfileFields, validate
from linkgen.pages.resources import builtin


def stamps(site: sites.Site) -> dict[str, int]:
    """Inode and mtime of every page: a rewritten file gets a new inode (rename)."""
    out = site.build_dir
    return {
        p.name: (p.stat().st_ino, p.stat().st_mtime_ns)  # type: ignore[misc]
        for p in out.iterdir()
        if p.is_file() and not p.suffix and not p.name.startswith(".")
    }


def rewritten(before: dict[str, Any], after: dict[str, Any]) -> set[str]:
    return {name for name in after if before.get(name) != after[name]}


@pytest.fixture
def crowd(site: sites.Site, add_profile: Any) -> sites.Site:
    for n in range(6):
        add_profile(f"user{n}", ("Shop", f"https://example.com/{n}"), theme="default")
    for n in range(6, 9):
        add_profile(f"user{n}", ("Shop", f"https://example.com/{n}"), theme="midnight")
    build(site)
    return site


def test_a_second_build_renders_nothing(crowd: sites.Site) -> None:
    before = stamps(crowd)
    report = build(crowd)
    assert report.rendered == [] and report.removed == [] and report.site_files == []
    assert stamps(crowd) == before


def test_one_edit_rewrites_exactly_one_page(crowd: sites.Site) -> None:
    before = stamps(crowd)
    crowd.content.update_profile("user3", ProfileFields(bio="new bio"))
    report = build(crowd)
    assert report.rendered == ["user3"]
    assert rewritten(before, stamps(crowd)) == {"user3"}
    assert "new bio" in (crowd.build_dir / "user3").read_text()


def test_a_link_edit_rewrites_its_page(crowd: sites.Site) -> None:
    before = stamps(crowd)
    link = crowd.content.get("user7").links[0]
    crowd.content.edit_link("user7", link.id, LinkChanges(title="Renamed link"))
    assert build(crowd).rendered == ["user7"]
    assert rewritten(before, stamps(crowd)) == {"user7"}


def test_a_theme_change_rebuilds_exactly_its_users(crowd: sites.Site) -> None:
    before = stamps(crowd)
    theme = (builtin("themes") / "midnight.toml").read_text()
    (crowd.root / "themes" / "midnight.toml").write_text(theme.replace("#9fb4ff", "#a0b5ff"))
    site = sites.Site.open(crowd.root)
    report = build(site)
    assert sorted(report.rendered) == ["user6", "user7", "user8"]
    assert rewritten(before, stamps(site)) == {"user6", "user7", "user8"}
    assert "#a0b5ff" in (site.build_dir / "user6").read_text()
    site.close()


def test_a_theme_specific_template_rebuilds_only_that_theme(crowd: sites.Site) -> None:
    before = stamps(crowd)
    override = crowd.root / "themes" / "midnight"
    override.mkdir()
    page = (builtin("templates") / "profile.html").read_text()
    (override / "profile.html").write_text(page.replace("</main>", "</main><!-- midnight -->"))
    site = sites.Site.open(crowd.root)
    assert sorted(build(site).rendered) == ["user6", "user7", "user8"]
    assert rewritten(before, stamps(site)) == {"user6", "user7", "user8"}
    assert "<!-- midnight -->" in (site.build_dir / "user8").read_text()
    assert "<!-- midnight -->" not in (site.build_dir / "user0").read_text()
    site.close()


def test_a_shared_template_rebuilds_everyone_but_a_404_change_rebuilds_no_page(
    crowd: sites.Site,
) -> None:
    before = stamps(crowd)
    not_found = (builtin("templates") / "404.html").read_text()
    (crowd.root / "templates" / "404.html").write_text(not_found.replace("Page not", "Nothing"))
    site = sites.Site.open(crowd.root)
    report = build(site)
    assert report.rendered == [] and report.site_files == ["404.html"]
    assert stamps(site) == before
    css = (builtin("templates") / "style.css").read_text()
    (crowd.root / "templates" / "style.css").write_text(css.replace("gap:.85rem", "gap:1rem"))
    site = sites.Site.open(crowd.root)
    assert len(build(site).rendered) == 9
    site.close()


def test_a_config_change_rebuilds_everything(crowd: sites.Site) -> None:
    (crowd.root / "linkgen.toml").write_text('[site]\nurl = "https://links.example"\n')
    site = sites.Site.open(crowd.root)
    assert len(build(site).rendered) == 9
    assert "https://links.example/user0" in (site.build_dir / "sitemap.xml").read_text()
    site.close()


def test_delete_and_rename_remove_the_old_output(crowd: sites.Site, add_profile: Any) -> None:
    crowd.content.delete_profile("user1")
    crowd.content.rename_profile("user2", "renamed")
    report = build(crowd)
    assert sorted(report.removed) == ["user1", "user2"]
    assert report.rendered == ["renamed"]
    assert not (crowd.build_dir / "user1").exists()
    assert not (crowd.build_dir / "user2").exists()
    assert (crowd.build_dir / "renamed").exists()
    sitemap = (crowd.build_dir / "sitemap.xml").read_text()
    assert "/user1<" not in sitemap and "/user2<" not in sitemap and "/renamed<" in sitemap
    # A freed username can be taken by someone else, whose page replaces it.
    add_profile("user1", display_name="New owner")
    assert build(crowd).rendered == ["user1"]
    assert "New owner" in (crowd.build_dir / "user1").read_text()


def test_swapping_usernames_leaves_both_pages_right(crowd: sites.Site) -> None:
    store = crowd.content
    store.rename_profile("user0", "tmp-name")
    store.rename_profile("user1", "user0")
    store.rename_profile("tmp-name", "user1")
    store.update_profile("user0", ProfileFields(display_name="Was user1"))
    build(crowd)
    assert "Was user1" in (crowd.build_dir / "user0").read_text()
    assert not (crowd.build_dir / "tmp-name").exists()
    assert (crowd.build_dir / "user1").exists()


def test_a_schedule_boundary_rebuilds_that_page(site: sites.Site, add_profile: Any) -> None:
    now = datetime(2030, 1, 1, 12, tzinfo=UTC)
    add_profile("alice", ("Always", "https://example.com/a"))
    add_profile("bob", ("Always", "https://example.com/b"))
    link = site.content.get("alice").links[0]
    site.content.add_link(
        "alice",
        validate(
            NewLink,
            {
                "title": "Flash sale",
                "url": "https://example.com/sale",
                "starts_at": now + timedelta(hours=1),
                "ends_at": now + timedelta(hours=2),
            },
            strict=False,
        ),
    )
    assert link.title == "Always"
    report = build(site, at=now)
    assert report.next_change == "2030-01-01T13:00:00Z"
    assert "Flash sale" not in (site.build_dir / "alice").read_text()

    assert build(site, at=now + timedelta(minutes=59)).rendered == []
    during = build(site, at=now + timedelta(hours=1))
    assert during.rendered == ["alice"]
    assert during.next_change == "2030-01-01T14:00:00Z"
    assert "Flash sale" in (site.build_dir / "alice").read_text()

    after = build(site, at=now + timedelta(hours=3))
    assert after.rendered == ["alice"] and after.next_change is None
    assert "Flash sale" not in (site.build_dir / "alice").read_text()


def test_pages_deleted_behind_our_back_come_back(crowd: sites.Site) -> None:
    shutil.rmtree(crowd.build_dir)
    report = build(crowd)
    assert len(report.rendered) == 9
    assert (crowd.build_dir / "sitemap.xml").exists() and (crowd.build_dir / "404.html").exists()


def test_full_build_renders_all_but_rewrites_no_identical_file(crowd: sites.Site) -> None:
    before = stamps(crowd)
    report = build(crowd, full=True)
    assert len(report.rendered) == 9
    assert stamps(crowd) == before


def test_parallel_and_serial_builds_write_the_same_bytes(
    tmp_path: Path, add_profile: Any, site: sites.Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    for n in range(40):
        add_profile(
            f"user{n}", *[(f"Link {k}", f"https://example.com/{n}/{k}") for k in range(n % 7)]
        )
    monkeypatch.setattr(build_module, "PARALLEL_THRESHOLD", 5)
    at = datetime(2030, 1, 1, tzinfo=UTC)
    parallel = build(site, jobs=2, at=at)
    assert parallel.jobs == 2 and len(parallel.rendered) == 40
    first = {p.name: p.read_bytes() for p in site.build_dir.iterdir() if p.is_file()}
    shutil.rmtree(site.build_dir)
    serial = build(site, jobs=1, at=at)
    assert serial.jobs == 1 and len(serial.rendered) == 40
    second = {p.name: p.read_bytes() for p in site.build_dir.iterdir() if p.is_file()}
    first.pop(".linkgen-build"), second.pop(".linkgen-build")
    assert first == second


def test_an_edit_made_during_a_build_is_not_lost(crowd: sites.Site) -> None:
    store, builds = crowd.content, crowd.builds
    store.update_profile("user0", ProfileFields(bio="first"))
    queue = builds.queued_for_build()
    # Another process edits user0 again while the build is rendering:
    store.update_profile("user0", ProfileFields(bio="second"))
    builds.record_builds([], [], queue)
    assert [pid for pid, _ in builds.queued_for_build()] == [store.get("user0").id]
    assert build(crowd).rendered == ["user0"]
    assert "second" in (crowd.build_dir / "user0").read_text()


def test_files_are_written_atomically(tmp_path: Path) -> None:
    from linkgen.fsutil import write_file

    target = tmp_path / "page"
    target.write_text("old")
    inode = target.stat().st_ino
    write_file(target, b"new")
    assert target.read_bytes() == b"new" and target.stat().st_ino != inode
    assert os.listdir(tmp_path) == ["page"]  # no temp file left behind


def test_a_full_build_that_dies_part_way_leaves_the_next_build_full(
    crowd: sites.Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    renderer = type(crowd.renderer())
    real = renderer.profile_page
    rendered: list[str] = []

    def dies_at_the_fifth(self: Any, profile: Any, links: Any) -> Any:
        if len(rendered) == 4:
            (crowd.build_dir / "user7").write_bytes(b"<!doctype html><html><he")  # cut off
            raise KeyboardInterrupt
        rendered.append(profile.username)
        return real(self, profile, links)

    monkeypatch.setattr(renderer, "profile_page", dies_at_the_fifth)
    with pytest.raises(KeyboardInterrupt):
        build(crowd, full=True, jobs=1)
    monkeypatch.undo()
    report = build(crowd)  # not asked for a full build: the one that died was
    assert len(report.rendered) == 9
    assert (crowd.build_dir / "user7").read_bytes().endswith(b"</html>")
    sitemap = (crowd.build_dir / "sitemap.xml").read_text()
    assert all(f"/user{n}</loc>" in sitemap for n in range(9))
    assert build(crowd).rendered == []


def test_a_new_file_is_written_in_place_and_an_existing_one_atomically(tmp_path: Path) -> None:
    from linkgen.fsutil import write_new

    write_new(tmp_path / "players" / "one", b"first")  # makes the folder
    inode = (tmp_path / "players" / "one").stat().st_ino
    write_new(tmp_path / "players" / "one", b"second")  # it exists now: replaced whole
    assert (tmp_path / "players" / "one").read_bytes() == b"second"
    assert (tmp_path / "players" / "one").stat().st_ino != inode
    assert os.listdir(tmp_path / "players") == ["one"]


def test_long_builds_report_progress(site: sites.Site, add_profile: Any) -> None:
    for n in range(12):
        add_profile(f"user{n}")
    seen: list[tuple[int, int]] = []
    build(site, jobs=1, progress=lambda done, total: seen.append((done, total)))
    assert seen and seen[-1] == (12, 12)
    assert all(total == 12 for _, total in seen)
