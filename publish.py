#!/usr/bin/env python3
"""CI entry point: build what changed, upload it, delete what was removed.

    python publish.py [--site DIR] [--dry-run] [--json] [--max-deletes N]

The same as `linkgen [--site DIR] publish ...`: exit 0 only if everything
succeeded, otherwise non-zero with one line per failure. Safe to re-run.
"""

import sys

from linkgen.cli import main

args = sys.argv[1:]
site = args[:2] if args[:1] == ["--site"] else []
main([*site, "publish", *args[len(site) :]], prog_name="publish.py")
