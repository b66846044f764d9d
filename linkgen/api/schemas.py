"""What the API takes and answers, beyond the store's own models.

Request bodies reuse the models the CLI and the editor validate with
(``NewProfile``, ``ProfileFields``, ``NewLink``, ``LinkChanges``), so a value is
refused with the same message everywhere; the OpenAPI document is generated
from these classes.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, Field

from linkgen.models import Link, LinkChanges, NewLink, Strict

MAX_BATCH = 50


def _whole(value: object) -> object:
    """JSON Schema counts 3.0 as an integer; so do we (3.5 stays refused)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# A place in the list, 1 being the first.
Place = Annotated[int, BeforeValidator(_whole), Field(ge=1, le=10_000)]


class Problem(BaseModel):
    """An error, as RFC 9457 problem details."""

    type: str = Field(description="A URI naming the kind of problem.")
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[FieldError] | None = Field(
        None, description="For invalid input: each field and what is wrong with it."
    )
    retry_after: int | None = Field(None, description="For 429: seconds to wait.")


class FieldError(BaseModel):
    field: str = Field(description="The field's JSON path, e.g. `operations[3].url`.")
    detail: str


class ProfileItem(BaseModel):
    id: str
    username: str
    display_name: str
    theme: str
    links: int
    version: int
    updated_at: str


class ProfilePage(BaseModel):
    items: list[ProfileItem]
    next_cursor: str | None = Field(
        None, description="Pass as `cursor` for the next page; null on the last one."
    )


class LinkPage(BaseModel):
    items: list[Link]


class NewLinkRequest(NewLink):
    position: int | None = Field(
        None, ge=1, description="Where to put it (1: first); default last."
    )


class MoveRequest(Strict):
    position: Place = Field(description="The link's new place, 1 being the first.")


class _Op(Strict):
    """One operation of a batch, named by its ``op``."""


class AddOp(_Op):
    op: Literal["add"]
    link: NewLink
    position: Place | None = None


class EditOp(_Op):
    op: Literal["edit"]
    link_id: str = Field(min_length=1, max_length=40)
    changes: LinkChanges


class MoveOp(_Op):
    op: Literal["move"]
    link_id: str = Field(min_length=1, max_length=40)
    position: Place


class ToggleOp(_Op):
    op: Literal["enable", "disable", "remove"]
    link_id: str = Field(min_length=1, max_length=40)


OPERATION_TAGS = frozenset({"add", "edit", "move", "enable", "disable", "remove"})
Operation = Annotated[AddOp | EditOp | MoveOp | ToggleOp, Field(discriminator="op")]


class BatchRequest(Strict):
    operations: list[Operation] = Field(min_length=1, max_length=MAX_BATCH)


class BatchResult(BaseModel):
    version: int
    created: list[str | None] = Field(
        description="Per operation, the id of the link it added (null for the others)."
    )


class HistoryItem(BaseModel):
    seq: int
    at: str
    actor: str
    action: str
    summary: str
    version_after: int | None
    undone: bool


class HistoryPage(BaseModel):
    items: list[HistoryItem]


class Undone(BaseModel):
    undone: str = Field(description="What was undone, as `linkgen undo` says it.")
    version: int | None = Field(description="The profile's version now (null: it is gone).")


class PublishStatus(BaseModel):
    state: Literal["live", "pending"] = Field(
        description="live: the last edit is published and purged at the edge."
    )
    version: int
    worker_running: bool
    purge_pending: bool


class PurgeQueued(BaseModel):
    queued: list[str] = Field(description="The keys or paths the worker purges next.")


class Totals(BaseModel):
    views: int
    unique_views: int
    clicks: int
    unique_clickers: int
    ctr: float | None


class LinkFigures(BaseModel):
    link_id: str
    title: str
    url: str
    clicks: int
    unique_clickers: int
    ctr: float | None


class Stats(BaseModel):
    """The figures of `linkgen stats --json`."""

    username: str
    profile_id: str
    first_day: str
    last_day: str
    range: Totals
    lifetime: Totals
    days: list[str]
    daily_views: list[int]
    daily_clicks: list[int]
    links: list[LinkFigures]
    referrers: list[tuple[str, int]]
    countries: list[tuple[str, int]]
    devices: list[tuple[str, int]]
    bots_included: bool
    note: str


Problem.model_rebuild()
