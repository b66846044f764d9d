"""``python -m linkgen``: the same as the ``linkgen`` command."""

from linkgen.cli import main

main()
