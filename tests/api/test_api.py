"""The HTTP API against the real editor process: tokens and scopes, one creator
never reaching another's profile, versions, idempotent retries, batches, limits."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher

from linkgen import site as sites
from linkgen.models import NewProfile, ProfileFields, validate
from tests.support.api import ApiServer, api_settings
from tests.support.cli import Cli


def test_a_token_reads_its_own_profile_and_nobody_elses(server: ApiServer) -> None:
    alice = server.client(server.token("alice"))
    profile = alice.get("/profiles/alice")
    assert profile.status_code == 200
    assert profile.headers["ETag"] == f'"v{profile.json()["version"]}"'
    assert [link["title"] for link in profile.json()["links"]] == ["Shop", "Blog"]
    assert [item["username"] for item in alice.get("/profiles").json()["items"]] == ["alice"]
    # bob's profile, his link, and one that does not exist are the same 404
    bobs_link = server.site.content.get("bob").links[0].id
    for path in ("/profiles/bob", f"/profiles/bob/links/{bobs_link}", "/profiles/nobody"):
        answer = alice.get(path)
        assert answer.status_code == 404, path
        assert answer.headers["Content-Type"] == "application/problem+json"
        assert answer.json()["status"] == 404
    etag = server.client(server.token("bob")).etag("bob")
    assert (
        alice.patch(
            f"/profiles/bob/links/{bobs_link}", {"title": "Mine"}, if_match=etag
        ).status_code
        == 404
    )
    assert server.site.content.get("bob").links[0].title == "Music"


def test_no_token_a_wrong_one_an_expired_one_and_a_removed_one_are_refused(
    server: ApiServer, run: Cli
) -> None:
    from datetime import timedelta

    assert server.client(None).get("/profiles").status_code == 401
    assert server.client(None).get("/profiles").headers["WWW-Authenticate"].startswith("Bearer")
    assert server.client("lg_nothing_here").get("/profiles").status_code == 401
    good = server.token("alice")
    forged = good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB")
    assert server.client(forged).get("/profiles").status_code == 401
    lapsed = server.token("alice", expires_in=timedelta(seconds=1))
    time.sleep(1.1)
    assert server.client(lapsed).get("/profiles").status_code == 401
    assert server.client(good).get("/profiles").status_code == 200
    token_id = good.split("_")[1]
    run("token", "rm", token_id)
    assert server.client(good).get("/profiles").status_code == 401


def test_each_route_needs_its_scope(server: ApiServer) -> None:
    reader = server.client(server.token("alice", scopes=frozenset({"profile:read"})))
    assert reader.get("/profiles/alice").status_code == 200
    refused = reader.post("/profiles/alice/links", {"title": "New", "url": "https://new.example"})
    assert refused.status_code == 403
    assert "links:write" in refused.json()["detail"]
    assert reader.get("/profiles/alice/stats").status_code == 403
    assert (
        reader.patch("/profiles/alice", {"bio": "x"}, if_match=reader.etag("alice")).status_code
        == 403
    )
    assert len(server.site.content.get("alice").links) == 2
    # only an admin token creates profiles
    writer = server.client(server.token("alice"))
    assert writer.post("/profiles", {"username": "carol"}).status_code == 403
    admin = server.client(server.token(admin=True))
    created = admin.post("/profiles", {"username": "carol", "display_name": "Carol"})
    assert created.status_code == 201
    assert created.headers["Location"] == "/api/v1/profiles/carol"
    assert admin.post("/profiles", {"username": "carol"}).status_code == 409
    assert [p["username"] for p in admin.get("/profiles").json()["items"]] == [
        "alice",
        "bob",
        "carol",
    ]


def test_an_update_needs_the_current_etag(server: ApiServer) -> None:
    alice = server.client(server.token("alice"))
    shop = server.site.content.get("alice").links[0].id
    missing = alice.patch(f"/profiles/alice/links/{shop}", {"title": "Store"})
    assert missing.status_code == 428
    first = alice.etag("alice")
    saved = alice.patch(f"/profiles/alice/links/{shop}", {"title": "Store"}, if_match=first)
    assert saved.status_code == 200 and saved.json()["title"] == "Store"
    assert saved.headers["ETag"] != first
    stale = alice.patch(f"/profiles/alice/links/{shop}", {"title": "Lost"}, if_match=first)
    assert stale.status_code == 412
    assert server.site.content.get("alice").links[0].title == "Store"
    # the write went the way of every edit: history (naming the token) and the outbox
    entry = server.site.content.history("alice", limit=1)[0]
    assert entry.action == "link.edit" and entry.actor.startswith("test (api ")
    assert server.site.outbox.waiting(server.site.content.get("alice").id)


def test_bad_input_is_refused_by_field_with_the_clis_words(server: ApiServer, run: Cli) -> None:
    alice = server.client(server.token("alice"))
    refused = alice.post("/profiles/alice/links", {"title": "Hi", "url": "javascript:alert(1)"})
    assert refused.status_code == 422
    problem = refused.json()
    assert problem["type"] == "urn:linkgen:problem:invalid-input"
    assert problem["errors"][0]["field"] == "url"
    cli = run("link", "add", "alice", "Hi", "javascript:alert(1)", code=1)
    assert problem["errors"][0]["detail"] in cli.output
    unknown = alice.post(
        "/profiles/alice/links", {"title": "Hi", "url": "https://a.example", "colour": 1}
    )
    assert unknown.status_code == 422
    assert unknown.json()["errors"] == [{"field": "colour", "detail": "is not a known field"}]
    broken = alice.call("POST", "/profiles/alice/links", data=b"{not json",
                        headers={"Content-Type": "application/json"})  # fmt: skip
    assert broken.status_code == 422
    assert len(server.site.content.get("alice").links) == 2


def test_a_retried_write_with_its_key_is_done_once(server: ApiServer) -> None:
    alice = server.client(server.token("alice"))
    body = {"title": "Newsletter", "url": "https://news.example.com"}
    first = alice.post("/profiles/alice/links", body, idempotency_key="add-newsletter-1")
    again = alice.post("/profiles/alice/links", body, idempotency_key="add-newsletter-1")
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert [link.title for link in server.site.content.get("alice").links].count("Newsletter") == 1
    other = alice.post("/profiles/alice/links", {**body, "title": "Other"},
                       idempotency_key="add-newsletter-1")  # fmt: skip
    assert other.status_code == 422
    assert other.json()["errors"][0]["field"] == "Idempotency-Key"
    # another token's key is its own
    second = server.client(server.token("alice"))
    assert (
        second.post("/profiles/alice/links", body, idempotency_key="add-newsletter-1").status_code
        == 201
    )
    # a request that failed stored nothing: fixed, it goes through with the same key
    bad = alice.post(
        "/profiles/alice/links", {"title": "X", "url": "ftp://x"}, idempotency_key="k2"
    )
    assert bad.status_code == 422
    good = alice.post("/profiles/alice/links", {"title": "X", "url": "ftp://x"} | {"url": "https://x.example"},
                      idempotency_key="k3")  # fmt: skip
    assert good.status_code == 201


def test_a_batch_of_50_with_one_bad_operation_changes_nothing(server: ApiServer) -> None:
    alice = server.client(server.token("alice"))
    before = server.site.content.get("alice")
    operations = [
        {"op": "add", "link": {"title": f"Link {n}", "url": f"https://example.com/{n}"}}
        for n in range(45)
    ]
    operations[37]["link"]["url"] = "javascript:alert(1)"
    operations += [
        {"op": "disable", "link_id": before.links[0].id},
        {"op": "move", "link_id": before.links[1].id, "position": 1},
        {"op": "edit", "link_id": before.links[0].id, "changes": {"title": "Store"}},
        {"op": "enable", "link_id": before.links[0].id},
        {"op": "remove", "link_id": before.links[1].id},
    ]
    assert len(operations) == 50
    refused = alice.post("/profiles/alice/links/batch", {"operations": operations},
                         if_match=alice.etag("alice"))  # fmt: skip
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "operations[37].link.url"
    after = server.site.content.get("alice")
    assert after == before
    assert server.site.content.history("alice", limit=1)[0].action == "link.add"
    # mended, all 50 land as one edit: one version, one history entry, one undo
    operations[37]["link"]["url"] = "https://example.com/37"
    done = alice.post("/profiles/alice/links/batch", {"operations": operations},
                      if_match=alice.etag("alice"))  # fmt: skip
    assert done.status_code == 200, done.text
    result = done.json()
    assert result["version"] == before.version + 1
    assert len([c for c in result["created"] if c]) == 45
    links = server.site.content.get("alice").links
    assert len(links) == 46 and links[0].title == "Store" and links[0].enabled
    assert server.site.content.history("alice", limit=1)[0].action == "link.batch"
    undone = alice.post("/profiles/alice/undo")
    assert undone.status_code == 200 and "link.batch" in undone.json()["undone"]
    assert [link.id for link in server.site.content.get("alice").links] == [
        link.id for link in before.links
    ]
    fifty_one = {"operations": [*operations, operations[0]]}
    too_many = alice.post("/profiles/alice/links/batch", fifty_one, if_match=alice.etag("alice"))
    assert too_many.status_code == 422


def test_a_token_past_its_allowance_is_told_when_to_come_back(
    site: sites.Site, creators: None, tmp_path: Path
) -> None:
    api_settings(site, rate=1.0, burst=5)
    server = ApiServer(site, tmp_path / "editor.log")
    try:
        alice, bob = server.client(server.token("alice")), server.client(server.token("bob"))
        started = time.monotonic()
        answers = [alice.get("/profiles/alice") for _ in range(5)]  # the whole burst
        assert [a.status_code for a in answers] == [200] * 5
        assert answers[0].headers["RateLimit-Policy"] == '"token";q=5;w=5'
        assert answers[4].headers["RateLimit"].startswith('"token";r=0;')
        # past it: refused, but for what refilled meanwhile (1 a second; a slow machine
        # may take that long over the burst)
        refused, extra = alice.get("/profiles/alice"), 0
        while refused.status_code == 200 and extra < 20:
            refused, extra = alice.get("/profiles/alice"), extra + 1
        assert refused.status_code == 429
        assert extra <= time.monotonic() - started + 1
        assert refused.headers["Retry-After"] == "1"
        assert refused.json()["retry_after"] == 1
        assert bob.get("/profiles/bob").status_code == 200  # each token has its own
        time.sleep(1.05)
        assert alice.get("/profiles/alice").status_code == 200
    finally:
        server.stop()


def test_a_body_over_64_kb_is_refused_before_it_is_read(server: ApiServer) -> None:
    alice = server.client(server.token("alice"))
    huge = {"title": "x", "url": "https://example.com/" + "a" * 70_000}
    refused = alice.post("/profiles/alice/links", huge)
    assert refused.status_code == 413
    assert refused.headers["Content-Type"] == "application/problem+json"
    chunks = (json.dumps(huge)[i : i + 8192].encode() for i in range(0, 80_000, 8192))
    streamed = alice.call("POST", "/profiles/alice/links", data=chunks,
                          headers={"Content-Type": "application/json"})  # fmt: skip
    assert streamed.status_code == 413
    assert len(server.site.content.get("alice").links) == 2


def test_requests_latency_and_refusals_are_on_the_editors_metrics(
    site: sites.Site, creators: None, tmp_path: Path
) -> None:
    import requests

    from tests.support.servers import free_port

    port = free_port()
    with (site.root / "linkgen.toml").open("a") as out:
        out.write(f"\n[editor]\nmetrics_port = {port}\n")
    api_settings(site, rate=0.1, burst=3)  # nothing refills during the four requests
    hooks = site.webhooks  # one delivery made, one given up on after two tries
    hooks.add("https://hooks.example.com/in", frozenset({"profile.updated"}), None)
    for bio in ("first", "second"):
        site.content.update_profile("alice", ProfileFields(bio=bio))
    made, dead = (d.id for d in hooks.due())
    hooks.delivered(made)
    hooks.failed(dead, "the receiver answered 500", time.time())
    hooks.failed(dead, "the receiver answered 500", None)
    server = ApiServer(site, tmp_path / "editor.log")
    try:
        alice = server.client(server.token("alice"))
        statuses = [alice.get("/profiles/alice").status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        metrics = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    finally:
        server.stop()
    route = 'method="GET",route="/api/v1/profiles/{username}"'
    assert f'linkgen_api_requests_total{{{route},status="200"}} 3.0' in metrics
    assert f'linkgen_api_requests_total{{{route},status="429"}} 1.0' in metrics
    assert f"linkgen_api_request_seconds_count{{{route}}} 4.0" in metrics
    assert "linkgen_api_rate_limited_total 1.0" in metrics
    for name, value in (("delivered", 1), ("failed_tries", 2), ("dead_letters", 1), ("pending", 0)):
        assert f"linkgen_webhook_{name} {value:.1f}" in metrics


def test_profiles_are_listed_a_page_at_a_time(server: ApiServer, add_profile: object) -> None:
    for n in range(5):
        server.site.content.create_profile(validate(NewProfile, {"username": f"extra{n}"}))
    admin = server.client(server.token(admin=True))
    seen, cursor, pages = [], None, 0
    while True:
        page = admin.get("/profiles", params={"limit": 3, **({"cursor": cursor} if cursor else {})})
        assert page.status_code == 200
        seen += [item["username"] for item in page.json()["items"]]
        cursor, pages = page.json()["next_cursor"], pages + 1
        if cursor is None:
            break
    assert seen == sorted(["alice", "bob", *(f"extra{n}" for n in range(5))]) and pages == 3
    past_the_end = admin.get("/profiles", params={"cursor": "enp6", "limit": 3})  # after 'zzz'
    assert past_the_end.json() == {"items": [], "next_cursor": None}
    assert admin.get("/profiles", params={"cursor": "%%%"}).status_code == 422


def test_history_stats_publish_status_and_a_purge_are_the_clis_own(
    server: ApiServer, run: Cli
) -> None:
    alice = server.client(server.token("alice"))
    shop = server.site.content.get("alice").links[0].id
    assert alice.post(f"/profiles/alice/links/{shop}/disable",
                      if_match=alice.etag("alice")).status_code == 200  # fmt: skip
    history = alice.get("/profiles/alice/history", params={"limit": 2}).json()["items"]
    assert history[0]["action"] == "link.disable" and history[0]["actor"].startswith("test (api ")
    assert [h["seq"] for h in history] == [
        e.seq for e in server.site.content.history("alice", limit=2)
    ]
    assert alice.get("/profiles/alice/stats", params={"days": 7}).json() == run.json(
        "stats", "alice", "--days", "7"
    )
    status = alice.get("/profiles/alice/publish").json()
    assert (
        status["state"] == "pending"
        and status["version"] == server.site.content.get("alice").version
    )
    run("publish")  # the worker's job, done by hand: built, published, the outbox cleared
    assert alice.get("/profiles/alice/publish").json()["state"] == "live"
    queued = alice.post("/profiles/alice/purge")
    alice_id = server.site.content.get("alice").id
    assert queued.status_code == 202 and queued.json() == {"queued": [f"p-{alice_id}"]}
    assert f"p-{alice_id}" in server.site.manifest.pending_purges("key")
    assert alice.get("/profiles/alice/publish").json() == {
        "state": "pending", "version": status["version"], "worker_running": False,
        "purge_pending": True,
    }  # fmt: skip
    run("publish")  # a publish sends what is queued (with no CDN: nothing to send)
    assert server.site.manifest.pending_purges("key") == []
    assert alice.get("/profiles/alice/publish").json()["state"] == "live"


def test_a_locked_links_password_hash_never_leaves_through_the_api_or_the_cli(
    server: ApiServer, run: Any
) -> None:
    from linkgen.models import LinkChanges, validate

    content = server.site.content
    shop = content.get("alice").links[0].id
    digest = PasswordHasher().hash("open sesame")
    lock = {"kind": "password", "password_hash": digest}
    content.edit_link("alice", shop, validate(LinkChanges, {"lock": lock}, strict=False))
    alice = server.client(server.token("alice"))
    one = alice.get(f"/profiles/alice/links/{shop}").json()
    assert one["lock"] == {"kind": "password", "password_hash": None, "age": None}
    for path in ("/profiles/alice", "/profiles/alice/links"):
        answer = alice.get(path)
        assert answer.status_code == 200 and "$argon2id$" not in answer.text, path
    etag = alice.etag("alice")
    changed = alice.patch(f"/profiles/alice/links/{shop}", {"title": "Shop now"}, if_match=etag)
    assert changed.status_code == 200 and "$argon2id$" not in changed.text
    for command in (("profile", "show", "alice", "--json"), ("link", "list", "alice", "--json")):
        assert "$argon2id$" not in run(*command).stdout, command
    exported = run("export", "alice").stdout  # the creator's own copy keeps it, for an import
    assert digest in exported
    assert content.get("alice").links[0].lock.password_hash == digest  # type: ignore[union-attr]
