"""The edge on CloudFront, Cloudflare and Fastly: what ``linkgen edge`` prints
behaves like linkgen's Varnish edge.

CloudFront's two functions run in Node on CloudFront's event shapes; the
Cloudflare Worker runs in Node (its fetch, Request and Response) in front of a
bucket published to moto. Fastly's VCL is another dialect than Varnish's and
cannot run here: its tests check what is filled in.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from linkgen import site as sites
from linkgen.build import build
from linkgen.models import NewLink, NewProfile, validate
from linkgen.publish.run import publish
from tests.support.cli import Cli

SUPPORT = Path(__file__).resolve().parents[1] / "support"


def node() -> str:
    found = shutil.which("node")
    if found is None:
        pytest.fail("node is missing: scripts/test installs Debian's nodejs")
    return found


def run_function(run: Cli, event_type: str, events: list[dict[str, Any]], tmp: Path) -> Any:
    code = tmp / f"{event_type}.js"
    code.write_text(run("edge", "cloudfront", "--event", event_type).stdout)
    done = subprocess.run(
        [node(), str(SUPPORT / "cloudfront_functions.js"), str(code)],
        input=json.dumps(events),
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return json.loads(done.stdout)


def viewer_request(uri: str, query: str = "") -> dict[str, Any]:
    querystring = {query: {"value": "1"}} if query else {}
    return {
        "version": "1.0",
        "context": {"eventType": "viewer-request"},
        "viewer": {"ip": "192.0.2.1"},
        "request": {"method": "GET", "uri": uri, "querystring": querystring, "headers": {}},
    }


def test_cloudfront_viewer_request_one_address_per_page_home_and_bookkeeping_refused(
    run: Cli, tmp_path: Path
) -> None:
    cases = {
        "/Alice": ("301", "/alice"),
        "/alice/": ("301", "/alice"),
        "/ALICE//": ("301", "/alice"),
        "/": ("uri", "/index.html"),
        "/alice": ("uri", "/alice"),
        "/_m/AbC123.webp": ("uri", "/_m/AbC123.webp"),  # media names keep their case
        "/_linkgen/manifest/00.json": ("uri", "/_refused"),
        "//_linkgen/manifest/format.json": ("uri", "/_refused"),
        "/_LINKGEN/x": ("uri", "/_refused"),
        "/%5flinkgen/manifest/00.json": ("uri", "/_refused"),
        "/_linkgen": ("uri", "/_refused"),
        "/r/AbCdEf123456": ("uri", "/r/AbCdEf123456"),  # a link: ids keep their case
        "/v/AbCdEf123456": ("uri", "/v.gif"),  # the view beacon
    }
    results = run_function(run, "viewer-request", [viewer_request(u) for u in cases], tmp_path)
    for (uri, (kind, expected)), result in zip(cases.items(), results, strict=True):
        if kind == "301":
            assert result["statusCode"] == 301, uri
            assert result["headers"]["location"]["value"] == expected, uri
        else:
            assert "statusCode" not in result and result["uri"] == expected, uri
    [queried] = run_function(run, "viewer-request", [viewer_request("/alice", "utm")], tmp_path)
    assert queried["querystring"] == {}  # one cached copy, whatever the query


def test_cloudfront_viewer_response_keeps_the_year_at_the_edge_and_s3_headers_home(
    run: Cli, tmp_path: Path
) -> None:
    def response(cache: str) -> dict[str, Any]:
        headers = {
            "cache-control": {"value": cache},
            "content-type": {"value": "text/html; charset=utf-8"},
            "x-amz-meta-surrogate-key": {"value": "p-abc all"},
            "x-amz-request-id": {"value": "TX1"},
            "etag": {"value": '"e1"'},
        }
        return {"version": "1.0", "request": {"uri": "/alice"}, "response": {
            "statusCode": 200, "statusDescription": "OK", "headers": headers}}  # fmt: skip

    page, media = run_function(
        run,
        "viewer-response",
        [
            response("public, max-age=60, s-maxage=31536000"),
            response("public, max-age=31536000, immutable"),
        ],
        tmp_path,
    )
    assert page["headers"]["cache-control"]["value"] == "public, max-age=60"
    assert sorted(page["headers"]) == ["cache-control", "content-type", "etag"]
    assert media["headers"]["cache-control"]["value"] == "public, max-age=31536000, immutable"
    link = response("public, max-age=60, s-maxage=31536000")
    link["request"]["uri"] = "/r/AbCdEf123456"
    link["response"]["headers"]["x-amz-meta-location"] = {"value": "https://shop.example.com/"}
    [redirect] = run_function(run, "viewer-response", [link], tmp_path)
    assert redirect["statusCode"] == 302
    assert redirect["headers"]["location"]["value"] == "https://shop.example.com/"
    assert redirect["headers"]["cache-control"]["value"] == "no-store, private"


@pytest.fixture
def worker(
    site: sites.Site, add_profile: Any, bucket: Any, s3_endpoint: str, run: Cli, tmp_path: Path
) -> Iterator[tuple[str, Any]]:
    """alice published to moto, and the Cloudflare Worker serving it on loopback."""
    _, name = bucket
    (site.root / "linkgen.toml").write_text(
        f'[redirector]\nmode = "edge"\n'
        f'[publish]\ntarget = "s3://{name}/links"\nendpoint_url = "{s3_endpoint}"\n'
        f'region = "us-east-1"\nacl = "public-read"\n'
    )
    live = sites.Site.open(site.root)
    live.content.create_profile(NewProfile(username="alice", display_name="Alice"))
    shop = validate(NewLink, {"title": "Shop", "url": "https://shop.example.com/"})
    live.content.add_link("alice", shop)
    build(live)
    assert publish(live).ok
    code = tmp_path / "worker.mjs"
    code.write_text(
        run("edge", "cloudflare", "--origin", s3_endpoint, "--prefix", f"/{name}/links").stdout
    )
    server = subprocess.Popen(
        [node(), str(SUPPORT / "worker_server.mjs"), str(code)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert server.stdout is not None
    port = server.stdout.readline().strip()
    assert port.isdigit(), "the Worker's server did not start"
    yield f"http://127.0.0.1:{port}", bucket
    assert server.stdin is not None
    server.stdin.close()
    server.wait(timeout=10)
    live.close()


def get(url: str, method: str = "GET") -> requests.Response:
    return requests.request(method, url, allow_redirects=False, timeout=10)


def test_the_cloudflare_worker_serves_pages_like_the_varnish_edge(
    worker: tuple[str, Any],
) -> None:
    url, (s3, name) = worker
    page = get(f"{url}/alice")
    assert page.status_code == 200 and "Alice" in page.text
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    assert page.headers["Cache-Control"] == "public, max-age=60"  # the year stays at the edge
    assert not [h for h in page.headers if h.lower().startswith("x-amz") or h.lower() == "server"]
    home = get(f"{url}/")
    assert home.status_code == 200 and "/alice" in home.text
    for path in ("/Alice", "/alice/", "/ALICE//"):
        moved = get(f"{url}{path}")
        assert (moved.status_code, moved.headers["Location"]) == (301, "/alice"), path
    s3.put_object(Bucket=name, Key="links/private-thing", Body=b"x")  # no public-read: 403
    for path in ("/nope", "/private-thing", "/_linkgen/manifest/format.json", "/%5Flinkgen/x"):
        missing = get(f"{url}{path}")
        assert missing.status_code == 404, path
        assert missing.headers["Content-Type"] == "text/html; charset=utf-8", path
        assert missing.headers["Cache-Control"] == "public, max-age=30", path
        assert "Page not found" in missing.text and "<Error>" not in missing.text, path
        assert "linkgen.manifest" not in missing.text and name not in missing.text, path
        assert not [h for h in missing.headers if h.lower().startswith("x-amz")], path
    assert get(f"{url}/alice", "POST").status_code == 405
    listed = s3.list_objects_v2(Bucket=name, Prefix="links/r/")["Contents"]
    link_id = listed[0]["Key"].rsplit("/", 1)[1]
    moved = get(f"{url}/r/{link_id}")
    assert (moved.status_code, moved.headers["Location"]) == (302, "https://shop.example.com/")
    assert moved.headers["Cache-Control"] == "no-store, private"
    beacon = get(f"{url}/v/{link_id}")
    assert beacon.status_code == 200 and beacon.headers["Content-Type"] == "image/gif"
    assert get(f"{url}/r/AAAAAAAAAAAA").status_code == 404


def test_the_cloudflare_worker_serves_each_visitor_their_title_tests_page_all_day(
    worker: tuple[str, Any], run: Cli
) -> None:
    url, _ = worker
    run("link", "split", "add", "alice", "Shop", "--title", "Spring sale")
    run("build")
    run("publish")
    seen = {}
    for n in range(40):
        who = {"cf-connecting-ip": f"198.51.100.{n}", "user-agent": "Firefox"}
        page = requests.get(f"{url}/alice", headers=who, timeout=10)
        assert page.status_code == 200 and page.headers["Cache-Control"] == "private, max-age=60"
        assert not [h for h in page.headers if h.lower().startswith("x-amz")]
        seen[n] = "b" if ">Spring sale<" in page.text else "a"
        assert f"?x={seen[n]}" in page.text  # the page its beacon and link say it is
        again = requests.get(f"{url}/alice", headers=who, timeout=10).text
        assert (">Spring sale<" in again) == (seen[n] == "b")  # the same variant all day
    assert sorted(set(seen.values())) == ["a", "b"]


def test_the_fastly_vcl_and_the_worker_are_filled_in_for_the_sites_bucket(
    site: sites.Site, run: Cli
) -> None:
    (site.root / "linkgen.toml").write_text('[publish]\ntarget = "s3://bucket/links"\n')
    vcl = run("edge", "fastly").stdout
    assert 'set req.url = "/links" + req.url;' in vcl
    assert 'set req.url = "/links/404.html";' in vcl and "@" not in vcl
    for sub in ("recv", "fetch", "deliver", "error", "hit", "miss", "pass", "log"):
        assert f"sub vcl_{sub} {{\n#FASTLY {sub}\n" in vcl, sub  # Fastly's macros, each once
    assert 'set req.url = "" + req.url;' in run("edge", "fastly", "--prefix", "/").stdout
    script = run("edge", "cloudflare").stdout
    assert 'const ORIGIN = "";' in script and 'const PREFIX = "/links";' in script
    assert "may not hold quotes" in run("edge", "fastly", "--prefix", '/a"b', code=1).stderr
    refused = run("edge", "cloudflare", "--origin", "https://bucket.example/path", code=1)
    assert "without a path" in refused.stderr
    (site.root / "linkgen.toml").write_text('[publish]\ntarget = "file:///tmp/out"\n')
    assert "give --prefix" in run("edge", "fastly", code=1).stderr


def test_the_docs_give_each_edge_exactly_as_linkgen_prints_it(run: Cli) -> None:
    docs = (Path(__file__).resolve().parents[2] / "docs" / "publishing.md").read_text()
    for event in ("viewer-request", "viewer-response"):
        assert run("edge", "cloudfront", "--event", event).stdout in docs, event
    edges = Path(__file__).resolve().parents[2] / "linkgen" / "publish" / "edges"
    for name in ("fastly.vcl", "cloudflare-worker.js"):
        assert (edges / name).read_text() in docs, name
