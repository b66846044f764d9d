"""Every status the OpenAPI document lists for a route is one the route really
answers: each is brought about here, on purpose, against the running API."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import count
from typing import Any

import pytest
import requests

from linkgen import site as sites
from linkgen.api.tokens import SCOPES
from linkgen.models import NewLink, NewProfile, validate
from tests.support.api import ApiServer, api_settings, operations

BURST = 5
OPERATIONS = operations()
NAMES = (f"p{n}" for n in count())


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServer]:
    root = tmp_path_factory.mktemp("statuses")
    site = sites.init(root / "site")
    api_settings(site, rate=0.5, burst=BURST)
    running = ApiServer(site, root / "editor.log")
    yield running
    running.stop()
    site.close()


class Route:
    """One operation, called the way that brings about a given status."""

    def __init__(self, server: ApiServer, method: str, path: str) -> None:
        self.server, self.method, self.path = server, method, path
        self.site = server.site

    def fresh_profile(self, links: int = 2) -> str:
        name = next(NAMES)
        self.site.content.create_profile(validate(NewProfile, {"username": name}))
        for n in range(links):
            self.site.content.add_link(
                name, validate(NewLink, {"title": f"L{n}", "url": f"https://e.example/{n}"})
            )
        return name

    def url(self, username: str) -> str:
        link = self.site.content.get(username).links[0].id if "{link_id}" in self.path else ""
        return self.server.url + self.path.format(username=username, link_id=link)

    def body(self, username: str) -> Any:
        tail = self.path.rsplit("/", 1)[-1]
        if self.method == "POST" and self.path.endswith("/profiles"):
            return {"username": next(NAMES)}
        if tail == "batch":
            return {
                "operations": [{"op": "add", "link": {"title": "B", "url": "https://b.example"}}]
            }
        if tail == "move":
            return {"position": 2}
        if self.method == "POST" and tail == "links":
            return {"title": "New", "url": "https://new.example"}
        if self.method == "PATCH":
            return {"title": "T"} if "{link_id}" in self.path else {"bio": "B"}
        return None

    def token(self, username: str | None, scopes: frozenset[str] = frozenset(SCOPES)) -> str:
        return self.server.token(*([username] if username else []), scopes=scopes)

    def send(
        self, username: str, token: str | None, *, if_match: str | None = "current",
        body: Any = "valid", headers: dict[str, str] | None = None, url: str | None = None,
        raw: bytes | None = None,
    ) -> requests.Response:  # fmt: skip
        sent = dict(headers or {})
        if token:
            sent["Authorization"] = f"Bearer {token}"
        if if_match == "current" and self.site.content.exists(username):
            sent["If-Match"] = f'"v{self.site.content.get(username).version}"'
        elif if_match not in (None, "current"):
            sent["If-Match"] = if_match
        given = self.body(username) if body == "valid" else body
        options: dict[str, Any] = {"json": given} if raw is None else {"data": raw}
        if raw is not None:
            sent["Content-Type"] = "application/json"
        return requests.request(
            self.method, url or self.url(username), headers=sent, timeout=15, **options
        )

    def bring_about(self, status: int) -> requests.Response:
        name = self.fresh_profile()
        mine = self.token(name)
        if status < 300:
            if self.path.endswith("/profiles") and self.method == "POST":
                return self.send(name, self.server.token(admin=True))
            return self.send(name, mine)
        if status == 401:
            return self.send(name, None)
        if status == 403:
            answers = [self.send(name, self.token(name, frozenset({s}))) for s in SCOPES]
            return next((a for a in answers if a.status_code == 403), answers[0])
        if status == 404:
            return self.send(name, mine, url=self.url(name).replace(f"/{name}", "/nobody", 1))
        if status == 409:
            if self.method == "POST" and self.path.endswith("/profiles"):
                return self.send(name, self.server.token(admin=True), body={"username": name})
            full = self.fresh_profile(links=self.site.config.build.max_links)
            return self.send(full, self.token(full))
        if status == 412:
            return self.send(name, mine, if_match='"v1"')
        if status == 413:
            return self.send(name, mine, raw=b'{"title": "' + b"x" * 70_000 + b'"}')
        if status == 422:
            if self.method == "GET":
                return self.send(name, mine, url=self.url(name) + "?limt=5")
            return self.send(name, mine, headers={"Idempotency-Key": "has spaces in it"})
        if status == 428:
            return self.send(name, mine, if_match=None)
        if status == 429:
            name = self.fresh_profile(links=3 * BURST)  # enough for every removal
            mine = self.token(name)
            for _ in range(BURST):  # the token's whole allowance, spent at once
                self.send(name, mine)
            answer = self.send(name, mine)
            for _ in range(BURST):  # and what refilled meanwhile, on a slow machine
                if answer.status_code == 429:
                    break
                answer = self.send(name, mine)
            return answer
        raise AssertionError(f"no way to bring about {status} here")


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_every_documented_status_is_reached(server: ApiServer, method: str, path: str) -> None:
    document = requests.get(f"{server.url}/api/v1/openapi.json", timeout=10).json()
    listed = sorted(int(code) for code in document["paths"][path][method.lower()]["responses"])
    route = Route(server, method, path)
    reached = {status: route.bring_about(status).status_code for status in listed}
    assert reached == {status: status for status in listed}
