"""Site settings: the file, the environment over it, and clear errors."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from linkgen import config
from linkgen.errors import ConfigError


def settings_file(tmp_path: Path, text: str) -> Path:
    (tmp_path / config.CONFIG_FILE).write_text(text, encoding="utf-8")
    return tmp_path


def test_a_site_without_a_settings_file_gets_safe_defaults(tmp_path: Path) -> None:
    loaded = config.load(tmp_path, environ={})
    assert loaded.site.url == "http://127.0.0.1:8000"
    assert loaded.publish.target == "file://published" and loaded.cdn.provider == "none"
    assert loaded.redirector.base_url is None and loaded.redirector.host == "127.0.0.1"
    assert loaded.redirector.metrics_host == "127.0.0.1"  # metrics never public by default
    assert loaded.build.max_links == 50


def test_the_default_file_written_by_init_is_the_defaults(tmp_path: Path) -> None:
    tomllib.loads(config.DEFAULT_TOML)  # it parses
    from_file = config.load(settings_file(tmp_path, config.DEFAULT_TOML), environ={})
    assert from_file == config.Config()


def test_the_file_is_read_and_urls_are_normalised(tmp_path: Path) -> None:
    site = settings_file(
        tmp_path,
        '[site]\nurl = "https://Links.Example.com/"\n'
        '[redirector]\nbase_url = "https://go.example.com/"\n'
        '[cdn]\nprovider = "varnish"\nvarnish_urls = ["http://127.0.0.1:6081/"]\n',
    )
    loaded = config.load(site, environ={})
    assert loaded.site.url == "https://links.example.com"
    assert loaded.redirector.base_url == "https://go.example.com"
    assert loaded.cdn.varnish_urls == ["http://127.0.0.1:6081"]


def test_environment_variables_override_the_file(tmp_path: Path) -> None:
    site = settings_file(tmp_path, '[site]\nurl = "https://links.example.com"\ntitle = "A"\n')
    loaded = config.load(
        site,
        environ={
            "LINKGEN_SITE__TITLE": "From the environment",
            "LINKGEN_BUILD__JOBS": "3",
            "LINKGEN_BUILD__SOCIAL_CARDS": "false",
            "LINKGEN_ACTOR": "not a setting",  # no section: ignored
            "OTHER_SITE__TITLE": "ignored",
        },
    )
    assert loaded.site.title == "From the environment"
    assert loaded.site.url == "https://links.example.com"  # the rest of the file stays
    assert loaded.build.jobs == 3 and loaded.build.social_cards is False


@pytest.mark.parametrize(
    ("text", "environ", "message"),
    [
        ("[site]\nurl = 'javascript:alert(1)'\n", {}, "site.url"),
        ("[site]\nurl = 'ftp://example.com'\n", {}, "site.url"),
        ("[site]\ncolour = 'red'\n", {}, "site.colour"),
        ("[sites]\nurl = 'https://a.example'\n", {}, "sites"),
        ("[build]\nmax_links = 51\n", {}, "build.max_links"),
        ("[publish]\ntarget = 's3://Bad_Bucket'\n", {}, "publish.target"),
        ("[cdn]\nprovider = 'akamai'\n", {}, "cdn.provider"),
        ("[redirector]\nport = 70000\n", {}, "redirector.port"),
        ("[redirector]\ncountry_header = 'X: evil'\n", {}, "redirector.country_header"),
        ("", {"LINKGEN_BUILD__JOBS": "many"}, "build.jobs"),
        ("site = 'x'\n", {"LINKGEN_SITE__URL": "https://a.example"}, "[site] must be a table"),
        ("[site\n", {}, "linkgen.toml"),
    ],
)
def test_a_bad_setting_is_a_clear_error_naming_it(
    tmp_path: Path, text: str, environ: dict[str, str], message: str
) -> None:
    site = settings_file(tmp_path, text)
    with pytest.raises(ConfigError) as refused:
        config.load(site, environ=environ)
    assert str(refused.value).startswith(str(site / "linkgen.toml"))
    assert message in str(refused.value)


def test_a_settings_file_that_is_not_text_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / config.CONFIG_FILE).write_bytes(b"\xff\xfe[site]")
    with pytest.raises(ConfigError, match=r"linkgen\.toml"):
        config.load(tmp_path, environ={})


def test_settings_cannot_be_changed_after_loading(tmp_path: Path) -> None:
    loaded = config.load(tmp_path, environ={})
    with pytest.raises(ValueError, match="frozen"):
        loaded.site.url = "https://elsewhere.example"  # type: ignore[misc]


def test_checked_settings_are_kept_and_read_back_the_same_until_anything_changes(
    tmp_path: Path,
) -> None:
    (tmp_path / "site_data").mkdir()
    edge = '[cdn]\nprovider = "varnish"\nvarnish_urls = ["http://10.0.0.5:6081"]\n'
    settings_file(tmp_path, '[site]\nurl = "https://links.example.com"\n' + edge)
    checked = config.load(tmp_path, environ={})
    kept = tmp_path / "site_data" / config.SETTINGS_CACHE
    assert kept.exists()
    again = config.load(tmp_path, environ={})
    assert again == checked and again.model_dump() == checked.model_dump()
    assert again.cdn.varnish_urls == ["http://10.0.0.5:6081"]
    # an override in the environment is a different key: applied, then gone again
    assert config.load(tmp_path, environ={"LINKGEN_SITE__TITLE": "Ours"}).site.title == "Ours"
    assert config.load(tmp_path, environ={}).site.title == "linkgen"
    # an edit of the file is seen at once, and a wrong value is still refused
    settings_file(tmp_path, '[site]\nurl = "https://other.example.com"\n')
    assert config.load(tmp_path, environ={}).site.url == "https://other.example.com"
    settings_file(tmp_path, "[build]\njobs = -1\n")
    with pytest.raises(ConfigError, match="jobs"):
        config.load(tmp_path, environ={})
    # a damaged copy is ignored: the file is checked again
    settings_file(tmp_path, '[site]\nurl = "https://links.example.com"\n')
    config.load(tmp_path, environ={})
    kept.write_text('{"key": "', encoding="utf-8")
    assert config.load(tmp_path, environ={}).site.url == "https://links.example.com"


def test_a_site_reads_its_kept_settings_as_they_were_checked_and_read_only(
    tmp_path: Path,
) -> None:
    import pickle

    from linkgen import site as sites

    sites.init(tmp_path)
    settings_file(
        tmp_path,
        '[site]\nurl = "https://links.example.com"\ntitle = "Ours"\n'
        '[cdn]\nprovider = "varnish"\nvarnish_urls = ["http://10.0.0.5:6081"]\n',
    )
    checked = sites.Site.open(tmp_path).config  # checked now: the models
    kept = sites.Site.open(tmp_path).config  # read back: no models
    assert not isinstance(kept, config.Config)
    for section, model in config.Config.model_fields.items():
        assert model.annotation is not None
        for name in model.annotation.model_fields:
            want = getattr(checked, section).model_dump(mode="json")[name]
            assert getattr(getattr(kept, section), name) == want, (section, name)
    with pytest.raises(AttributeError, match="read-only"):
        kept.site.url = "https://elsewhere.example"  # type: ignore[misc]
    with pytest.raises(AttributeError, match="no setting 'nope'"):
        _ = kept.site.nope  # type: ignore[attr-defined]
    assert pickle.loads(pickle.dumps(kept)) == kept and hash(kept.cdn) == hash(kept.cdn)
