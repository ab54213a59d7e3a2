"""KenLM perplexity scorer: the unit tokenizer, the program build cache, training on People's
Daily and scoring real and degraded documents."""

from __future__ import annotations

import json
import random
import re
import shutil
import subprocess

import pytest
from hypothesis import given
from hypothesis import strategies as st

from telechat_ptd.scorers import kenlm_build, kenlm_lm
from telechat_ptd.scorers.degrade import shuffle
from telechat_ptd.scorers.kenlm_build import KenLMBuildError, ensure_programs, find_programs
from telechat_ptd.scorers.kenlm_lm import META, KenLMScorer, bucket, train_kenlm
from telechat_ptd.scorers.metrics import roc_auc
from telechat_ptd.scorers.modelpath import ModelPathError, check_model
from telechat_ptd.scorers.reference import normalized, peoples_daily
from telechat_ptd.scorers.units import fold, unit_lines, units

TRAIN_DOCS = 500
MEMORY = "100M"  # lmplz allocates its sorting memory up front: a share of RAM takes seconds
# Training needs lmplz and build_binary: compiled on the first run (minutes), cached after.
needs_programs = pytest.mark.slow if find_programs() is None else (lambda test: test)


# --- units -------------------------------------------------------------------------------------

def test_chinese_is_cut_into_characters_and_punctuation():
    assert units("今天，GDP增长了。") == ["今", "天", "，", "gdp", "增", "长", "了", "。"]


def test_english_is_cut_into_lowercase_words_with_punctuation_apart():
    assert units("The U.S. economy grew, they don't deny it!") == [
        "the", "u", ".", "s", ".", "economy", "grew", ",", "they", "don", "'", "t", "deny", "it", "!"]


def test_every_digit_becomes_zero_in_any_script():
    assert units("１９９８年12月，增长3.5%") == ["0000", "年", "00", "月", "，", "增", "长", "0", ".", "0", "%"]
    assert units("COVID-19 ٢٠٢٣") == ["covid", "-", "00", "0000"]


def test_lines_are_sentences_and_blank_lines_vanish():
    assert unit_lines("第一行 Hello\n\n \u3000\n第二行。\n") == ["第 一 行 hello", "第 二 行 。"]
    assert unit_lines("") == [] and unit_lines(" \n\t\n") == []


_HAN = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF)
_CHINESE_TEXT = st.text(st.one_of(_HAN, st.sampled_from("，。、；：？！“”《》（）—…0123456789１２３ \n\u3000")), max_size=80)


@given(_CHINESE_TEXT)
def test_chinese_units_are_the_characters_of_the_text(text):
    cut = units(text)
    assert "".join(cut) == re.sub(r"\s", "", re.sub(r"\d", "0", text))
    assert all(len(u) == 1 or set(u) == {"0"} for u in cut)  # one character each, except digit runs


@given(st.text(max_size=80))
def test_units_never_hold_a_separator_and_lose_only_separators(text):
    cut = units(text)
    assert all(u and not re.search(r"[\s\x00-\x1f\x7f-\x9f]", u) for u in cut)
    assert "".join(cut) == re.sub(r"[\s\x00-\x1f\x7f-\x9f]", "", fold(text))
    assert units(text) == cut


# --- building lmplz / build_binary ----------------------------------------------------------------

def _fake_program_dir(tmp_path):
    for name in kenlm_build.PROGRAMS:
        (tmp_path / name).write_text("#!/bin/sh\n")
        (tmp_path / name).chmod(0o755)
    return tmp_path


def test_cached_programs_are_found_in_ptd_kenlm_bin(tmp_path, monkeypatch):
    monkeypatch.setenv("PTD_KENLM_BIN", str(_fake_program_dir(tmp_path)))
    messages = []
    assert ensure_programs(messages.append) == {name: tmp_path / name for name in kenlm_build.PROGRAMS}
    assert messages == []  # nothing built


def _only_cmake_on_path(tmp_path, monkeypatch):
    """PATH without lmplz (a system KenLM would be used instead of building), with cmake if installed."""
    path = tmp_path / "path"
    path.mkdir()
    if shutil.which("cmake"):
        (path / "cmake").symlink_to(shutil.which("cmake"))
    monkeypatch.setenv("PATH", str(path))


