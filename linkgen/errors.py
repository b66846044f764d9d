"""The one exception tree. Library code raises these; the edges translate them.

The CLI turns a ``LinkgenError`` into a one-line message and exit code 1;
the web editor answers it with a 4xx page (``editor/errors.py``). Nothing else
should reach a user. ``describe`` and ``describe_lines`` say a pydantic
``ValidationError`` as people read it: each failing field named with its rule.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pydantic import ValidationError


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


def describe(error: ValidationError) -> str:
    """One line naming each failing field and its rule."""
    parts = []
    for item in error.errors():
        field = ".".join(str(p) for p in item["loc"])
        message = str(item["msg"]).removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            message = "is not a known field"
        parts.append(f"{field}: {message}" if field else message)
    return "; ".join(parts)


def json_path(loc: tuple[int | str, ...]) -> str:
    """``("profile", "links", 3, "url")`` as ``profile.links[3].url``."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def describe_lines(error: ValidationError, limit: int = 10) -> str:
    """One line per problem (at most ``limit``), each naming its JSON path: for a
    file someone edited by hand."""
    problems = error.errors()
    lines = []
    for item in problems[:limit]:
        message = str(item["msg"]).removeprefix("Value error, ")[:200]
        if item["type"] == "extra_forbidden":
            message = "is not a known field"
        where = json_path(tuple(item["loc"]))
        lines.append(f"{where}: {message}" if where else message)
    if len(problems) > limit:
        lines.append(f"… and {len(problems) - limit} more problems")
    return (
        f"{len(problems)} problems in the file:\n  " + "\n  ".join(lines)
        if len(problems) > 1
        else lines[0]
    )
