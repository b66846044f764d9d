"""The ``linkgen`` command: a thin click layer over the library.

Each command parses options, calls one library function and prints the
result. A ``LinkgenError`` becomes a one-line message and exit code 1; usage
errors exit 2; anything unexpected exits 3 with a hint to re-run with -v.
``base`` holds the root command and the error translation; each command group
has its own module, imported when one of its commands runs (``commands``);
``output`` shows the results.
"""

from __future__ import annotations

import os

# The CLI uses no pydantic plugins: skip their entry-point scan at start-up.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

import logging
import sys

from linkgen.cli.base import cli

__all__ = ["cli", "main"]


def main(args: list[str] | None = None, prog_name: str = "linkgen") -> None:
    """The console entry point: run one command, then exit at once.

    Interpreter teardown frees every object one by one — about 0.2 s after a
    publish, mostly boto3's service models. By the time a command returns the
    database is closed and output flushed, so the process leaves without it.
    """
    try:
        cli.main(args=args, prog_name=prog_name)
        code = 0
    except SystemExit as done:
        code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
    sys.stdout.flush()
    sys.stderr.flush()
    logging.shutdown()
    os._exit(code)