def test_a_failed_build_names_the_packages_to_install(tmp_path, monkeypatch):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "CMakeLists.txt").write_text(
        "cmake_minimum_required(VERSION 3.10)\nproject(broken NONE)\nfind_package(Boost 99.0 REQUIRED COMPONENTS program_options)\n")
    _only_cmake_on_path(tmp_path, monkeypatch)
    monkeypatch.setenv("PTD_KENLM_BIN", str(tmp_path / "bin"))
    monkeypatch.setenv("PTD_KENLM_SRC", str(tmp_path / "src"))
    with pytest.raises(KenLMBuildError, match="apt-get install -y cmake g[+][+] libboost-program-options-dev"):
        ensure_programs(lambda _: None)
    assert not (tmp_path / "bin" / "lmplz").exists()


def test_a_source_folder_without_cmake_lists_is_named(tmp_path, monkeypatch):
    _only_cmake_on_path(tmp_path, monkeypatch)
    monkeypatch.setenv("PTD_KENLM_BIN", str(tmp_path / "bin"))
    monkeypatch.setenv("PTD_KENLM_SRC", str(tmp_path))
    with pytest.raises(KenLMBuildError, match=re.escape(str(tmp_path))):
        ensure_programs(lambda _: None)


@pytest.mark.slow
def test_programs_build_once_and_run():
    programs = ensure_programs()
    messages = []
    assert ensure_programs(messages.append) == programs and messages == []
    done = subprocess.run([str(programs["lmplz"]), "--help"], capture_output=True, text=True)
    assert "modified Kneser-Ney" in done.stdout + done.stderr


# --- training and scoring -----------------------------------------------------------------------

@pytest.fixture(scope="module")
def documents() -> list[str]:
    return list(normalized(peoples_daily()[: TRAIN_DOCS + 200]))


@pytest.fixture(scope="module")
def model_dir(documents, tmp_path_factory):
    out = tmp_path_factory.mktemp("kenlm")
    result = train_kenlm(documents[:TRAIN_DOCS], out, order=5, memory=MEMORY, log=lambda _: None)
    assert result.path == out and result.held_out_docs == TRAIN_DOCS // 10
    assert result.train_docs == TRAIN_DOCS - TRAIN_DOCS // 10 and result.train_units > 100_000
    return out


@pytest.fixture(scope="module")
def scorer(model_dir) -> KenLMScorer:
    return KenLMScorer.load(str(model_dir))


def _unseen(documents: list[str]) -> list[str]:
    """Every 10th training document (held out) and the documents after the training set."""
    return documents[9:TRAIN_DOCS:10] + documents[TRAIN_DOCS:]


@needs_programs
def test_model_folder_holds_binary_and_reference_percentiles(model_dir):
    assert check_model(str(model_dir), KenLMScorer.REQUIRED, "kenlm") == str(model_dir)
    meta = json.loads((model_dir / META).read_text())
    assert meta["order"] == 5 and meta["tokenizer_version"] == 1 and meta["held_out_docs"] == 50
    values = [meta["percentiles"][f"p{q}"] for q in range(10, 100, 10)]
    assert values == sorted(values) and values[0] > 1
    ratios = [meta["context_ratio_percentiles"][f"p{q}"] for q in range(10, 100, 10)]
    assert ratios == sorted(ratios) and 0 < ratios[0] and ratios[-1] < 1  # context helps reference text


@needs_programs
@pytest.mark.parametrize(("signal", "min_auc"), [("kenlm_perplexity", 0.85), ("kenlm_context_ratio", 0.95)])
def test_shuffled_documents_score_higher(scorer, documents, signal, min_auc):
    """Each document's shuffle scores higher on both; across documents, the context ratio also
    sorts all real above all shuffled far better (perplexity varies with the subject)."""
    rng = random.Random(0)
    unseen = _unseen(documents)
    real = [s[signal] for s in scorer.score(unseen)]
    shuffled = [s[signal] for s in scorer.score([shuffle(d, rng) for d in unseen])]
    assert sum(s > r for r, s in zip(real, shuffled)) > 0.95 * len(unseen)
    assert roc_auc([1] * len(real) + [0] * len(shuffled), [-r for r in real + shuffled]) > min_auc


@needs_programs
def test_context_ratio_is_the_full_models_log_probability_over_the_bigram_one(scorer):
    """The one-unit-context probabilities are the model's own, read through KenLM's sentence
    API: log P(b | a) = score("a b") - score("a") without sentence marks."""
    model = scorer.model
    text = "新闻发布会。\n今天 举行"
    lines = unit_lines(text)
    bigram = 0.0
    for line in lines:
        tokens = line.split(" ")
        bigram += model.score(tokens[0], bos=True, eos=False)
        for a, b in zip(tokens, tokens[1:]):
            bigram += model.score(f"{a} {b}", bos=False, eos=False) - model.score(a, bos=False, eos=False)
        bigram += model.score(f"{tokens[-1]} </s>", bos=False, eos=False) - model.score(tokens[-1], bos=False, eos=False)
    full = sum(model.score(line) for line in lines)
    assert scorer.score([text])[0]["kenlm_context_ratio"] == pytest.approx(full / bigram)


