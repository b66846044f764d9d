"""The HTTP API for tools and scripts (``/api/v1/``)."""
