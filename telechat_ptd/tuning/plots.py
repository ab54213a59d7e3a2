"""Figures for retuning: signal distributions with their thresholds, and rule overlaps.

Labels are bilingual, so call ``setup_cjk_fonts`` (re-exported here) before plotting.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from telechat_ptd.fonts import setup_cjk_fonts  # noqa: F401  (the notebooks import it from here)
from telechat_ptd.tuning.decide import active_rules, rule_fails
from telechat_ptd.tuning.tuner import Tuner, WhatIf

LABELS = {
    "chars": "字符数", "lines": "行数", "han_ratio": "汉字比例", "latin_ratio": "拉丁字母比例",
    "garbage_ratio": "乱码比例", "symbol_ratio": "符号比例", "digit_ratio": "数字比例", "url_ratio": "网址比例",
    "whitespace_ratio": "空白比例", "mean_line_chars": "平均行长", "n_words": "词数", "mean_word_len": "平均词长",
    "symbol_word_ratio": "符号/词", "bullet_line_ratio": "项目符号行比例", "ellipsis_line_ratio": "省略号行比例",
    "alpha_word_ratio": "字母词比例", "stopword_hits": "停用词数", "dup_line_frac": "重复行比例",
    "dup_para_frac": "重复段落比例", "dup_line_char_frac": "重复行字符比例", "dup_para_char_frac": "重复段落字符比例",
    "lorem_ipsum": "占位文本", "curly_brace_ratio": "花括号比例", "javascript_line_ratio": "JavaScript 行比例",
    "policy_line_ratio": "隐私政策行比例", "sentences": "句子数", "line_punct_ratio": "标点结尾行比例",
    "short_line_ratio": "短行比例", "list_ratio": "换行/字", **{f"top_{n}gram_frac": f"最高频 {n}-gram 占比" for n in (2, 3, 4)},
    **{f"dup_{n}gram_frac": f"重复 {n}-gram 覆盖率" for n in range(5, 11)},
}


def label(signal: str) -> str:
    return f"{signal} {LABELS[signal]}" if signal in LABELS else signal


def _edges(values: pd.Series, limits: list[float], bins: int) -> tuple[np.ndarray, bool]:
    """Bin edges over the 0.5-99.5% range, widened to thresholds near it (one far outside,
    like max_chars, would squash the data into one bin); log-spaced for heavy tails."""
    lo, hi = float(values.quantile(0.005)), float(values.quantile(0.995))
    span = max(hi - lo, abs(hi), 1e-9)
    near = [x for x in limits if lo - span <= x <= hi + span]
    lo, hi = min([lo, *near]), max([hi, *near])
    if hi <= lo:
        hi = lo + 1.0
    if lo >= 0 and hi > 20 * max(float(values.median()), 1.0):
        return np.unique(np.concatenate([[lo], np.geomspace(max(lo, 1.0), hi, bins)])), True
    return np.linspace(lo, hi, bins + 1), False


def plot_signal(tuner: Tuner, signal: str, section: str = "zh", what: WhatIf | None = None, ax=None, bins: int = 40):
    """One signal's distribution per source over the documents the ``section`` rules judge,
    its thresholds drawn, and the share of each source those thresholds remove. Values beyond
    the drawn range are counted in the edge bins, never dropped."""
    import matplotlib.pyplot as plt

    cfg = (what or tuner.baseline).cfg
    rows = tuner.judged(section, cfg)
    rows = rows[rows[signal].notna()]
    rules = [(r, lim) for _, r, lim in active_rules(cfg, section) if r.signal == signal]
    min_lines = getattr(cfg.filters, section).line_rules_min_lines
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5))
    if rows.empty:
        ax.set_title(f"{label(signal)} ({section}): no documents")
        return ax
    edges, log = _edges(rows[signal], [lim for _, lim in rules], bins)
    tallest = 0
    for source, part in rows.groupby("source"):
        removed = np.zeros(len(part), dtype=bool)
        for rule, lim in rules:
            removed |= rule_fails(part, rule, lim, min_lines)
        heights, _, _ = ax.hist(part[signal].clip(edges[0], edges[-1]), bins=edges, histtype="step", linewidth=1.4,
                                label=f"{source}: n={len(part)}, 去除 removes {removed.mean():.1%}")
        tallest = max(tallest, heights.max() / len(part))
    for rule, lim in rules:
        shown = edges[0] <= lim <= edges[-1]
        ax.axvline(min(max(lim, edges[0]), edges[-1]), color="crimson", linestyle="--" if shown else ":", linewidth=1)
        ax.annotate(f"{rule.threshold}={lim:g}" + ("" if shown else " (off chart)"), (min(max(lim, edges[0]), edges[-1]), 1),
                    xycoords=("data", "axes fraction"), rotation=90, va="top", ha="right", fontsize=7, color="crimson")
    if log:
        ax.set_xscale("symlog", linthresh=1.0)
    ax.set_xlim(edges[0], edges[-1])
    if tallest > 0.5:  # one bin holds most documents: a log axis shows the tail the rule cuts
        ax.set_yscale("log")
    ax.set_title(f"{label(signal)} ({section})", fontsize=10)
    ax.set_ylabel("文档数 documents")
    ax.legend(fontsize=7)
    return ax


def plot_rule_signals(tuner: Tuner, section: str = "zh", what: WhatIf | None = None, signals: list[str] | None = None, cols: int = 3):
    """A grid of ``plot_signal``: by default the signals of the rules that fail at least one
    judged document, most failures first."""
    import matplotlib.pyplot as plt

    if signals is None:
        table = tuner.rule_table(what).query("section == @section and fails > 0").sort_values("fails", ascending=False)
        signals = list(dict.fromkeys(table["signal"]))
    rows = max(1, -(-len(signals) // cols))
    fig, axes = plt.subplots(rows, cols, figsize=(5.2 * cols, 3.3 * rows), squeeze=False)
    for ax, signal in zip(axes.flat, signals):
        plot_signal(tuner, signal, section, what, ax=ax)
    for ax in list(axes.flat)[len(signals):]:
        ax.set_visible(False)
    fig.tight_layout()
    return fig


def plot_overlap(matrix: pd.DataFrame, ax=None):
    """Rule x rule co-failure counts as a heat map (diagonal: each rule's own failures)."""
    import matplotlib.pyplot as plt

    if ax is None:
        size = 1.2 + 0.45 * len(matrix)
        _, ax = plt.subplots(figsize=(size + 1.5, size))
    image = ax.imshow(np.log1p(matrix.to_numpy()), cmap="Blues")
    ax.set_xticks(range(len(matrix)), matrix.columns, rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(len(matrix)), matrix.index, fontsize=8)
    for i in range(len(matrix)):
        for j in range(len(matrix)):
            ax.text(j, i, str(matrix.iat[i, j]), ha="center", va="center", fontsize=6)
    ax.set_title("规则重叠 documents failing both rules")
    ax.figure.colorbar(image, ax=ax, label="log(1 + documents)")
    return ax
