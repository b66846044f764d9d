"""The one exception tree. Library code raises these; the edges translate them.

The CLI turns a ``LinkgenError`` into a one-line message and exit code 1;
the web editor answers it with a 4xx page (``editor/errors.py``). Nothing else
should reach a user.
"""

from __future__ import annotations


class LinkgenError(Exception):
    """Base of every error a user can cause or fix (the CLI exits 1)."""


class InvalidInput(LinkgenError):
    """A value broke a rule. The message names the field and the rule."""


class LimitReached(InvalidInput):
    """A count limit (links per profile, ...) would be exceeded."""


class NotFound(LinkgenError):
    """A profile, link or history entry does not exist."""


class Conflict(LinkgenError):
    """The change clashes with what is stored (a taken username, ...)."""


class StaleEdit(Conflict):
    """The edit was based on an older version than the one stored."""


class NothingToUndo(LinkgenError):
    """The history holds no change that can be undone."""


class ConfigError(LinkgenError):
    """``linkgen.toml`` or an environment override is wrong."""


class SiteNotFound(ConfigError):
    """The directory is not a linkgen site."""


class ThemeError(LinkgenError):
    """A theme file or template is missing or malformed."""


class PublishError(LinkgenError):
    """The target cannot be reached or refuses (credentials, bucket, ...)."""


class BackupError(LinkgenError):
    """A backup that cannot be made, or a copy that cannot be restored as it is."""