@needs_programs
def test_context_ratio_memo_is_bounded(scorer, documents, monkeypatch):
    monkeypatch.setattr(kenlm_lm, "PAIR_CACHE", 500)
    fresh = kenlm_lm.BigramLogProb(scorer.model)
    unseen = _unseen(documents)[:20]
    expected = [s["kenlm_context_ratio"] for s in scorer.score(unseen)]
    got = []
    for text in unseen:
        lines = unit_lines(text)
        log10, _ = kenlm_lm.log10_probability(scorer.model, lines)
        got.append(kenlm_lm.context_ratio(log10, fresh, lines))
        assert len(fresh.memo) <= 500 + max(line.count(" ") + 2 for line in lines)
    assert got == pytest.approx(expected)


@needs_programs
def test_held_out_documents_fall_into_buckets_by_the_stored_percentiles(scorer, documents):
    buckets = [s["kenlm_bucket"] for s in scorer.score(documents[9:TRAIN_DOCS:10])]
    assert (buckets.count("head"), buckets.count("middle"), buckets.count("tail")) == (15, 15, 20)


@needs_programs
def test_perplexity_depends_on_units_and_lines_not_spacing(scorer):
    text = "The city council voted on Tuesday.\n国务院新闻办公室今天举行新闻发布会。"
    same = "the  city council voted on tuesday .\n\n  国务院 新闻办公室今天举行新闻发布会 。 "
    one_line = text.replace("\n", " ")
    a, b, c = (s["kenlm_perplexity"] for s in scorer.score([text, same, one_line]))
    assert a == pytest.approx(b) and a != pytest.approx(c)


@needs_programs
def test_a_trie_model_is_smaller_and_scores_the_same(model_dir, scorer, documents, tmp_path):
    train_kenlm(documents[:TRAIN_DOCS], tmp_path, structure="trie", memory=MEMORY, log=lambda _: None)
    assert (tmp_path / "model.binary").stat().st_size < 0.7 * (model_dir / "model.binary").stat().st_size
    unseen = _unseen(documents)[:20]
    expected = [s["kenlm_perplexity"] for s in scorer.score(unseen)]
    assert [s["kenlm_perplexity"] for s in KenLMScorer.load(str(tmp_path)).score(unseen)] == pytest.approx(expected)


@needs_programs
def test_empty_documents_have_no_perplexity(scorer):
    empty = {"kenlm_perplexity": None, "kenlm_bucket": None, "kenlm_context_ratio": None}
    assert scorer.score(["", " \n\u3000\n"]) == [empty] * 2
    assert scorer.score(["。"])[0]["kenlm_perplexity"] > 1


def test_bucket_cuts_at_p30_and_p60():
    p = {"p30": 100.0, "p60": 200.0}
    assert [bucket(x, p) for x in (50, 100, 100.5, 200, 201, None)] == ["head", "head", "middle", "middle", "tail", None]


@needs_programs
def test_a_model_of_another_tokenizer_version_is_refused(model_dir, tmp_path):
    (tmp_path / "model.binary").symlink_to(model_dir / "model.binary")
    meta = json.loads((model_dir / META).read_text())
    (tmp_path / META).write_text(json.dumps({**meta, "tokenizer_version": 0}))
    with pytest.raises(ModelPathError, match="retrain"):
        KenLMScorer.load(str(tmp_path))


def test_a_model_folder_without_meta_is_named(tmp_path):
    (tmp_path / "model.binary").write_bytes(b"")
    with pytest.raises(ModelPathError, match=re.escape(str(tmp_path)) + ".*meta.json"):
        check_model(str(tmp_path), KenLMScorer.REQUIRED, "scorers.kenlm.model")


@needs_programs
def test_too_little_reference_text_is_refused(documents, tmp_path):
    with pytest.raises(ValueError, match="too little reference text"):
        train_kenlm(documents[:50], tmp_path, memory=MEMORY, log=lambda _: None)
    with pytest.raises(ValueError, match="order"):
        train_kenlm(documents, tmp_path, order=7, log=lambda _: None)
