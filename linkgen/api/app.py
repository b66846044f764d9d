"""The HTTP API (FastAPI), served by the editor process under ``/api/v1/``.

Bearer tokens only (no cookies, so no CSRF surface); every write goes through
the store, its history, the outbox and the purge like any other edit. The
OpenAPI 3.1 document at ``/api/v1/openapi.json`` is generated from the same
pydantic models the CLI validates with; errors are RFC 9457 problem details.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from fastapi.security import HTTPBearer
from starlette.requests import Request

from linkgen import __version__
from linkgen.api import links, problems, profiles
from linkgen.api.bodies import WholeBody
from linkgen.api.context import Api
from linkgen.api.metrics import PREFIX, Measured, watch_deliveries
from linkgen.config import ApiSettings
from linkgen.errors import InvalidInput
from linkgen.site import DATA_DIR, DB_FILE

DOCUMENT = f"{PREFIX}/openapi.json"
DESCRIPTION = """Profiles, links, history, stats and publishing of a linkgen site.

Authenticate with a token from `linkgen token add` (`Authorization: Bearer lg_…`).
Updates need `If-Match` with the ETag of the profile (`"v<version>"`): a stale one
is answered 412. Every POST, PATCH and DELETE takes an `Idempotency-Key`: a retry
with the same key and body gets the first answer again (24 hours). Each token has
an allowance (`RateLimit`, `RateLimit-Policy`); past it, 429 with `Retry-After`.
Errors are problem details (RFC 9457) naming each field.
"""
# The store's models build their schemas lazily (defer_build); FastAPI's document
# generator warns about an alias of its own on such models, to no effect.
warnings.filterwarnings("ignore", message="The 'alias' attribute with value 'body'")
bearer = HTTPBearer(auto_error=False, description="A token from `linkgen token add`.")


async def known_query(request: Request) -> None:
    """A query parameter the route does not take is refused, not ignored (a typo such
    as ``?limt=5`` would otherwise pass unnoticed)."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    known, todo = set(), [route.dependant]
    while todo:
        dependant = todo.pop()
        known |= {param.alias for param in dependant.query_params}
        todo += dependant.dependencies
    unknown = sorted(set(request.query_params) - known)
    if unknown:
        raise InvalidInput(f"{unknown[0][:40]}: is not a parameter of this route")


def create_api(site_root: Path, settings: ApiSettings) -> Any:
    api = FastAPI(
        title="linkgen API",
        version=__version__,
        description=DESCRIPTION,
        openapi_url=DOCUMENT,
        docs_url=None,
        redoc_url=None,
        exception_handlers=problems.HANDLERS,
    )
    for router in (profiles.router, links.router):
        api.include_router(
            router, prefix=PREFIX, dependencies=[Depends(bearer), Depends(known_query)]
        )
    api.state.api = Api(site_root, settings)
    watch_deliveries(site_root / DATA_DIR / DB_FILE)
    api.openapi = lambda: document(api)  # type: ignore[method-assign]
    return Measured(WholeBody(api))


def document(api: FastAPI) -> dict[str, Any]:
    """FastAPI's document, with errors as ``application/problem+json``."""
    if api.openapi_schema:
        return api.openapi_schema
    schema = get_openapi(
        title=api.title, version=api.version, description=api.description, routes=api.routes
    )
    for item in schema["paths"].values():
        for operation in item.values():
            for status, response in operation.get("responses", {}).items():
                content = response.get("content", {})
                if int(status) >= 400 and "application/json" in content:
                    content[problems.MEDIA_TYPE] = content.pop("application/json")
    api.openapi_schema = schema
    return schema
