"""Several redirectors without the editor's database: each reads the link map the
publisher writes to the bucket ([redirector] link_map / links_from), serves the
same links, keeps its own clicks, and `stats --from-s3` adds them up once."""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests

from linkgen import site as sites
from linkgen.clicks.bucket_links import BucketLinkIndex
from linkgen.clicks.db import HOUR_MS, ClickStore, clicks_path
from linkgen.clicks.recorder import Recorder, WriterSettings
from linkgen.clicks.redirector import Redirector, RedirectorOptions
from linkgen.clicks.shipping import ship
from linkgen.clicks.variants import DayHasher
from linkgen.publish import linkmap
from tests.support.cli import Cli
from tests.support.servers import start_linkgen, wait_for


@pytest.fixture(autouse=True)
def _no_pictures(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LINKGEN_BUILD__SOCIAL_CARDS", "false")
    monkeypatch.setenv("LINKGEN_BUILD__QR_CODES", "false")


def publishing_site(site: sites.Site, bucket: str, s3_endpoint: str) -> Cli:
    (site.root / "linkgen.toml").write_text(
        '[site]\nurl = "https://links.example.com"\n'
        '[redirector]\nbase_url = "https://go.example.com"\nlink_map = true\n'
        f'[publish]\ntarget = "s3://{bucket}/links"\nendpoint_url = "{s3_endpoint}"\n'
        'region = "us-east-1"\n'
        f'[clicks]\nship_to = "s3://{bucket}/analytics"\nendpoint_url = "{s3_endpoint}"\n'
        'region = "us-east-1"\n'
    )
    site.close()
    return Cli(site.root)


def redirector_instance(root: Path, name: str, bucket: str, s3_endpoint: str) -> sites.Site:
    """A machine with a config and nothing else: no content database at all."""
    root.mkdir()
    (root / "linkgen.toml").write_text(
        f'[redirector]\nlinks_from = "s3://{bucket}/links"\n'
        f'links_endpoint_url = "{s3_endpoint}"\nlinks_region = "us-east-1"\n'
        "links_refresh_seconds = 0.2\nmetrics_port = 0\n"
        f'[clicks]\nship_to = "s3://{bucket}/analytics"\nendpoint_url = "{s3_endpoint}"\n'
        f'region = "us-east-1"\ninstance = "{name}"\n'
    )
    return sites.Site.open(root)


SHOP_DE = "https://shop.example.de/"


def bucket_index(s3_endpoint: str, bucket: str) -> BucketLinkIndex:
    """The links as a redirector reads them from the bucket's link map, read once."""
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")
    links = BucketLinkIndex(client, bucket, "links/", refresh_seconds=60)
    links.refresh()
    return links


BROWSER = {"User-Agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) Mobile/15E148"}
ANSWERED: Counter[tuple[int, str]] = Counter()  # (port, link id) -> clicks sent on


def sent_to(port: int, link_id: str) -> tuple[int, str]:
    answer = requests.get(
        f"http://127.0.0.1:{port}/r/{link_id}", allow_redirects=False, timeout=5, headers=BROWSER
    )
    where = answer.headers.get("Location", "")
    if answer.status_code == 302 and not where.startswith("https://links.example.com/"):
        ANSWERED[(port, link_id)] += 1  # a live link: the redirector counts this click
    return answer.status_code, where


@pytest.mark.timeout(120)
def test_two_redirectors_serve_the_same_links_from_the_bucket_and_count_each_click_once(
    site: sites.Site, bucket: Any, s3_endpoint: str, tmp_path: Path
) -> None:
    _, name = bucket
    run = publishing_site(site, name, s3_endpoint)
    run("profile", "add", "ada")
    run("link", "add", "ada", "Shop", "https://shop.example.com/ada")
    run("link", "add", "ada", "Blog", "https://blog.example.com/")
    run("profile", "add", "bob")
    first = run.json("publish")
    assert first["link_map_shards_written"] == linkmap.SHARDS  # a first map: every shard
    shop, blog = (link["id"] for link in run.json("profile", "show", "ada")["links"])

    instances = [redirector_instance(tmp_path / n, n, name, s3_endpoint) for n in ("r1", "r2")]
    procs = []
    try:
        for instance in instances:
            procs.append(start_linkgen(instance, "redirector"))
        ports = [port for _, port in procs]
        for port in ports:
            assert sent_to(port, shop) == (302, "https://shop.example.com/ada")
            assert sent_to(port, blog) == (302, "https://blog.example.com/")
            assert sent_to(port, "nosuchlink00")[0] == 404
            beacon = requests.get(
                f"http://127.0.0.1:{port}/v/{first_profile_id(run)}", timeout=5, headers=BROWSER
            )
            assert beacon.status_code == 200

        # One edit: the publish writes one shard and the index, and both redirectors follow.
        run("link", "edit", "ada", shop, "--url", "https://shop.example.com/sale")
        run("link", "disable", "ada", blog)
        again = run.json("publish")
        assert again["link_map_shards_written"] == 1
        for port in ports:
            wait_for(lambda p=port: sent_to(p, shop) == (302, "https://shop.example.com/sale"))
            wait_for(lambda p=port: sent_to(p, blog) == (302, "https://links.example.com/ada"))
        assert run.json("publish")["link_map_shards_written"] == 0  # nothing changed

        for port, count in zip(ports, (3, 2), strict=True):
            for _ in range(count):
                assert sent_to(port, shop)[0] == 302
    finally:
        for proc, _ in procs:
            proc.terminate()
            proc.wait(timeout=30)
    assert not (tmp_path / "r1" / "site_data" / "linkgen.db").exists()

    later = int(time.time() * 1000) + 2 * HOUR_MS  # once this hour has closed
    for instance, port in zip(instances, ports, strict=True):
        store = ClickStore(clicks_path(instance.root))
        shipped = ship(store, instance.config.clicks, now_ms=later).shipped
        assert ship(store, instance.config.clicks, now_ms=later).shipped == []  # once
        store.close()
        sent = ANSWERED[(port, shop)] + ANSWERED[(port, blog)]
        assert sum(events for _, events in shipped) == sent + 1  # its clicks and its view
    figures = run.json("stats", "ada", "--days", "2", "--from-s3")
    by_link = {row["link_id"]: row["clicks"] for row in figures["links"]}
    assert by_link[shop] == sum(ANSWERED[(port, shop)] for port in ports)  # each once
    assert by_link[blog] == sum(ANSWERED[(port, blog)] for port in ports) == 2
    assert figures["range"]["views"] == 2


def vouched_for(s3: Any, bucket: str, shard: int, body: bytes) -> None:
    """Put ``body`` as a shard of the link map, and the index vouching for it (as
    whoever can write the bucket could)."""
    index_key = f"links/{linkmap.INDEX}"
    index = json.loads(s3.get_object(Bucket=bucket, Key=index_key)["Body"].read())
    index["shards"][f"{shard:02x}"] = linkmap.digest(body)
    s3.put_object(Bucket=bucket, Key=f"links/{linkmap.FOLDER}{shard:02x}.json", Body=body)
    s3.put_object(Bucket=bucket, Key=index_key, Body=json.dumps(index).encode())


def first_profile_id(run: Cli) -> str:
    return str(run.json("profile", "show", "ada")["id"])


def test_a_redirector_refuses_what_the_bucket_should_not_hold_and_keeps_the_last_good_map(
    site: sites.Site, bucket: Any, s3_endpoint: str, caplog: pytest.LogCaptureFixture
) -> None:
    s3, name = bucket
    run = publishing_site(site, name, s3_endpoint)
    run("profile", "add", "ada")
    run("link", "add", "ada", "Shop", "https://shop.example.com/ada")
    run("publish")
    ada = run.json("profile", "show", "ada")
    shop = ada["links"][0]["id"]
    links = bucket_index(s3_endpoint, name)
    assert links.routes[shop].url == "https://shop.example.com/ada"
    assert links.routes[shop].profile_url == "https://links.example.com/ada"

    shard = linkmap.shard_of(ada["id"])
    key = f"links/{linkmap.FOLDER}{shard:02x}.json"
    index_key = f"links/{linkmap.INDEX}"
    good = s3.get_object(Bucket=name, Key=key)["Body"].read()
    document = json.loads(good)
    hostile = [
        ("javascript:alert(1)", None),  # an address no edit could store
        ("https://evil.example.com/", "elsewhere000"),  # a profile of another shard
        ("https://evil.example.com/", "bad id!"),  # not an id linkgen makes
    ]
    for url, profile_id in hostile:
        changed = json.loads(good)
        entry = changed["profiles"][ada["id"]]
        entry["links"][0][1] = url
        if profile_id is not None:
            changed["profiles"] = {profile_id: entry}
        body = json.dumps(changed).encode()
        vouched_for(s3, name, shard, body)
        links.refresh()
        assert links.routes[shop].url == "https://shop.example.com/ada", url  # kept
    # A shard the index does not vouch for is not read at all.
    s3.put_object(Bucket=name, Key=key, Body=json.dumps(document).replace("ada", "eve").encode())
    links.refresh()
    assert links.routes[shop].profile_url == "https://links.example.com/ada"
    s3.put_object(Bucket=name, Key=index_key, Body=b"{not json")
    links.refresh()
    assert shop in links.routes
    assert "refused" in caplog.text and "does not match the index" in caplog.text


def test_a_smart_links_rules_travel_in_the_link_map_and_hostile_ones_are_refused(
    site: sites.Site, bucket: Any, s3_endpoint: str, caplog: pytest.LogCaptureFixture
) -> None:
    s3, name = bucket
    run = publishing_site(site, name, s3_endpoint)
    run("profile", "add", "ada")
    run("link", "add", "ada", "Shop", "https://shop.example.com/ada")
    run("link", "rule", "add", "ada", "Shop", "--country", "DE", "--url", SHOP_DE)
    run("link", "add", "ada", "Wine", "https://wine.example.com/")
    run("link", "lock", "ada", "Wine", "--age", "21")
    run("publish")
    ada = run.json("profile", "show", "ada")
    shop = ada["links"][0]["id"]
    links = bucket_index(s3_endpoint, name)
    recorder = Recorder(WriterSettings(site.root / "unused-clicks.db"))  # HEAD: nothing recorded
    redirector = Redirector(links, recorder, RedirectorOptions())

    def location(**headers: str) -> str:
        answer, _ = redirector.respond("HEAD", f"/r/{shop}", lambda n, d: headers.get(n, d))
        return dict(answer.text_headers)["location"]

    assert location(**{"cloudfront-viewer-country": "DE"}) == "https://shop.example.de/"
    assert location(**{"cloudfront-viewer-country": "FR"}) == "https://shop.example.com/ada"

    shard = linkmap.shard_of(ada["id"])
    key = f"links/{linkmap.FOLDER}{shard:02x}.json"
    good = json.loads(s3.get_object(Bucket=name, Key=key)["Body"].read())
    rows = {row[0]: row for row in good["profiles"][ada["id"]]["links"]}
    assert rows[shop][5] == {"rules": [{"url": SHOP_DE, "country": ["DE"]}]}
    wine = ada["links"][1]["id"]
    assert rows[wine][5] == {"lock": {"kind": "age", "age": 21}}
    gate = links.routes[wine].lock
    assert gate is not None and gate.age == 21
    position = next(
        n for n, row in enumerate(good["profiles"][ada["id"]]["links"]) if row[0] == shop
    )
    for hostile in (
        {"rules": [{"url": "javascript:alert(1)", "country": ["DE"]}]},
        {"rules": [{"url": "https://evil.example/", "country": ["Germany"]}]},
        {"rules": [{"url": "https://evil.example/"}]},  # no condition: every visitor
        {"rules": [{"url": "https://evil.example/", "device": ["ios"], "script": "x"}]},
        {"lock": {"kind": "password", "password_hash": "hunter2"}},
        {"rules": [], "open": True},
    ):
        changed = json.loads(json.dumps(good))
        changed["profiles"][ada["id"]]["links"][position][5] = hostile
        body = json.dumps(changed).encode()
        vouched_for(s3, name, shard, body)
        links.refresh()
        assert location(**{"cloudfront-viewer-country": "DE"}) == "https://shop.example.de/"
    assert caplog.text.count("refused") >= 6


def test_an_ab_test_travels_in_the_link_map_and_hostile_ones_are_refused(
    site: sites.Site, bucket: Any, s3_endpoint: str, caplog: pytest.LogCaptureFixture
) -> None:
    s3, name = bucket
    run = publishing_site(site, name, s3_endpoint)
    run("profile", "add", "ada")
    run("link", "add", "ada", "Shop", "https://shop.example.com/ada")
    run("link", "split", "add", "ada", "Shop", "https://shop.example.com/new", "--weight", "30")
    run("publish")
    ada = run.json("profile", "show", "ada")
    shop = ada["links"][0]["id"]
    links = bucket_index(s3_endpoint, name)
    clicks_db = site.root / "edge-clicks.db"
    ClickStore(clicks_db).close()
    recorder = Recorder(WriterSettings(site.root / "unused-clicks.db"))  # nothing offered
    redirector = Redirector(links, recorder, RedirectorOptions(), hasher=DayHasher(clicks_db))

    def locations() -> Counter[str]:
        found: Counter[str] = Counter()
        for n in range(100):
            decided, stub = redirector.respond("GET", f"/r/{shop}", lambda n, d: d)
            assert stub is not None
            answer = redirector.settled(decided, stub, f"203.0.113.{n}", "Firefox")
            found[dict(answer.text_headers)["location"]] += 1
        return found

    drawn = locations()
    assert set(drawn) == {"https://shop.example.com/ada", "https://shop.example.com/new"}
    assert 15 <= drawn["https://shop.example.com/new"] <= 60  # 50:30 of 100: mean 37.5, sd 4.8
    shard = linkmap.shard_of(ada["id"])
    key = f"links/{linkmap.FOLDER}{shard:02x}.json"
    good = json.loads(s3.get_object(Bucket=name, Key=key)["Body"].read())
    row = good["profiles"][ada["id"]]["links"][0]
    split = row[5]["split"]
    assert split["weight"] == 50 and split["variants"] == [
        {"url": "https://shop.example.com/new", "weight": 30}
    ]
    for hostile in (
        {**split, "variants": [{"url": "javascript:alert(1)", "weight": 50}]},
        {**split, "variants": [{"url": "https://evil.example/", "weight": 0}]},
        {**split, "variants": []},
        {**split, "variants": [{"url": "https://evil.example/", "weight": 5, "cookie": 1}]},
        {"weight": 50, "variants": split["variants"]},  # when it began: missing
    ):
        changed = json.loads(json.dumps(good))
        changed["profiles"][ada["id"]]["links"][0][5] = {"split": hostile}
        vouched_for(s3, name, shard, json.dumps(changed).encode())
        links.refresh()
        assert locations() == drawn  # the last good shard keeps serving
    assert caplog.text.count("refused") >= 5
