"""The editor's views, one module per page family."""
