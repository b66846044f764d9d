"""The OpenAPI document against the running API: Schemathesis (a check written by
nobody here) sends what the document allows, and every answer must be one the
document lists, shaped as it says; and every status the document lists is one
the API really answers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings, strategies
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from linkgen import site as sites
from linkgen.models import NewLink, NewProfile, validate
from tests.support.api import ApiServer, api_settings, operations


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServer]:
    root = tmp_path_factory.mktemp("fuzzed")
    site = sites.init(root / "site")
    for name in ("alice", "bob"):
        site.content.create_profile(validate(NewProfile, {"username": name}))
        site.content.add_link(
            name, validate(NewLink, {"title": "Shop", "url": "https://a.example"})
        )
    api_settings(site, rate=100000.0, burst=1000000)
    server = ApiServer(site, root / "editor.log")
    server.admin = server.token(admin=True)  # type: ignore[attr-defined]
    yield server
    server.stop()
    site.close()


@pytest.fixture(scope="module")
def document(fuzzed: ApiServer) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_url(f"{fuzzed.url}/api/v1/openapi.json")


# "Schema-valid data is accepted" cannot hold here: the document gives each field's
# type and bounds, but not every rule (a known brand icon, a known language), and an
# update's If-Match must be the profile's current ETag, not any string; those are
# refused with a 422 or 412 the document lists, which the other checks hold to.
UNCHECKED = positive_data_acceptance

# Every route, read from the routers (so a new one is fuzzed without a word here).
OPERATIONS = operations()


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_every_answer_is_one_the_document_allows(
    document: schemathesis.BaseSchema, fuzzed: ApiServer, method: str, path: str
) -> None:
    operation = document[path][method]
    auth = {"Authorization": f"Bearer {fuzzed.admin}"}  # type: ignore[attr-defined]
    calls = []

    real = {"username": "alice", "link_id": fuzzed.site.content.get("alice").links[0].id}
    fixed = {name: value for name, value in real.items() if f"{{{name}}}" in path} or None
    cases = strategies.one_of(
        operation.as_strategy(),  # what the document allows
        operation.as_strategy(path_parameters=fixed),  # the same, at a real profile
        operation.as_strategy(GenerationMode.NEGATIVE),  # what it forbids: a 4xx each
    )

    @given(case=cases)
    @settings(
        max_examples=40,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    def conforms(case: schemathesis.Case) -> None:
        # A case made to break the rules is sent as made: with its own token or none.
        given = auth if case.meta and case.meta.generation.mode is GenerationMode.POSITIVE else {}
        response = case.call_and_validate(headers=given, excluded_checks=[UNCHECKED])
        calls.append(response.status_code)

    conforms()
    assert any(status < 300 for status in calls) or method != "GET", calls
    assert any(400 <= status < 500 for status in calls), calls


def test_the_document_is_openapi_3_1_and_every_route_needs_a_token(fuzzed: ApiServer) -> None:
    doc = requests.get(f"{fuzzed.url}/api/v1/openapi.json", timeout=10).json()
    assert doc["openapi"].startswith("3.1")
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            assert operation.get("security"), (method, path)
            for status, response in operation["responses"].items():
                if int(status) >= 400:
                    assert list(response["content"]) == ["application/problem+json"]
