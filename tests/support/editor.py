"""The web editor as a real process, and a browser-like client of it."""

from __future__ import annotations

import re
from typing import Any

import requests

from linkgen import site as sites
from tests.support.servers import start_linkgen

PASSWORD = "correct horse battery"


class Editor:
    def __init__(self, site: sites.Site) -> None:
        self.proc, port = start_linkgen(site, "editor")
        self.url = f"http://127.0.0.1:{port}"

    def browser(self) -> Browser:
        return Browser(self.url)


class Browser:
    """A requests session that reads each form's CSRF token, as a browser submits it."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.http = requests.Session()

    def get(self, path: str) -> requests.Response:
        return self.http.get(self.url + path, allow_redirects=False, timeout=10)

    def token(self, path: str) -> str:
        match = re.search(r'name="csrf" value="([^"]+)"', self.get(path).text)
        assert match, f"no form token on {path}"
        return match.group(1)

    def post(self, path: str, data: dict[str, Any], csrf: str | None = None) -> requests.Response:
        body = dict(data) if csrf is None else {**data, "csrf": csrf}
        return self.http.post(self.url + path, data=body, allow_redirects=False, timeout=10)

    def sign_in(self, email: str, password: str) -> requests.Response:
        return self.post("/sign-in", {"email": email, "password": password}, self.token("/sign-in"))


def signed_in(editor: Editor, email: str = "alice@example.com") -> Browser:
    browser = editor.browser()
    assert browser.sign_in(email, PASSWORD).status_code == 303
    return browser
