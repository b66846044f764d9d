"""Smart links in the web editor: rules added and removed on a link's page, its UTM
tags set, refusals shown at the form they came from with the typing kept."""

from __future__ import annotations

from typing import Any

from linkgen import site as sites
from tests.support.editor import Editor, signed_in


def _shop_page(editor: tuple[Editor, sites.Site]) -> tuple[Any, sites.Site, Any, str, Any]:
    """(a signed-in browser, the site, alice's first link, its page, its version now)."""
    running, site = editor

    def version() -> str:
        return str(site.content.get("alice").version)

    shop = site.content.get("alice").links[0]
    return signed_in(running), site, shop, f"/p/alice/links/{shop.id}", version


def test_rules_and_tags_are_set_from_a_links_page(editor: tuple[Editor, sites.Site]) -> None:
    browser, site, shop, path, version = _shop_page(editor)
    page = browser.get(path).text
    assert "Smart rules" in page and f"No rules: every visitor goes to {shop.url}" in page
    token = browser.token(path)
    rule = {"rule_url": "https://shop.example.de/", "rule_country": "de, at",
            "rule_language": "", "rule_starts_at": "", "rule_ends_at": ""}  # fmt: skip
    refused = browser.post(f"{path}/rules", {**rule, "rule_country": "Germany",
                                            "version": version()}, token)  # fmt: skip
    assert refused.status_code == 400 and "is not a country code" in refused.text
    assert 'id="rule_url-error"' in refused.text and 'value="Germany"' in refused.text
    nothing = {**rule, "rule_country": "", "version": version()}
    assert "a rule needs a condition" in browser.post(f"{path}/rules", nothing, token).text
    added = browser.post(f"{path}/rules", {**rule, "version": version()}, token)
    assert added.status_code == 303, added.text
    phones = {**rule, "rule_url": "https://apps.example/", "rule_country": "",
              "rule_device_ios": "on", "rule_device_android": "on",
              "rule_starts_at": "2030-01-01T09:00", "version": version()}  # fmt: skip
    assert browser.post(f"{path}/rules", phones, token).status_code == 303
    rules = site.content.get("alice").links[0].rules
    assert [(r.country, r.device) for r in rules] == [(("DE", "AT"), ()), ((), ("ios", "android"))]
    assert rules[1].starts_at is not None and rules[1].starts_at.year == 2030
    page = browser.get(path).text
    assert "country DE, AT → https://shop.example.de/" in page and "Remove rule 2" in page
    removed = browser.post(f"{path}/rules/1/remove", {"version": version()}, token)
    assert removed.status_code == 303
    assert [r.url for r in site.content.get("alice").links[0].rules] == ["https://apps.example/"]
    assert browser.post(f"{path}/rules/9/remove", {"version": version()}, token).status_code == 404

    tags = {"utm_source": "bio", "utm_medium": "social media", "utm_campaign": ""}
    refused = browser.post(f"{path}/utm", {**tags, "version": version()}, token)
    assert refused.status_code == 400 and "cannot be a UTM value" in refused.text
    assert 'value="social media"' in refused.text
    saved = browser.post(f"{path}/utm", {**tags, "utm_medium": "social", "version": version()},
                         token)  # fmt: skip
    assert saved.status_code == 303
    utm = site.content.get("alice").links[0].utm
    assert utm is not None and (utm.source, utm.medium, utm.campaign) == ("bio", "social", None)
    assert 'value="social"' in browser.get(path).text
    history = [entry.summary for entry in site.content.history("alice")][:4]
    assert any("utm (none) → source=bio, medium=social" in line for line in history)


def test_a_profiles_utm_tags_are_set_in_its_form(editor: tuple[Editor, sites.Site]) -> None:
    running, site = editor
    browser = signed_in(running)
    token = browser.token("/p/alice")
    form = {"display_name": "Alice", "bio": "", "theme": "default", "language": "",
            "utm_source": "linkgen", "utm_medium": "bio link", "utm_campaign": "",
            "version": str(site.content.get("alice").version)}  # fmt: skip
    refused = browser.post("/p/alice/profile", form, token)
    assert refused.status_code == 400 and 'id="utm_medium-error"' in refused.text
    assert 'value="bio link"' in refused.text
    saved = browser.post("/p/alice/profile", {**form, "utm_medium": "bio"}, token)
    assert saved.status_code == 303
    utm = site.content.get("alice").utm
    assert utm is not None and (utm.source, utm.medium, utm.campaign) == ("linkgen", "bio", None)
    assert 'name="utm_source" value="linkgen"' in browser.get("/p/alice").text
    cleared = {**form, "utm_source": "", "utm_medium": "",
               "version": str(site.content.get("alice").version)}  # fmt: skip
    assert browser.post("/p/alice/profile", cleared, token).status_code == 303
    assert site.content.get("alice").utm is None


