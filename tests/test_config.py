from __future__ import annotations

import pytest

from telechat_ptd.pipeline.config import ConfigError, default_dict, load_config, parse_set, to_yaml


def test_defaults_load_and_have_both_rule_sets():
    cfg = load_config()
    assert cfg.filters.zh.min_chars == 100
    assert cfg.filters.en.min_words == 50
    assert cfg.output.compression == "gz"
    assert cfg.read.text_fields == ["data", "text"]


def test_set_parses_yaml_values():
    cfg = load_config(overrides=["filters.zh.min_chars=300", "filters.en.max_symbol_ratio=0.25",
                                 "filters.zh.max_lines=null", "filters.lang.keep=[zh]", "dedup.exact.enabled=false"])
    assert cfg.filters.zh.min_chars == 300
    assert cfg.filters.en.max_symbol_ratio == 0.25
    assert cfg.filters.zh.max_lines is None
    assert cfg.filters.lang.keep == ["zh"]
    assert cfg.dedup.exact.enabled is False


def test_unknown_set_key_names_the_key_and_suggests():
    with pytest.raises(ConfigError, match=r"'filters\.zh\.min_charz'.*did you mean 'filters\.zh\.min_chars'"):
        load_config(overrides=["filters.zh.min_charz=3"])


def test_unknown_yaml_key_names_the_file(tmp_path):
    path = tmp_path / "my.yaml"
    path.write_text("normalize:\n  boilerplate:\n    max_line_char: 10\n")
    with pytest.raises(ConfigError, match=r"normalize\.boilerplate\.max_line_char.*my\.yaml"):
        load_config(path)


def test_user_yaml_overrides_and_set_wins(tmp_path):
    path = tmp_path / "my.yaml"
    path.write_text("filters:\n  zh:\n    min_chars: 500\n    max_digit_ratio: 0.5\n")
    cfg = load_config(path, ["filters.zh.min_chars=50"])
    assert cfg.filters.zh.min_chars == 50
    assert cfg.filters.zh.max_digit_ratio == 0.5
    assert cfg.filters.en.max_digit_ratio == load_config().filters.en.max_digit_ratio


def test_wrong_type_is_an_error_naming_the_key():
    with pytest.raises(ConfigError, match=r"filters\.zh\.min_chars"):
        load_config(overrides=["filters.zh.min_chars=lots"])
    with pytest.raises(ConfigError, match=r"output\.compression"):
        load_config(overrides=["output.compression=bz2"])


def test_bad_set_syntax():
    with pytest.raises(ConfigError, match="key=value"):
        parse_set("filters.zh.min_chars")
    with pytest.raises(ConfigError, match="empty key"):
        parse_set("filters..min_chars=3")


def test_missing_config_file_is_clear(tmp_path):
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_config(tmp_path / "nope.yaml")


def test_every_stage_and_rule_family_can_be_switched_off():
    d = default_dict()
    assert set(d["filters"]["rules"]) == {
        "length", "script", "ratios", "lines", "gopher_quality", "gopher_repetition", "c4", "fineweb"
    }
    sets = ["normalize.enabled=false", "filters.enabled=false", "dedup.exact.enabled=false"]
    sets += [f"filters.rules.{name}=false" for name in d["filters"]["rules"]]
    cfg = load_config(overrides=sets)
    assert not cfg.normalize.enabled and not cfg.filters.enabled and not cfg.dedup.exact.enabled
    assert not any(cfg.filters.rules.model_dump().values())


def test_effective_config_round_trips(tmp_path):
    cfg = load_config(overrides=["filters.zh.min_chars=123"])
    path = tmp_path / "effective.yaml"
    path.write_text(to_yaml(cfg))
    assert load_config(path) == cfg


def test_changes_apply_like_set_and_export_round_trips(tmp_path):
    from telechat_ptd.pipeline.config import changed_keys, overrides_yaml, with_changes

    base = load_config(overrides=["read.txt_mode=file"])
    cfg = with_changes(base, {"filters.zh.min_chars": 250, "filters.rules.c4": False, "filters.lang.keep": ["zh"]})
    assert (cfg.filters.zh.min_chars, cfg.filters.rules.c4, cfg.filters.lang.keep) == (250, False, ["zh"])
    assert changed_keys(cfg, base) == {"filters.lang.keep": ["zh"], "filters.rules.c4": False, "filters.zh.min_chars": 250}
    path = tmp_path / "exported.yaml"
    path.write_text(overrides_yaml(cfg))
    assert load_config(path) == cfg  # the packaged-defaults diff carries read.txt_mode too
    assert "txt_mode: file" in path.read_text()
    with pytest.raises(ConfigError, match=r"'filters\.zh\.min_charz'.*did you mean 'filters\.zh\.min_chars'"):
        with_changes(base, {"filters.zh.min_charz": 3})
    with pytest.raises(ConfigError, match="min_chars"):
        with_changes(base, {"filters.zh.min_chars": "many"})
