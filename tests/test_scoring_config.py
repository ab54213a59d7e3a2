"""Scorer settings, thresholds, model paths (local and on a Beam filesystem), and the
construction-time error for a missing model."""

from __future__ import annotations

import os

import pytest
from fake_fs import PrefixedFileSystem

from telechat_ptd.pipeline.cli import main
from telechat_ptd.pipeline.config import ConfigError, load_config
from telechat_ptd.scorers.modelpath import ModelPathError, check_model, local_copy
from telechat_ptd.scorers.thresholds import first_failure, verdict


def cfg(*sets):
    return load_config(overrides=list(sets)).scorers


def test_enabled_scorer_needs_a_model():
    with pytest.raises(ConfigError, match="scorers.gpt2: .*enabled without a model path"):
        load_config(overrides=["scorers.gpt2.enabled=true"])


def test_scorers_run_cheapest_first():
    c = cfg(*(f"scorers.{n}.{k}" for n in ("gpt2", "kenlm", "bert") for k in ("enabled=true", "model=/m")))
    assert c.enabled() == ["kenlm", "bert", "gpt2"]


def test_thresholds_name_the_signal():
    c = cfg("scorers.kenlm.max_perplexity=1000", "scorers.kenlm.drop_buckets=[tail]", "scorers.gpt2.max_perplexity=50")
    assert verdict("kenlm", c, {"kenlm_perplexity": 1500.0, "kenlm_bucket": "head"})[0] == "kenlm_perplexity_high"
    assert verdict("kenlm", c, {"kenlm_perplexity": 900.0, "kenlm_bucket": "tail"}) == ("kenlm_bucket", "kenlm_bucket tail in ['tail']")
    assert verdict("kenlm", c, {"kenlm_perplexity": 900.0, "kenlm_bucket": "middle"}) is None
    ratio = cfg("scorers.kenlm.max_context_ratio=0.8", "scorers.kenlm.max_perplexity=1000")
    salad = {"kenlm_perplexity": 400.0, "kenlm_bucket": "tail", "kenlm_context_ratio": 0.93}
    assert verdict("kenlm", ratio, salad) == ("kenlm_context_ratio_high", "kenlm_context_ratio 0.930 > 0.8")
    assert verdict("kenlm", ratio, {**salad, "kenlm_perplexity": 1200.0})[0] == "kenlm_perplexity_high"  # checked first
    assert verdict("kenlm", ratio, {**salad, "kenlm_context_ratio": 0.7}) is None
    assert verdict("fasttext", c, {"fasttext_quality": 0.2})[0] == "fasttext_quality_low"
    assert verdict("fasttext", c, {"fasttext_quality": 0.7}) is None
    assert verdict("gpt2", c, {"gpt2_perplexity": 51.0})[1] == "gpt2_perplexity 51.0 > 50"
    # A missing signal (a language without a model, an empty text) never rejects.
    assert first_failure(["kenlm", "fasttext", "bert", "gpt2"], c, {}) is None
    # The first failing scorer in order names the reason.
    assert first_failure(["fasttext", "gpt2"], c, {"fasttext_quality": 0.1, "gpt2_perplexity": 99.0})[0] == "fasttext_quality_low"


def test_check_model_names_what_is_missing(tmp_path):
    with pytest.raises(ModelPathError, match=f"scorers.bert.model: {tmp_path}/nope does not exist"):
        check_model(str(tmp_path / "nope"), ("config.json",), "scorers.bert.model")
    (tmp_path / "m").mkdir()
    with pytest.raises(ModelPathError, match="has no config.json"):
        check_model(str(tmp_path / "m"), ("config.json",), "scorers.bert.model")
    with pytest.raises(ModelPathError, match="is a folder; expected a model file"):
        check_model(str(tmp_path / "m"), (), "scorers.fasttext.model")
    (tmp_path / "m" / "config.json").write_text("{}")
    assert check_model(str(tmp_path / "m"), ("config.json",)) == str(tmp_path / "m")


def test_remote_model_is_checked_and_copied_once(tmp_path):
    model = tmp_path / "bucket" / "gpt2"
    (model / "sub").mkdir(parents=True)
    (model / "config.json").write_text('{"a": 1}')
    (model / "sub" / "weights.bin").write_bytes(b"\x00\x01" * 1000)
    remote = f"ptdtest://{model}"
    assert check_model(remote, ("config.json",)) == remote
    with pytest.raises(ModelPathError, match="tokenizer.json does not exist"):
        check_model(remote, ("config.json", "tokenizer.json"))
    local = local_copy(remote, cache_dir=str(tmp_path / "cache"))
    assert (tmp_path / "cache").as_posix() in local
    assert open(f"{local}/config.json").read() == '{"a": 1}'
    assert open(f"{local}/sub/weights.bin", "rb").read() == b"\x00\x01" * 1000
    (model / "config.json").write_text("changed")
    assert local_copy(remote, cache_dir=str(tmp_path / "cache")) == local  # cached per worker, not re-fetched
    single = tmp_path / "bucket" / "quality.bin"
    single.write_bytes(b"fasttext")
    copied = local_copy(f"ptdtest://{single}", cache_dir=str(tmp_path / "cache"))
    assert open(copied, "rb").read() == b"fasttext"


def test_missing_model_fails_before_the_job_starts(tmp_path, capsys):
    code = main(["clean", str(tmp_path), "-o", str(tmp_path / "out"), "--set", "scorers.kenlm.enabled=true",
                 "--set", f"scorers.kenlm.model={tmp_path}/no-such-model"])
    assert code == 2
    assert f"scorers.kenlm.model: {tmp_path}/no-such-model does not exist" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
