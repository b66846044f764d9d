"""The profile as commands print it, read from its rows without the models, is exactly
what the models would print."""

from __future__ import annotations

import pytest

from linkgen import models
from linkgen import site as sites
from linkgen.cli.output import profile_json
from linkgen.errors import NotFound
from linkgen.store import public
from tests.support.cli import Cli


def every_field(run: Cli) -> None:
    """A profile using every field a profile and its items can have."""
    run("profile", "add", "alice", "--name", "Alice <b>", "--bio", "line one\nline two",
        "--sensitive", "18+", "--language", "de", "--seo-title", "Alice's links",
        "--seo-description", "All of them", "--domain", "links.alice.example",
        "--style", "background=#fdfdf8", "--style", "font=serif",
        "--utm", "source=bio")  # fmt: skip
    run("link", "add", "alice", "Shop", "shop.example.com", "--starts", "2026-12-01T09:00:00Z",
        "--ends", "2027-01-01T00:00:00+01:00", "--icon", "github",
        "--sensitive", "21+")  # fmt: skip
    run("link", "add", "alice", "Video", "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
        "--embed", "--disabled")  # fmt: skip
    run("link", "add", "alice", "GitHub", "https://github.com/alice", "--social")
    run("link", "rule", "add", "alice", "Shop", "--url", "https://apps.apple.com/app/id1",
        "--device", "ios", "--country", "DE,AT")  # fmt: skip
    run("link", "rule", "add", "alice", "Shop", "--url", "https://example.com/night",
        "--starts", "2026-12-24T18:00:00Z")  # fmt: skip
    run("link", "split", "add", "alice", "Shop", "https://example.com/shop-b", "--weight", "30")
    run("link", "split", "add", "alice", "Shop", "--title", "Shop <now>")
    run("link", "lock", "alice", "GitHub", "--password-stdin", stdin="open sesame\n")
    run("link", "add", "alice", "Wine", "wine.example.com")
    run("link", "lock", "alice", "Wine", "--age", "21")
    run("link", "edit", "alice", "Wine", "--utm", "campaign=winter", "--utm", "medium=social")
    run("block", "add", "alice", "header", "Music")
    run("block", "add", "alice", "text", "New EP.\nTour below.")
    run("block", "add", "alice", "divider")
    run("block", "add", "alice", "contact", "Alice Example", "--email", "alice@example.com",
        "--phone", "+15551234567")  # fmt: skip
    run("block", "add", "alice", "featured", "The album", "--url", "https://example.com/album")


def test_a_profile_with_every_field_reads_as_the_models_print_it(
    site: sites.Site, run: Cli
) -> None:
    every_field(run)
    site.close()
    reopened = sites.Site.open(site.root)
    read = public.profile(reopened.database, "Alice")
    assert read == profile_json(reopened.content.get("alice"))
    assert list(read) == list(profile_json(reopened.content.get("alice")))  # the same order
    locked = next(item for item in read["links"] if item["title"] == "GitHub")
    assert locked["lock"] == {"kind": "password", "password_hash": None, "age": None}
    assert "argon2" not in str(read)  # the hash stays inside
    reopened.close()


def test_a_profile_of_nothing_but_its_name_reads_the_same(site: sites.Site, run: Cli) -> None:
    run("profile", "add", "bob")
    assert public.profile(site.database, "bob") == profile_json(site.content.get("bob"))


def test_a_missing_profile_is_not_found(site: sites.Site) -> None:
    with pytest.raises(NotFound, match="no profile 'nobody'"):
        public.profile(site.database, "nobody")


@pytest.mark.parametrize(
    ("fields", "model"),
    [
        (public.PROFILE_FIELDS, models.Profile),
        (public.LINK_NAMES, models.Link),
        (public.STYLE_FIELDS, models.Style),
        (public.UTM_FIELDS, models.Utm),
        (public.CONTACT_FIELDS, models.Contact),
        (public.LOCK_FIELDS, models.Lock),
        (tuple(public.RULE_DEFAULTS), models.Rule),
        (public.SPLIT_FIELDS, models.Split),
        (tuple(public.VARIANT_DEFAULTS), models.Variant),
    ],
)
def test_the_field_lists_are_the_models_own(fields: tuple[str, ...], model: type) -> None:
    assert fields == tuple(model.model_fields)


def test_a_build_reads_every_link_field_as_stored(site: sites.Site, run: Cli) -> None:
    """The build reads the fields most links leave empty as one value: each link,
    with every field set or none, is still what its columns hold."""
    every_field(run)
    run("link", "add", "alice", "Plain", "plain.example.com")
    profile_id = site.content.get("alice").id
    (page,) = site.builds.page_profiles([profile_id])
    rows = site.database.conn.execute(
        "SELECT id, title, url, thumbnail, starts_at, ends_at, icon, social, sensitive, kind, "
        "embed, body, contact, (SELECT media FROM embed_art WHERE url = l.url), "
        "rules IS NOT NULL OR lock IS NOT NULL OR split IS NOT NULL, utm, lock IS NOT NULL, "
        """CASE WHEN split LIKE '%"title":%' THEN split END, NULL """
        "FROM links l WHERE profile_id = ? AND enabled = 1 ORDER BY position",
        (profile_id,),
    ).fetchall()
    assert [tuple(link) for link in page.links] == rows
    assert {link.title for link in page.links} >= {"Shop", "GitHub", "Wine", "Plain", "Music"}
