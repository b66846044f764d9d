"""linkgen: link-in-bio pages as a static site with an edge-purge publisher."""

__version__ = "0.2.0"
