"""Running ``linkgen`` in-process, as a user would from a shell."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from linkgen.cli import cli


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
