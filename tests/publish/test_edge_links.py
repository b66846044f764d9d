"""Links that never break: with ``[redirector] mode = "edge"`` every link is an
object in the bucket, answered by the edge (Debian's Varnish with linkgen's VCL,
in front of moto) as a 302 — no redirector process runs in these tests."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest

from linkgen import site as sites
from linkgen.build import build
from linkgen.models import LinkChanges, NewLink, validate
from linkgen.publish.run import publish
from tests.support.edge import answer
from tests.support.html import page

SITE = "https://links.example.com"


@pytest.fixture(autouse=True)
def _no_social_cards(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LINKGEN_BUILD__SOCIAL_CARDS", "false")


def edge_site(site: sites.Site, bucket: Any, s3_endpoint: str, edge: str) -> sites.Site:
    (site.root / "linkgen.toml").write_text(
        f'[site]\nurl = "{SITE}"\n[redirector]\nmode = "edge"\n'
        f'[publish]\ntarget = "s3://{bucket[1]}/links"\nendpoint_url = "{s3_endpoint}"\n'
        f'region = "us-east-1"\nacl = "public-read"\n'
        f'[cdn]\nprovider = "varnish"\nvarnish_urls = ["{edge}"]\n'
    )
    return sites.Site.open(site.root)


def go(site: sites.Site) -> None:
    build(site)
    report = publish(site)
    assert report.ok, report.failures


def test_a_link_answers_302_through_the_edge_with_no_redirector(
    site: sites.Site, add_profile: Any, bucket: Any, s3_endpoint: str, edge: str
) -> None:
    alice = add_profile("alice", ("Shop", "https://shop.example.com/spring?utm=x"))
    live = edge_site(site, bucket, s3_endpoint, edge)
    go(live)
    link = alice.links[0].id
    assert f'href="{SITE}/r/{link}"' in page(live, "alice")  # the page links through the edge
    assert f'src="{SITE}/v/{alice.id}"' in page(live, "alice")
    for attempt in ("MISS", "HIT"):
        status, headers, _ = answer(f"{edge}/r/{link}")
        assert (status, headers["Location"]) == (302, "https://shop.example.com/spring?utm=x")
        assert headers["Cache-Control"] == "no-store, private"  # the visitor keeps nothing
        assert headers["X-Cache"] == attempt  # the edge keeps the object until purged
        assert not [h for h in headers if h.lower().startswith("x-amz")]
    status, headers, body = answer(f"{edge}/v/{alice.id}")
    assert status == 200 and headers["Content-Type"] == "image/gif" and body.startswith(b"GIF89a")
    assert headers["Cache-Control"] == "no-store, private"


def test_a_changed_hidden_scheduled_or_deleted_link_is_right_at_once(
    site: sites.Site, add_profile: Any, bucket: Any, s3_endpoint: str, edge: str
) -> None:
    alice = add_profile(
        "alice", ("Shop", "https://shop.example.com/"), ("Blog", "https://blog.example.com/")
    )
    shop, blog = (link.id for link in alice.links)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=2)
    live_site = edge_site(site, bucket, s3_endpoint, edge)
    upcoming = {"title": "Sale", "url": "https://shop.example.com/sale", "starts_at": later}
    _, sale = live_site.content.add_link("alice", validate(NewLink, upcoming, strict=False))
    sale_id = sale.id
    go(live_site)
    assert answer(f"{edge}/r/{shop}")[1]["Location"] == "https://shop.example.com/"
    assert answer(f"{edge}/r/{sale_id}")[1]["Location"] == f"{SITE}/alice"  # not started yet
    moved = validate(LinkChanges, {"url": "https://shop.example.com/new"})
    live_site.content.edit_link("alice", shop, moved)
    live_site.content.edit_link("alice", blog, validate(LinkChanges, {"enabled": False}))
    go(live_site)
    assert answer(f"{edge}/r/{shop}")[1]["Location"] == "https://shop.example.com/new"  # purged
    assert answer(f"{edge}/r/{blog}")[1]["Location"] == f"{SITE}/alice"  # hidden: the profile
    live_site.content.remove_link("alice", shop)
    go(live_site)
    status, _, body = answer(f"{edge}/r/{shop}")
    assert status == 404 and b"Page not found" in body  # gone with its link
    assert "links/r/" + shop not in {
        k["Key"] for k in bucket[0].list_objects_v2(Bucket=bucket[1])["Contents"]
    }


def test_a_deleted_profile_takes_its_link_objects_and_origin_mode_takes_them_all(
    site: sites.Site, add_profile: Any, bucket: Any, s3_endpoint: str, edge: str
) -> None:
    add_profile("alice", ("Shop", "https://shop.example.com/"))
    add_profile("bob", ("Blog", "https://blog.example.com/"))
    live = edge_site(site, bucket, s3_endpoint, edge)
    go(live)
    s3, name = bucket

    def link_keys() -> set[str]:
        listed = s3.list_objects_v2(Bucket=name, Prefix="links/r/").get("Contents", [])
        return {item["Key"] for item in listed}

    assert len(link_keys()) == 2
    live.content.delete_profile("bob")
    go(live)
    assert len(link_keys()) == 1
    (live.root / "linkgen.toml").write_text(
        re.sub(r'mode = "edge"\n', "", (live.root / "linkgen.toml").read_text())
    )
    origin = sites.Site.open(live.root)
    go(origin)
    assert link_keys() == set() and not (origin.build_dir / "r").exists()