def test_a_link_is_locked_and_opened_from_its_page(editor: tuple[Editor, sites.Site]) -> None:
    running, site = editor
    browser = signed_in(running)
    shop = site.content.get("alice").links[0]
    path = f"/p/alice/links/{shop.id}"
    token = browser.token(path)

    def version() -> str:
        return str(site.content.get("alice").version)

    assert "Open to everyone." in browser.get(path).text
    fields = {"lock": "password", "lock_password": "abc", "lock_age": "18"}
    short = browser.post(f"{path}/lock", {**fields, "version": version()}, token)
    assert short.status_code == 400 and 'id="lock_password-error"' in short.text
    fields["lock_password"] = "open sesame"
    locked = browser.post(f"{path}/lock", {**fields, "version": version()}, token)
    assert locked.status_code == 303
    lock = site.content.get("alice").links[0].lock
    assert lock is not None and lock.kind == "password" and lock.password_hash is not None
    assert lock.password_hash.startswith("$argon2id$") and "open sesame" not in lock.password_hash
    page = browser.get(path).text
    assert "Locked: visitors give its password first." in page and "$argon2id$" not in page
    too_old = browser.post(f"{path}/lock", {"lock": "age", "lock_age": "40", "version": version()},
                           token)  # fmt: skip
    assert too_old.status_code == 400 and "less than or equal to 25" in too_old.text
    aged = {"lock": "age", "lock_age": "21", "version": version()}
    assert browser.post(f"{path}/lock", aged, token).status_code == 303
    assert site.content.get("alice").links[0].lock.age == 21  # type: ignore[union-attr]
    opened = browser.post(f"{path}/lock", {"lock": "", "lock_age": "", "version": version()}, token)
    assert opened.status_code == 303 and site.content.get("alice").links[0].lock is None
    history = " ".join(entry.summary for entry in site.content.history("alice"))
    assert "lock (none) → a password" in history and "$argon2id$" not in history


def test_an_ab_test_is_set_up_and_ended_from_a_links_page(
    editor: tuple[Editor, sites.Site],
) -> None:
    browser, site, shop, path, version = _shop_page(editor)
    page = browser.get(path).text
    assert "A/B test" in page and f"No A/B test: every visitor goes to {shop.url}" in page
    token = browser.token(path)
    refused = browser.post(f"{path}/split", {"split_url": "javascript:alert(1)",
                           "split_weight": "50", "version": version()}, token)  # fmt: skip
    assert refused.status_code == 400 and "the scheme &#39;javascript:&#39; is not" in refused.text
    assert 'id="split_url-error"' in refused.text and 'value="javascript:alert(1)"' in refused.text
    heavy = {"split_url": "https://shop.example.com/b", "split_weight": "5000"}
    refused = browser.post(f"{path}/split", {**heavy, "version": version()}, token)
    assert refused.status_code == 400 and "less than or equal to 1000" in refused.text
    for url in ("https://shop.example.com/b", "https://shop.example.com/c"):
        added = browser.post(f"{path}/split", {"split_url": url, "split_weight": "30",
                             "version": version()}, token)  # fmt: skip
        assert added.status_code == 303, added.text
    split = site.content.get("alice").links[0].split
    assert split is not None and [(v.url, v.weight) for v in split.variants] == [
        ("https://shop.example.com/b", 30),
        ("https://shop.example.com/c", 30),
    ]
    page = browser.get(path).text
    assert "B: https://shop.example.com/b (weight 30)" in page and "Remove variant C" in page
    removed = browser.post(f"{path}/split/1/remove", {"version": version()}, token)
    assert removed.status_code == 303
    split = site.content.get("alice").links[0].split
    assert split is not None and [v.url for v in split.variants] == ["https://shop.example.com/c"]
    nothing = browser.post(f"{path}/split", {"split_weight": "30", "version": version()}, token)
    assert nothing.status_code == 400 and "a variant needs a URL or a title" in nothing.text
    titled = {"split_title": "Spring <sale>", "split_weight": "40", "version": version()}
    assert browser.post(f"{path}/split", titled, token).status_code == 303
    page = browser.get(path).text  # a title test: the same URL, another title
    assert f"C: {shop.url} “Spring &lt;sale&gt;” (weight 40)" in page
    assert browser.post(f"{path}/split/5/remove", {"version": version()}, token).status_code == 404
    assert browser.post(f"{path}/split/end", {"version": version()}, token).status_code == 303
    assert site.content.get("alice").links[0].split is None
    history = [entry.summary for entry in site.content.history("alice")][:4]
    assert any("A/B test of 3 titles (50/30/40) → (none)" in line for line in history)
