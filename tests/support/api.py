"""The editor process serving the HTTP API, tokens for it, and a client that
speaks to it the way a script would (requests, a bearer token)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import requests

from linkgen import site as sites
from linkgen.api.tokens import Tokens
from tests.support.servers import free_port

DEFAULT_SCOPES = frozenset({"profile:read", "profile:write", "links:write", "stats:read"})


def token_for(
    site: sites.Site, *usernames: str, scopes: frozenset[str] = DEFAULT_SCOPES, **options: Any
) -> str:
    """A new token of ``usernames`` (every scope unless told), as `linkgen token add`."""
    ids = [site.content.get(name).id for name in usernames]
    return Tokens(site.database).add("test", scopes, ids, **options)[1]


def operations() -> list[tuple[str, str]]:
    """Every (method, path) of the API, read from its routers: a new route is
    covered by the tests that walk them without a word there."""
    from fastapi.routing import APIRoute

    from linkgen.api import links, profiles
    from linkgen.api.app import PREFIX

    return sorted(
        (method, PREFIX + route.path)
        for router in (profiles.router, links.router)
        for route in router.routes
        if isinstance(route, APIRoute)
        for method in route.methods
    )


def api_settings(site: sites.Site, **settings: Any) -> None:
    """Add an [api] section to the site's linkgen.toml (before the server starts)."""
    with (site.root / "linkgen.toml").open("a") as out:
        out.write("\n[api]\n" + "".join(f"{k} = {v!r}\n" for k, v in settings.items()))


class ApiServer:
    """`linkgen editor` as a real process; its output goes to a file (never a full pipe)."""

    def __init__(self, site: sites.Site, log: Path) -> None:
        self.site = site
        port = free_port(8090)
        self.log = log
        self._out = log.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "linkgen", "--site", str(site.root), "editor",
             "--port", str(port)],
            stdout=self._out, stderr=subprocess.STDOUT,
        )  # fmt: skip
        self.url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except requests.ConnectionError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"the editor did not start: {log.read_text()[-2000:]}")

    def token(
        self,
        *usernames: str,
        scopes: frozenset[str] = DEFAULT_SCOPES,
        admin: bool = False,
        **options: Any,
    ) -> str:
        ids = [self.site.content.get(name).id for name in usernames]
        _, text = Tokens(self.site.database).add("test", scopes, ids, admin=admin, **options)
        return text

    def client(self, token: str | None) -> Client:
        return Client(self.url + "/api/v1", token)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        finally:
            self._out.close()


class Client:
    def __init__(self, base: str, token: str | None) -> None:
        self.base = base
        self.http = requests.Session()
        if token:
            self.http.headers["Authorization"] = f"Bearer {token}"

    def call(self, method: str, path: str, **options: Any) -> requests.Response:
        options.setdefault("timeout", 15)
        return self.http.request(method, self.base + path, **options)

    def get(self, path: str, **options: Any) -> requests.Response:
        return self.call("GET", path, **options)

    def post(self, path: str, body: Any = None, **headers: str) -> requests.Response:
        return self.call("POST", path, json=body, headers=_headers(headers))

    def patch(self, path: str, body: Any, **headers: str) -> requests.Response:
        return self.call("PATCH", path, json=body, headers=_headers(headers))

    def delete(self, path: str, **headers: str) -> requests.Response:
        return self.call("DELETE", path, headers=_headers(headers))

    def etag(self, username: str) -> str:
        response = self.get(f"/profiles/{username}")
        assert response.status_code == 200, response.text
        return response.headers["ETag"]


def _headers(given: dict[str, str]) -> dict[str, str]:
    """if_match="…" → If-Match, idempotency_key="…" → Idempotency-Key."""
    return {"-".join(part.capitalize() for part in name.split("_")): v for name, v in given.items()}
