"""Every command, driven through click against a real site and SQLite file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from linkgen.cli import cli
from linkgen.cli.commands import load_all
from tests.support.cli import Cli


def test_init_creates_a_site_and_the_demo_has_sample_creators(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["init", str(tmp_path / "demo"), "--demo"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "demo" / "linkgen.toml").is_file()
    assert (tmp_path / "demo" / "site_data" / "linkgen.db").is_file()
    assert "@ada" in result.output
    again = CliRunner().invoke(cli, ["init", str(tmp_path / "demo"), "--demo"])
    assert again.exit_code == 0 and "added sample" not in again.output


def test_init_without_a_directory_uses_the_site_option(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["--site", str(tmp_path / "there"), "init"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "there" / "linkgen.toml").is_file()


def test_a_creator_goes_from_nothing_to_a_page(run: Cli) -> None:
    run("profile", "add", "alice", "--name", "Alice", "--bio", "Hi!", "--theme", "midnight")
    link_id = run("link", "add", "alice", "My shop", "shop.example.com").stdout.strip()
    assert len(link_id) == 12
    assert "1. " + link_id in run("link", "list", "alice").stdout
    built = run("build")
    assert "rendered 1" in built.stdout
    page = (run.root / "build" / "alice").read_text()
    assert 'href="https://shop.example.com/"' in page and "My shop" in page


def test_profile_commands(run: Cli) -> None:
    created = run.json("profile", "add", "bob", "--name", "Bob", "--style", "background=#ffffff")
    assert created["style"] == {"background": "#ffffff"}
    shown = run.json("profile", "show", "bob")
    assert shown["display_name"] == "Bob" and shown["version"] == 1
    assert "@bob" in run("profile", "show", "bob").stdout
    updated = run.json("profile", "set", "bob", "--bio", "New bio", "--style", "background=")
    assert (updated["bio"], updated["style"], updated["version"]) == ("New bio", {}, 2)
    run("profile", "rename", "bob", "robert")
    assert [p["username"] for p in run.json("profile", "list")] == ["robert"]
    run("profile", "rm", "robert", "--yes")
    assert run("profile", "list").stdout.strip() == "(no profiles)"


def test_link_commands(run: Cli) -> None:
    run("profile", "add", "alice")
    first = run("link", "add", "alice", "One", "https://one.example").stdout.strip()
    second = run.json("link", "add", "alice", "Two", "https://two.example", "--at", "1")["id"]
    run("link", "mv", "alice", first, "--to", "1")
    assert [lk["id"] for lk in run.json("link", "list", "alice")] == [first, second]
    run("link", "edit", "alice", second, "--title", "2", "--ends", "2030-01-01T00:00:00Z")
    run("link", "disable", "alice", second)
    links = run.json("link", "list", "alice")
    assert (links[1]["title"], links[1]["enabled"], links[1]["ends_at"]) == (
        "2",
        False,
        "2030-01-01T00:00:00Z",
    )
    assert "[disabled]" in run("link", "list", "alice").stdout
    run("link", "enable", "alice", second)
    run("link", "edit", "alice", second, "--ends", "")
    assert run.json("link", "list", "alice")[1]["ends_at"] is None
    run("link", "rm", "alice", first)
    assert len(run.json("link", "list", "alice")) == 1


def test_history_and_undo(run: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LINKGEN_ACTOR", "ada")
    run("profile", "add", "alice", "--bio", "one")
    monkeypatch.setenv("LINKGEN_ACTOR", "grace")
    run("profile", "set", "alice", "--bio", "two")
    history = run.json("history", "alice")
    assert [h["action"] for h in history] == ["profile.set", "profile.add"]
    assert [h["actor"] for h in history] == ["grace (cli)", "ada (cli)"]
    assert "bio: 'one' → 'two'" in run("history", "alice").stdout
    assert "undid" in run("undo", "alice").stdout
    assert run.json("profile", "show", "alice")["bio"] == "one"
    assert "[undone]" in run("history", "alice").stdout


def test_export_then_import_is_an_exact_round_trip(run: Cli, tmp_path: Path) -> None:
    run("profile", "add", "alice", "--name", "Älice ✨", "--bio", "line 1\nline 2")
    run(
        "link",
        "add",
        "alice",
        "Sale",
        "https://example.com",
        "--starts",
        "2030-01-01T10:00:00+02:00",
    )
    run("link", "add", "alice", "Mail", "mailto:a@example.com", "--disabled")
    exported = run("export", "alice").stdout
    (tmp_path / "alice.json").write_text(exported)
    run("profile", "rm", "alice", "--yes")
    assert "imported @alice (2 links)" in run("import", str(tmp_path / "alice.json")).stdout
    assert run("export", "alice").stdout == exported
    assert json.loads(exported)["profile"]["links"][0]["starts_at"] == "2030-01-01T08:00:00Z"
    # Importing the same file again changes nothing; stdin works too.
    run("import", "-", stdin=exported)
    assert run("export", "alice").stdout == exported


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["profile", "add", "Bad Name!"], "username: use only a-z"),
        (["profile", "add", "admin"], "username: 'admin' is reserved"),
        (["profile", "show", "nobody"], "no profile 'nobody'"),
        (["link", "add", "alice", "x", "javascript:alert(1)"], "url: the scheme 'javascript:'"),
        (["link", "add", "alice", "", "https://example.com"], "title must not be empty"),
        (["link", "add", "alice", "x" * 101, "https://e.com"], "title: must be at most 100"),
        (["link", "add", "alice", "x", "https://e.com", "--starts", "tomorrow"], "starts_at"),
        (["link", "add", "alice", "x", "https://e.com", "--starts", "2030-01-01T00:00"], "zone"),
        (["link", "add", "alice", "x", "https://e.com", "--starts", "0807-03-03T00:00Z"], "1971"),
        (["link", "rm", "alice", "nope"], "link 'nope' is not a link of @alice"),
        (["profile", "set", "alice", "--bio", "x" * 301], "bio: must be at most 300"),
        (["profile", "set", "alice", "--style", "background=red"], "#rgb or #rrggbb"),
        (["profile", "set", "alice", "--style", "nonsense"], "is not KEY=VALUE"),
        (["profile", "set", "alice", "--language", "xx"], "language: 'xx' is not a language"),
        (["profile", "set", "alice", "--style", "size=3"], "size: is not a known field"),
        (["profile", "set", "alice", "--if-version", "7", "--bio", "x"], "changed since version 7"),
        (["undo", "nobody"], "nothing to undo"),
        (["profile", "rm", "alice"], "pass --yes"),
    ],
)
def test_bad_input_is_a_one_line_error_exit_1_and_writes_nothing(
    run: Cli, args: list[str], message: str
) -> None:
    run("profile", "add", "alice")
    before = run("export", "alice").stdout
    result = run(*args, code=1)
    assert message in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.output
    assert run("export", "alice").stdout == before


def test_usage_errors_exit_2(run: Cli) -> None:
    run("profile", "frobnicate", code=2)
    run("link", "mv", "alice", "x", code=2)  # --to is required
    run("profile", "set", "alice", code=2)


def test_a_directory_that_is_not_a_site_is_a_clear_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["--site", str(tmp_path), "profile", "list"])
    assert result.exit_code == 1
    assert "is not a linkgen site (no linkgen.toml)" in result.stderr


def test_a_broken_config_is_a_clear_error(run: Cli) -> None:
    (run.root / "linkgen.toml").write_text('[site]\nurl = "javascript:alert(1)"\ncolor = 1\n')
    result = run("build", code=1)
    assert "linkgen.toml" in result.stderr and "site.url" in result.stderr
    assert "site.color: is not a known field" in result.stderr


def test_build_json_reports_what_happened(run: Cli) -> None:
    run("profile", "add", "alice")
    report = run.json("build")
    assert report["rendered"] == ["alice"] and report["total"] == 1
    assert run.json("build")["rendered"] == []
    assert run.json("build", "--full")["rendered"] == ["alice"]


def test_every_command_has_help_with_an_example() -> None:
    def walk(group: object, path: list[str]) -> list[tuple[list[str], object]]:
        found = [(path, group)]
        for name, command in getattr(group, "commands", {}).items():
            found += walk(command, [*path, name])
        return found

    load_all()
    commands = walk(cli, [])
    assert len(commands) > 20
    for path, command in commands:
        help_text = getattr(command, "help", None) or ""
        assert "Example" in help_text, f"linkgen {' '.join(path)} has no example in its help"
        result = CliRunner().invoke(cli, [*path, "--help"])
        assert result.exit_code == 0 and "Example" in result.output


@pytest.mark.parametrize("damage", ["missing", "empty"])
def test_a_missing_or_empty_database_is_refused_by_every_command_but_init(
    run: Cli, damage: str
) -> None:
    run("profile", "add", "alice")
    database = run.root / "site_data" / "linkgen.db"
    for leftover in database.parent.glob("linkgen.db*"):
        leftover.unlink()
    if damage == "empty":
        database.write_bytes(b"")
    for args in (
        ["profile", "list"],
        ["profile", "show", "alice"],
        ["link", "add", "alice", "Shop", "https://example.com"],
        ["build"],
        ["publish"],
        ["worker", "--once"],
        ["history", "alice"],
    ):
        result = run(*args, code=1)
        assert str(database) in result.stderr and damage in result.stderr, args
        assert result.stderr.count("\n") == 1 and "Traceback" not in result.output
    assert database.exists() == (damage == "empty")  # nothing made in its place
    assert not (run.root / "build").exists()
    run("init")
    assert run("profile", "list").stdout.strip() == "(no profiles)"


def test_a_link_is_named_by_its_position_or_its_title(run: Cli) -> None:
    run("profile", "add", "maya")
    for title in ("Newsletter", "News archive", "Shop", "Podcast"):
        run("link", "add", "maya", title, f"https://example.com/{title[:4].lower()}")
    titles = lambda: [link["title"] for link in run.json("profile", "show", "maya")["links"]]  # noqa: E731
    run("link", "mv", "maya", "#4", "--to", "1")
    assert titles() == ["Podcast", "Newsletter", "News archive", "Shop"]
    run("link", "mv", "maya", "sho", "--to", "1")  # the start of a title, any case
    assert titles()[0] == "Shop"
    run("link", "disable", "maya", "Newsletter")  # the whole title wins over a prefix of two
    assert [link["enabled"] for link in run.json("profile", "show", "maya")["links"]][2] is False
    run("link", "edit", "maya", "podcast", "--title", "The podcast")
    ambiguous = run("link", "rm", "maya", "News", code=1)
    assert (
        "could be any of 2 links of @maya: #3 'Newsletter', #4 'News archive'" in ambiguous.stderr
    )
    assert "give #N or more of the title" in ambiguous.stderr
    assert "there is no #9" in run("link", "rm", "maya", "#9", code=1).stderr
    run("link", "rm", "maya", "News a")
    assert titles() == ["Shop", "The podcast", "Newsletter"]


def test_site_may_come_after_the_subcommand(run: Cli, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from linkgen.cli import cli

    run("profile", "add", "alice")
    elsewhere = CliRunner()
    for args in (
        ["profile", "list", "--site", str(run.root)],
        ["profile", "list", f"--site={run.root}"],
        ["profile", "show", "alice", "--json", "--site", str(run.root)],
    ):
        result = elsewhere.invoke(cli, args, catch_exceptions=False)
        assert result.exit_code == 0 and "alice" in result.stdout, args
    literal = elsewhere.invoke(
        cli, ["--site", str(run.root), "link", "add", "alice", "--", "--site", "https://e.com"]
    )
    assert literal.exit_code == 0, literal.output  # after --, it is a title
    assert run.json("profile", "show", "alice")["links"][0]["title"] == "--site"


def test_a_loopback_site_url_is_warned_of_and_not_published_off_this_machine(run: Cli) -> None:
    run("profile", "add", "alice")
    local = run("publish")  # the default folder target: this machine, a warning only
    assert "warning: [site] url is http://127.0.0.1:8000, a loopback address" in local.stderr
    assert "a loopback address" in run("qr", "alice", "--out", str(run.root / "a.svg")).stderr
    (run.root / "linkgen.toml").write_text(
        '[publish]\ntarget = "s3://links-bucket"\nendpoint_url = "https://s3.example.com"\n'
    )
    refused = run("publish", code=1)
    assert "not on this machine" in refused.stderr and "--allow-loopback-url" in refused.stderr
    allowed = run("publish", "--dry-run", "--allow-loopback-url")
    assert "warning:" in allowed.stderr
    (run.root / "linkgen.toml").write_text('[site]\nurl = "https://links.example.com"\n')
    assert "warning" not in run("publish").stderr


def test_stats_say_when_nothing_can_be_counted(run: Cli) -> None:
    run("profile", "add", "alice")
    assert "Nothing is counted yet" in run("stats", "alice").stderr
    (run.root / "linkgen.toml").write_text('[redirector]\nmode = "edge"\n')
    assert "Nothing is counted" not in run("stats", "alice").stderr
