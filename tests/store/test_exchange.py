"""Export -> import round trips, for any profile the rules accept."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from linkgen import site as sites
from linkgen.errors import InvalidInput
from linkgen.models import NewLink, NewProfile, ProfileExport, validate, validate_json

printable = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cs"), blacklist_characters="\u2028\u2029"),
    max_size=60,
)
urls = st.one_of(
    st.from_regex(r"https://[a-z0-9]{1,12}\.(com|org|jp)/[a-zA-Z0-9/_.~-]{0,30}", fullmatch=True),
    st.from_regex(r"mailto:[a-z]{1,10}@[a-z]{1,10}\.com", fullmatch=True),
    st.from_regex(r"tel:\+[0-9]{6,12}", fullmatch=True),
)
links = st.lists(st.tuples(printable.filter(str.strip), urls, st.booleans()), max_size=8)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(name=printable, bio=printable, links=links)
def test_export_import_round_trip(tmp_path: Path, name: str, bio: str, links: list) -> None:
    example = Path(tempfile.mkdtemp(dir=tmp_path))
    source = sites.init(example / "source")
    target = sites.init(example / "target")
    try:
        source.content.create_profile(
            validate(NewProfile, {"username": "alice", "display_name": name, "bio": bio})
        )
        for title, url, enabled in links:
            source.content.add_link(
                "alice", validate(NewLink, {"title": title, "url": url, "enabled": enabled})
            )
        exported = source.exchange.export_profile("alice").model_dump_json()
        target.exchange.import_profile(validate_json(ProfileExport, exported))
        assert target.exchange.export_profile("alice").model_dump_json() == exported
    finally:
        source.close()
        target.close()


def test_an_export_file_is_validated_like_any_input(site: sites.Site, add_profile) -> None:  # type: ignore[no-untyped-def]
    add_profile("alice", ("Shop", "https://example.com"))
    good = site.exchange.export_profile("alice").model_dump_json()
    for bad, rule in [
        (good.replace("https://example.com/", "javascript:alert(1)"), "scheme 'javascript:'"),
        (good.replace('"alice"', '"ADMIN"'), "reserved"),
        (good.replace('"format":"linkgen.profile/1"', '"format":"other"'), "format"),
        ("{not json", "Invalid JSON"),
    ]:
        try:
            validate_json(ProfileExport, bad)
        except InvalidInput as exc:
            assert rule in str(exc)
        else:
            raise AssertionError(f"accepted: {rule}")
