"""linkgen: link-in-bio pages as a static site with an edge-purge publisher."""

import os

__version__ = "0.2.0"

# No pydantic plugins: looking for them reads the metadata of every installed
# package when the first model is checked (10-20 ms of each command that checks
# input). PYDANTIC_DISABLE_PLUGINS set to anything else (plugin names, or "")
# has pydantic look for them again.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
