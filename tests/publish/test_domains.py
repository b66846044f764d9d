"""A profile's own domain: checked and reserved in the store, used for the page's
address everywhere (canonical, Open Graph, sitemap, QR code), and mapped by the
edge: through a real Varnish, the host's root is the page and the profile's
address on the site is a 301 to it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from linkgen import site as sites
from linkgen.build import build
from linkgen.errors import Conflict, InvalidInput
from linkgen.models import ProfileFields, validate
from linkgen.pages.qr import qr_name
from linkgen.publish.run import publish
from tests.support.cli import Cli
from tests.support.edge import answer, configure, start_varnish

HOST = "links.alice.example"


@pytest.mark.parametrize(
    ("given", "says"),
    [
        ("https://links.alice.example", "host name alone"),
        ("links.alice.example:8443", "host name alone"),
        ("links.alice.example/x", "host name alone"),
        ("192.0.2.1", "not an IP address"),
        ("alice", "full host name"),
        ("bad_host.example", "not a valid domain"),
        ("shop.localhost", "public host name"),
    ],
)
def test_a_domain_is_a_host_name_alone(given: str, says: str) -> None:
    with pytest.raises(InvalidInput, match=says):
        validate(ProfileFields, {"domain": given})


def test_a_domain_serves_one_profile_and_never_the_sites_own_host(
    site: sites.Site, add_profile: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_profile("alice")
    add_profile("bob")
    monkeypatch.setenv("LINKGEN_SITE__URL", "https://bio.example.com")
    reopened = sites.Site.open(site.root)
    store = reopened.content
    assert store.update_profile("alice", validate(ProfileFields, {"domain": "Links.Alice.Example."})
                                ).domain == HOST  # fmt: skip
    with pytest.raises(Conflict, match=f"'{HOST}' is @alice's"):
        store.update_profile("bob", validate(ProfileFields, {"domain": HOST}))
    with pytest.raises(Conflict, match="this site's own host"):
        store.update_profile("bob", validate(ProfileFields, {"domain": "bio.example.com"}))
    assert store.get("bob").domain is None
    assert "domain: (none) → 'links.alice.example'" in store.history("alice")[0].summary
    store.undo("alice")
    assert store.get("alice").domain is None
    store.update_profile("bob", validate(ProfileFields, {"domain": HOST}))  # free again
    assert store.get("bob").domain == HOST
    reopened.close()


def test_the_page_its_sitemap_and_its_qr_code_use_the_domain(
    site: sites.Site, add_profile: Any
) -> None:
    add_profile("alice", ("Shop", "https://shop.example.com"))
    add_profile("bob")
    site.content.update_profile("alice", validate(ProfileFields, {"domain": HOST}))
    build(site)
    page = (site.build_dir / "alice").read_text()
    assert f'<link rel="canonical" href="https://{HOST}/">' in page
    assert f'<meta property="og:url" content="https://{HOST}/">' in page
    sitemap = (site.build_dir / "sitemap.xml").read_text()
    assert f"<loc>https://{HOST}/</loc>" in sitemap
    assert f"<loc>{site.config.site.url}/bob</loc>" in sitemap
    assert (site.build_dir / "_m" / qr_name(f"https://{HOST}/")).is_file()


def test_through_the_edge_the_host_is_the_page_and_the_old_address_moves_there(
    site: sites.Site, add_profile: Any, bucket: Any, s3_endpoint: str, tmp_path: Path,
    run: Cli, monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.setenv("LINKGEN_BUILD__SOCIAL_CARDS", "false")
    add_profile("alice", display_name="Alice v1")
    add_profile("bob", display_name="Bob")
    said = run("profile", "set", "alice", "--domain", HOST).stdout
    assert f"its page is https://{HOST}/ once the edge maps the host" in said
    printed = run("edge", "vcl", "--origin", s3_endpoint, "--bucket-path", "/x").stdout
    assert f'set req.http.x-lg-location = "https://{HOST}/";' in printed
    proc, edge = start_varnish(s3_endpoint, f"/{bucket[1]}/links", tmp_path, [("alice", HOST)])
    try:
        live = configure(site, bucket[1], s3_endpoint, edge)
        build(live)
        assert publish(live).ok
        status, _, body = answer(f"{edge}/", Host=HOST)
        assert status == 200 and b"Alice v1" in body
        assert answer(f"{edge}/", Host=f"{HOST.upper()}:443")[0] == 200
        for address in ("/alice", "/Alice", "/alice/"):
            status, headers, _ = answer(f"{edge}{address}")
            assert (status, headers["Location"]) == (301, f"https://{HOST}/"), address
        assert answer(f"{edge}/bob", Host=HOST)[0] == 404  # another page: not on her host
        assert b"Bob" in answer(f"{edge}/bob")[2]  # on the site, as before
        qr = qr_name(f"https://{HOST}/")
        assert answer(f"{edge}/_m/{qr}", Host=HOST)[0] == 200  # her images, by path
        live.content.update_profile("alice", validate(ProfileFields, {"display_name": "Alice v2"}))
        build(live)
        assert publish(live).ok  # purges her key: the host's copy goes too
        assert b"Alice v2" in answer(f"{edge}/", Host=HOST)[2]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
