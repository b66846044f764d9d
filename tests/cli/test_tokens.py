"""``linkgen token …``: a token is printed once, listed without its secret, removed."""

from __future__ import annotations

from typing import Any

from linkgen import site as sites
from linkgen.api.tokens import Tokens
from tests.support.cli import Cli


def test_a_token_is_shown_once_and_listed_without_its_secret(
    run: Cli, site: sites.Site, add_profile: Any
) -> None:
    add_profile("alice")
    made = run("token", "add", "--profile", "alice", "--scope", "profile:read,links:write",
               "--expires", "30d", "--name", "shop sync")  # fmt: skip
    text = made.stdout.strip()
    assert text.startswith("lg_") and "\n" not in text
    assert "links:write, profile:read" in made.stderr and "@alice" in made.stderr
    token = Tokens(site.database).authenticate(text)
    assert token is not None and token.scopes == {"profile:read", "links:write"}
    assert token.profile_ids == {site.content.get("alice").id}
    listed = run.json("token", "list")
    assert listed == [
        {
            "id": token.id,
            "name": "shop sync",
            "scopes": ["links:write", "profile:read"],
            "admin": False,
            "profiles": ["alice"],
            "created_at": token.created_at,
            "expires_at": token.expires_at,
            "last_used_at": listed[0]["last_used_at"],
        }
    ]
    assert text.split("_", 2)[2] not in run("token", "list").stdout
    assert site.database.conn.execute("SELECT count(*) FROM api_tokens WHERE secret_hash = ?",
                                      (text,)).fetchone()[0] == 0  # fmt: skip
    run("token", "rm", token.id)
    assert Tokens(site.database).authenticate(text) is None
    assert run("token", "list").stdout.strip() == "(no tokens)"


def test_wrong_token_requests_are_refused_with_a_reason(run: Cli, add_profile: Any) -> None:
    add_profile("alice")
    assert "give --profile" in run("token", "add", code=2).output
    bad_scope = run("token", "add", "--profile", "alice", "--scope", "links:delete", code=1)
    assert "links:delete is not a scope" in bad_scope.output
    assert "12h, 90d or 4w" in run("token", "add", "--profile", "alice", "--expires", "soon",
                                   code=1).output  # fmt: skip
    assert "no profile" in run("token", "add", "--profile", "nobody", code=1).output
    assert "no token 'nope'" in run("token", "rm", "nope", code=1).output
    admin = run("token", "add", "--admin", "--scope", "stats:read", "--expires", "never")
    assert "every profile" in admin.stderr and "expires never" in admin.stderr
