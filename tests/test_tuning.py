"""Retuning from annotate output: the replayed decisions are the job's decisions."""

from __future__ import annotations

import json
import os
import re
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from telechat_ptd.filters.engine import RuleFilter
from telechat_ptd.pipeline.config import load_config, with_changes
from telechat_ptd.tuning import Tuner, TuningError, compare_counts, docs_html, run_clean
from telechat_ptd.tuning.decide import filter_reasons

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def annotated(sample_dir, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("annotate")
    Tuner.annotate([sample_dir], out)
    return out


@pytest.fixture(scope="module")
def tuner(annotated) -> Tuner:
    return Tuner.load(annotated)


def test_replaying_the_annotate_config_reproduces_its_decisions_and_counts(tuner, annotated):
    assert (annotated / "config.yaml").exists()
    assert tuner.reproduces_annotate()
    stats = json.loads((annotated / "stats.json").read_text())
    assert compare_counts(tuner.baseline.counts(), stats) == []
    assert tuner.baseline.counts()["errors"] == stats["errors"] > 0  # the sample's malformed files
    reasons = set(tuner.rows["decision"])
    assert {"keep", "too_short", "exact_duplicate", "near_duplicate"} <= reasons


@pytest.mark.slow
def test_what_if_counts_equal_ptd_clean_with_the_exported_config(tuner, sample_dir, tmp_path):
    changes = {
        "filters.zh.min_chars": 200,
        "filters.zh.min_line_punct_ratio": 0.5,  # a per-line rule
        "filters.rules.c4": False,
        "filters.lang.keep": ["zh"],
        "dedup.near.threshold": 0.7,
    }
    what = tuner.what_if(changes)
    before, after = tuner.baseline.counts()["rejected_by_reason"], what.counts()["rejected_by_reason"]
    assert after["too_short"] > before["too_short"]
    assert after["line_punct"] > before["line_punct"]
    assert "few_sentences" in before and "few_sentences" not in after
    assert after["lang_not_kept"] > before.get("lang_not_kept", 0)  # the English documents
    exported = tuner.export(what, tmp_path / "retuned.yaml")
    assert load_config(exported) == what.cfg
    stats = run_clean([sample_dir], tmp_path / "clean", exported)
    assert compare_counts(what.counts(), stats) == []
    assert stats["kept"] == what.kept != tuner.baseline.kept


def test_changes_the_stored_signals_cannot_answer_are_refused(tuner):
    for key, value in [("filters.zh.ngram_scale", 1), ("filters.en.short_line_chars", 20),
                       ("normalize.opencc", None), ("filters.lang.zh_min_han_share", 0.5)]:
        with pytest.raises(TuningError, match=f"{key}.*rerun 'ptd annotate"):
            tuner.what_if({key: value})
    with pytest.raises(TuningError, match="did you mean 'filters.zh.min_chars'"):
        tuner.what_if({"filters.zh.min_char": 10})
    off = Tuner(tuner.rows, with_changes(tuner.cfg, {"filters.rules.c4": False}), tuner.errors)
    with pytest.raises(TuningError, match="c4 was off in the annotate run"):
        off.what_if({"filters.rules.c4": True})


def _threshold_keys(tuner):
    table = tuner.rule_table()
    return [(key, signal) for key, signal in zip(table["key"], table["signal"])]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_vectorized_filter_stage_equals_the_engine(tuner, data):
    """Any thresholds: the column comparison gives the reason the per-document engine gives."""
    rows = tuner.rows[~tuner.rows["stage"].isin(["read", "normalize"])].iloc[::4]
    keys = _threshold_keys(tuner)
    changes = {}
    for key, signal in data.draw(st.lists(st.sampled_from(keys), max_size=5, unique=True)):
        values = rows[signal].dropna().to_numpy()
        q = data.draw(st.one_of(st.none(), st.floats(0, 1)))
        current = eval_key(tuner.cfg, key)
        if q is None:
            changes[key] = None
        else:
            value = float(np.quantile(values, q)) if values.size else 0.0
            changes[key] = int(round(value)) if isinstance(current, int) else value
    for family in data.draw(st.lists(st.sampled_from(["length", "ratios", "gopher_quality", "c4", "fineweb"]), max_size=2)):
        changes[f"filters.rules.{family}"] = False
    changes["filters.zh.line_rules_min_lines"] = data.draw(st.integers(1, 6))
    cfg = tuner.config_with(changes)
    engine = RuleFilter(cfg.filters)
    expected = [engine.evaluate(text).reason for text in rows["text"]]
    assert list(filter_reasons(rows, cfg)) == expected


def eval_key(cfg, key):
    node = cfg.model_dump()
    for part in key.split("."):
        node = node[part]
    return node


def test_documents_either_side_of_a_threshold(tuner):
    near = tuner.near_threshold("filters.zh.min_chars", n=3)
    removed, kept = near[near["side"] == "removed"], near[near["side"] == "kept"]
    assert len(removed) == len(kept) == 3
    assert (removed["value"] < 100).all() and (kept["value"] >= 100).all()
    judged = tuner.judged("zh")["chars"]
    assert removed["value"].min() >= judged[judged < 100].nlargest(3).min()  # the closest ones
    assert kept["value"].max() <= judged[judged >= 100].nsmallest(3).max()
    html = docs_html(near.assign(text=near["text"] + "<script>x</script>"))
    assert "&lt;script&gt;" in html and "<script>" not in html
    assert near["text"].iloc[0][:20].replace("&", "&amp;").replace("<", "&lt;") in html
    with pytest.raises(TuningError, match="not an active threshold"):
        tuner.near_threshold("filters.zh.min_words")


def test_overlap_counts_each_rule_on_its_own(tuner):
    fails = tuner.failures()
    matrix = tuner.overlap()
    assert (np.diag(matrix) == fails.sum().to_numpy()).all()
    table = tuner.rule_table()
    per_reason = table.groupby("reason")["fails"].sum()
    for reason in matrix.index:
        assert matrix.loc[reason, reason] == per_reason[reason]
    assert (matrix.to_numpy() == matrix.to_numpy().T).all()
    assert tuner.rules_per_document().sum() == len(fails)
    # the first failing rule is never more than the rule failing on its own
    assert (table["decides"] <= table["fails"]).all()


def test_cjk_text_renders_in_figures(tuner, tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from telechat_ptd.tuning.plots import plot_signal, setup_cjk_fonts

    def glyph(char: str, family: str | None = None) -> np.ndarray:
        fig = plt.figure(figsize=(0.6, 0.6), dpi=50)
        fig.text(0.1, 0.1, char, fontsize=24, **({"family": family} if family else {}))
        fig.canvas.draw()
        pixels = np.asarray(fig.canvas.buffer_rgba()).copy()
        plt.close(fig)
        return pixels

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        tofu = glyph("中", "DejaVu Sans"), glyph("国", "DejaVu Sans")
    assert any("missing from font" in str(w.message) for w in caught)
    assert (tofu[0] == tofu[1]).all()  # both drawn as the same empty box: what the check detects

    family = setup_cjk_fonts()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a missing glyph warns; here it fails the test
        assert not (glyph("中") == glyph("国")).all()
        ax = plot_signal(tuner, "han_ratio", "zh")
        ax.set_xlabel("汉字比例：中文字符占可见字符的比例")
        ax.figure.savefig(tmp_path / "han_ratio.png")
    assert "CJK" in family or "Hei" in family or "Han" in family
    assert (tmp_path / "han_ratio.png").stat().st_size > 10_000


def test_widget_panel_reruns_the_what_if(tuner):
    pytest.importorskip("ipywidgets")
    from telechat_ptd.tuning.widgets import WhatIfPanel, default_keys

    keys = default_keys(tuner)
    assert "filters.zh.min_chars" in keys
    panel = WhatIfPanel(tuner, keys, {"filters.zh.min_chars": 150})
    assert panel.boxes["filters.zh.min_chars"].value == 150
    panel.boxes["filters.zh.min_chars"].value = 300  # what typing in the box does
    assert panel.changes["filters.zh.min_chars"] == 300
    assert panel.result.kept == tuner.what_if({"filters.zh.min_chars": 300}).kept < tuner.baseline.kept


NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))


def test_notebooks_are_committed_without_outputs():
    import nbformat

    assert NOTEBOOKS
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        for i, cell in enumerate(nb.cells):
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None, f"{path.name} cell {i} has outputs: strip them"


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_headless(path, annotated, sample_dir, tmp_path, monkeypatch):
    import nbformat
    from nbclient import NotebookClient

    monkeypatch.setenv("PTD_ANNOTATE_OUT", str(annotated))
    monkeypatch.setenv("PTD_INPUTS", str(sample_dir))
    monkeypatch.setenv("PTD_WORK", str(tmp_path))
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    text = "\n".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    images = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if "image/png" in o.get("data", {})]
    assert len(images) >= 3
    if path.name == "retune_filters.ipynb":
        assert "all counts match" in text
        assert os.path.exists(tmp_path / "retuned.yaml")
    else:  # inspect_ptd.ipynb, on shards that ptd clean makes from PTD_INPUTS
        assert re.search(r"[\d,]+ documents inspected", text)
        assert (tmp_path / "report.html").stat().st_size > 50_000
