"""The command documentation cannot drift from the commands."""

from __future__ import annotations

import re
from pathlib import Path

import click

from linkgen.cli import cli
from linkgen.cli.commands import load_all
from linkgen.cli.reference import commands, reference

load_all()  # every command module, as the reference has them

REPO = Path(__file__).resolve().parents[2]


def test_docs_cli_md_is_what_the_commands_say() -> None:
    written = (REPO / "docs" / "cli.md").read_text(encoding="utf-8")
    assert written == reference(), (
        "docs/cli.md is out of date: python -m linkgen.cli.reference > docs/cli.md"
    )


def test_the_reference_has_every_command_with_its_options() -> None:
    text = reference()
    for path, command in commands():
        assert f"`{path}`" in text
        for param in command.params:
            if isinstance(param, click.Option) and not param.hidden:
                assert param.opts[-1] in text, f"{path} {param.opts[-1]}"


def readme_table() -> list[str]:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    return [line for line in readme.splitlines() if line.startswith("| `")]


def named_commands(row: str) -> list[click.Command]:
    """The commands a README row names: `linkgen link add|edit` names two."""
    found: list[click.Command] = []
    for chunk in re.findall(r"`linkgen ([^`]+)`", row.split(" | ")[0]):
        current: click.Command = cli
        for word in chunk.replace("\\|", "|").split():
            names = word.split("|")
            if not isinstance(current, click.Group) or not all(
                name in current.commands for name in names
            ):
                break
            if len(names) > 1:
                found += [current.commands[name] for name in names]
                current = cli
                break
            current = current.commands[names[0]]
        if current is not cli:
            found.append(current)
    return found


def test_the_readme_table_names_every_command() -> None:
    rows = "\n".join(readme_table())
    for name in cli.commands:
        assert f"`linkgen {name}" in rows, f"README's command table lacks linkgen {name}"


def test_every_option_the_readme_table_shows_exists() -> None:
    for row in readme_table():
        named = named_commands(row)
        if not named:  # a row about options shared by several commands
            continue
        shown = set(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", row.split(" | ")[0]))
        known = {opt for command in named for param in command.params for opt in param.opts}
        for group in [c for c in named if isinstance(c, click.Group)]:
            known |= {opt for sub in group.commands.values() for p in sub.params for opt in p.opts}
        assert shown <= known, f"{row.split(' | ')[0]}: no such option {shown - known}"
