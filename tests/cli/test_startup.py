"""A command loads what it needs, not every command's module: what keeps start-up short."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
from click.testing import CliRunner

from linkgen.cli import cli
from linkgen.cli.commands import COMMANDS, load_all

# Runs one command in a fresh interpreter and says which modules it imported.
IMPORTS = """
import json, sys
from click.testing import CliRunner
from linkgen.cli import cli
result = CliRunner().invoke(cli, sys.argv[1:])
shown = {"output": result.output, "code": result.exit_code, "modules": sorted(sys.modules)}
print(json.dumps(shown))
"""


def fresh(*args: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", IMPORTS, *args], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    found: dict[str, object] = json.loads(done.stdout)
    return found


def command_modules(modules: object) -> set[str]:
    assert isinstance(modules, list)
    return {m for m in modules if m.startswith("linkgen.cli.")} - {
        "linkgen.cli.base",
        "linkgen.cli.commands",
    }


def test_the_table_names_every_command_its_module_and_its_summary() -> None:
    load_all()
    assert set(COMMANDS) == set(cli.commands)
    for name, (modules, summary) in COMMANDS.items():
        command = cli.commands[name]
        assert command.callback is not None
        assert command.callback.__module__.removeprefix("linkgen.cli.") in modules, name
        for limit in range(20, 73):
            shown = click.Command(name, help=summary).get_short_help_str(limit)
            assert shown == command.get_short_help_str(limit), (name, limit, shown)


def test_help_lists_every_command_without_importing_one() -> None:
    lazy = fresh("--help")
    assert lazy["code"] == 0 and command_modules(lazy["modules"]) == set()
    load_all()
    assert lazy["output"] == CliRunner().invoke(cli, ["--help"]).output


def test_a_command_imports_only_its_own_module(tmp_path: Path) -> None:
    site = tmp_path / "site"
    assert CliRunner().invoke(cli, ["init", str(site)]).exit_code == 0
    shown = fresh("--site", str(site), "theme", "list")
    assert shown["code"] == 0, shown["output"]
    assert command_modules(shown["modules"]) <= {"linkgen.cli.themes", "linkgen.cli.output"}


def test_an_unknown_command_is_a_usage_error_naming_it() -> None:
    result = CliRunner().invoke(cli, ["profiles"])
    assert result.exit_code == click.UsageError.exit_code
    assert "No such command 'profiles'" in result.output


def test_reading_commands_never_load_pydantic_or_jinja(tmp_path: Path) -> None:
    site = tmp_path / "site"
    assert CliRunner().invoke(cli, ["init", str(site), "--demo"]).exit_code == 0
    for args in (["profile", "show", "ada"], ["link", "list", "ada"], ["stats", "ada"]):
        shown = fresh("--site", str(site), *args, "--json")
        assert shown["code"] == 0, shown["output"]
        assert isinstance(shown["modules"], list)
        heavy = {"pydantic", "jinja2", "boto3", "linkgen.models", "linkgen.config"}
        assert heavy.isdisjoint(shown["modules"]), (args, heavy & set(shown["modules"]))


def test_a_changed_settings_file_is_checked_before_a_reading_command_runs(tmp_path: Path) -> None:
    site = tmp_path / "site"
    assert CliRunner().invoke(cli, ["init", str(site), "--demo"]).exit_code == 0
    settings = site / "linkgen.toml"
    settings.write_text(settings.read_text().replace("jobs = 0 ", "jobs = -3 "))
    shown = fresh("--site", str(site), "profile", "show", "ada")
    assert shown["code"] == 1 and "jobs" in str(shown["output"])


def test_a_build_with_the_settings_and_themes_as_checked_loads_no_models(tmp_path: Path) -> None:
    site = tmp_path / "site"
    assert CliRunner().invoke(cli, ["init", str(site), "--demo"]).exit_code == 0
    assert CliRunner().invoke(cli, ["--site", str(site), "build"]).exit_code == 0
    shown = fresh("--site", str(site), "build")
    assert shown["code"] == 0, shown["output"]
    assert isinstance(shown["modules"], list)
    heavy = {"pydantic", "linkgen.models", "linkgen.config", "linkgen.pages.theme_files", "babel"}
    assert heavy.isdisjoint(shown["modules"]), heavy & set(shown["modules"])
    # a theme file that changed is checked again, and refused when wrong
    (site / "themes" / "neon.toml").write_text("not toml at all [")
    shown = fresh("--site", str(site), "theme", "list")
    assert "neon" in str(shown["output"]) and "CANNOT BE USED" in str(shown["output"])
