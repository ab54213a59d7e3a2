"""Retuning filters from an annotate run: distributions, documents at a threshold, overlaps,
what-if and export. The notebooks call this; everything here is plain pandas and testable.

A what-if is a config (the annotate run's, plus dotted-key changes), so exporting it gives a
file ``ptd clean --config`` accepts, and the counts it predicts are the counts the job writes.
"""

from __future__ import annotations

import glob
import html
import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from telechat_ptd.pipeline.config import Config, ConfigError, load_config, overrides_yaml, with_changes
from telechat_ptd.tuning.decide import (
    KEEP,
    SECTIONS,
    SignatureCache,
    TuningError,
    active_rules,
    check_replayable,
    decide,
    eligible,
    rule_fails,
    sections,
    text_keys,
)

_META = ("id", "source", "lang", "decision", "stage", "detail", "duplicate_of", "similarity", "score", "text")


@dataclass
class WhatIf:
    """The decisions of one config over the annotate rows, with stats.json-shaped counts."""

    cfg: Config
    changes: dict[str, Any]
    decisions: pd.DataFrame  # id, source, decision, stage, duplicate_of
    errors: dict[str, int] = field(default_factory=dict)  # per source, from the annotate run

    @property
    def kept(self) -> int:
        return int((self.decisions["decision"] == KEEP).sum())

    @property
    def kept_share(self) -> float:
        return self.kept / max(1, len(self.decisions) + sum(self.errors.values()))

    def counts(self) -> dict:
        """input, kept, rejected, errors, rejected_by_reason and the same per source, as in
        the stats.json of ``ptd clean``."""
        d = self.decisions

        def block(part: pd.DataFrame, errors: int) -> dict:
            rejected = part[part["decision"] != KEEP]
            return {
                "input": len(part) + errors,
                "kept": int((part["decision"] == KEEP).sum()),
                "rejected": len(rejected),
                "errors": errors,
                "rejected_by_reason": {k: int(v) for k, v in rejected["decision"].value_counts().sort_index().items()},
            }

        out = block(d, sum(self.errors.values()))
        sources = sorted(set(d["source"].dropna()) | set(self.errors))
        out["sources"] = {s: block(d[d["source"] == s], self.errors.get(s, 0)) for s in sources}
        return out

    def summary(self, baseline: WhatIf) -> pd.DataFrame:
        """Documents per decision: baseline, this what-if and the difference."""
        before = baseline.decisions["decision"].value_counts()
        after = self.decisions["decision"].value_counts()
        table = pd.DataFrame({"baseline": before, "what_if": after}).fillna(0).astype(int)
        table["delta"] = table["what_if"] - table["baseline"]
        table = table.sort_values(["what_if", "baseline"], ascending=False)
        total = len(self.decisions) + sum(self.errors.values())
        table["what_if_share"] = (table["what_if"] / max(1, total)).round(4)
        return table

    def flipped(self, baseline: WhatIf, rows: pd.DataFrame) -> pd.DataFrame:
        """Documents kept in one and removed in the other, with both decisions and the text."""
        was, now = baseline.decisions["decision"], self.decisions["decision"]
        moved = (was == KEEP) != (now == KEEP)
        out = rows.loc[moved, ["id", "source", "lang"]].copy()
        out["before"], out["after"] = was[moved], now[moved]
        out["text"] = rows.loc[moved, "text"]
        return out


def compare_counts(predicted: dict, stats: dict) -> list[str]:
    """Where a what-if's counts differ from a job's stats.json (empty: they agree)."""
    problems = []

    def check(where: str, mine: dict, theirs: dict) -> None:
        for key in ("input", "kept", "rejected", "errors"):
            if mine.get(key, 0) != theirs.get(key, 0):
                problems.append(f"{where}{key}: what-if {mine.get(key, 0)} != job {theirs.get(key, 0)}")
        a, b = mine.get("rejected_by_reason", {}), theirs.get("rejected_by_reason", {})
        for reason in sorted(set(a) | set(b)):
            if a.get(reason, 0) != b.get(reason, 0):
                problems.append(f"{where}{reason}: what-if {a.get(reason, 0)} != job {b.get(reason, 0)}")

    check("", predicted, stats)
    for source in sorted(set(predicted.get("sources", {})) | set(stats.get("sources", {}))):
        check(f"{source}: ", predicted.get("sources", {}).get(source, {}), stats.get("sources", {}).get(source, {}))
    return problems


def _parquet_files(path: str | Path) -> tuple[list[str], Path | None]:
    """Signal shards under an annotate output (OUT, OUT/signals) or a glob; and OUT."""
    p = Path(path)
    if p.is_dir():
        out = p.parent if p.name == "signals" else p
        files = sorted(glob.glob(str(out / "signals" / "*.parquet")))
        if not files:
            raise TuningError(f"no signals/*.parquet under {out}: run 'ptd annotate INPUT... -o {out}' first")
        return files, out
    files = sorted(glob.glob(str(path)))
    if not files:
        raise TuningError(f"no annotate parquet matches {path}")
    out = Path(files[0]).parent.parent
    return files, out if (out / "config.yaml").exists() else None


class Tuner:
    """Annotate rows plus the config that produced them."""

    def __init__(self, rows: pd.DataFrame, cfg: Config, errors: dict[str, int] | None = None):
        missing = [c for c in ("id", "source", "lang", "decision", "stage", "text") if c not in rows.columns]
        if missing:
            raise TuningError(f"annotate rows lack columns {missing}")
        if "score" not in rows.columns:
            rows = rows.assign(score=np.nan)
        self.rows = rows.reset_index(drop=True)
        self.cfg = cfg
        self.errors = dict(errors or {})
        self._signatures = SignatureCache(self.rows)
        self._exact_keys = text_keys(self.rows)
        self._section = sections(self.rows)
        self.baseline = self.what_if()

    @classmethod
    def load(cls, path: str | Path, config: str | Path | None = None) -> Tuner:
        """Rows of an annotate output. The thresholds are OUT/config.yaml (written by the job),
        else ``config``, else the packaged defaults."""
        files, out = _parquet_files(path)
        rows = pq.read_table(files).to_pandas()
        if config is None and out is not None and (out / "config.yaml").exists():
            config = out / "config.yaml"
        errors: dict[str, int] = {}
        if out is not None and (out / "stats.json").exists():
            stats = json.loads((out / "stats.json").read_text())
            errors = {s: v["errors"] for s, v in stats.get("sources", {}).items() if v.get("errors")}
        return cls(rows, load_config(config), errors)

    @classmethod
    def annotate(cls, inputs: list[str], out: str | Path, config: str | None = None, overrides: list[str] = ()) -> Tuner:
        """Run ``ptd annotate`` on ``inputs`` into ``out`` and load the result."""
        run_ptd("annotate", inputs, out, config, overrides)
        return cls.load(out)

    # --- what-if ---------------------------------------------------------------------------

    def config_with(self, changes: dict[str, Any] | None = None) -> Config:
        try:
            cfg = with_changes(self.cfg, changes or {})
        except ConfigError as exc:
            raise TuningError(str(exc)) from None
        check_replayable(cfg, self.cfg)
        return cfg

    def what_if(self, changes: dict[str, Any] | None = None) -> WhatIf:
        """Decisions with ``changes`` ({'filters.zh.min_chars': 200, ...}) applied, from the stored
        signals: nothing is recomputed but MinHash signatures of newly kept documents."""
        cfg = self.config_with(changes)
        d = decide(self.rows, cfg, self._signatures, self._exact_keys)
        d.insert(0, "source", self.rows["source"])
        d.insert(0, "id", self.rows["id"])
        return WhatIf(cfg, dict(changes or {}), d, self.errors)

    def reproduces_annotate(self) -> bool:
        """The replay of the annotate run's own config gives the decisions it wrote."""
        return bool((self.baseline.decisions["decision"].to_numpy() == self.rows["decision"].to_numpy()).all())

    def export(self, what: WhatIf | Config, path: str | Path) -> Path:
        """Write the what-if as a ``--config`` file: every key that differs from the packaged
        defaults, so ``ptd clean --config PATH`` runs exactly this configuration."""
        cfg = what.cfg if isinstance(what, WhatIf) else what
        path = Path(path)
        changes = what.changes if isinstance(what, WhatIf) else {}
        header = "# Written by telechat_ptd.tuning: ptd clean --config " + path.name + "\n"
        if changes:
            header += "# what-if changes: " + ", ".join(f"{k}={v}" for k, v in changes.items()) + "\n"
        path.write_text(header + overrides_yaml(cfg), encoding="utf-8")
        if load_config(path) != cfg:  # the file must reproduce the config, or it is no export
            raise TuningError(f"{path} does not reproduce the what-if config")
        return path

    # --- looking at the signals ----------------------------------------------------------------

    def judged(self, section: str, cfg: Config | None = None) -> pd.DataFrame:
        """Rows the ``section`` rule set judges (past read and normalization, kept language)."""
        cfg = cfg or self.cfg
        return self.rows[eligible(self.rows, cfg) & (self._section == section)]

    def rule_table(self, what: WhatIf | None = None) -> pd.DataFrame:
        """Every active rule: its threshold, how many documents it fails on its own, and how many
        it decides (is the first failing rule for)."""
        what = what or self.baseline
        cfg = what.cfg
        first = what.decisions["decision"]
        records = []
        for section in SECTIONS:
            th = getattr(cfg.filters, section)
            rows = self.judged(section, cfg)
            for family, rule, limit in active_rules(cfg, section):
                fails = int(rule_fails(rows, rule, limit, th.line_rules_min_lines).sum())
                decides = int(((first == rule.reason) & pd.Series(self._section == section, index=first.index)).sum())
                records.append({
                    "section": section, "family": family, "reason": rule.reason, "signal": rule.signal,
                    "op": "<" if rule.kind == "min" else ">", "key": f"filters.{section}.{rule.threshold}",
                    "threshold": limit, "judged": len(rows), "fails": fails,
                    "fails_share": round(fails / max(1, len(rows)), 4), "decides": decides,
                })
        return pd.DataFrame(records)

    def near_threshold(self, key: str, n: int = 3, what: WhatIf | None = None) -> pd.DataFrame:
        """The ``n`` documents just removed by threshold ``key`` (e.g. 'filters.zh.min_chars')
        and the ``n`` just kept by it, closest to the limit first."""
        cfg = (what or self.baseline).cfg
        parts = key.split(".")
        if len(parts) != 3 or parts[0] != "filters" or parts[1] not in SECTIONS:
            raise TuningError(f"{key}: expected filters.<zh|en>.<threshold>")
        section, name = parts[1], parts[2]
        matches = [(r, lim) for _, r, lim in active_rules(cfg, section) if r.threshold == name]
        if not matches:
            raise TuningError(f"{key} is not an active threshold (unknown, null, or its rule family is off)")
        rule, limit = matches[0]
        min_lines = getattr(cfg.filters, section).line_rules_min_lines
        rows = self.judged(section, cfg)
        rows = rows[rows[rule.signal].notna() & ((rows["lines"] >= min_lines) if rule.per_line else True)]
        values = rows[rule.signal].astype(float)
        fails = rule_fails(rows, rule, limit, min_lines)
        distance = (values - limit).abs()
        removed = rows[fails].assign(_d=distance[fails]).nsmallest(n, "_d")
        kept = rows[~fails].assign(_d=distance[~fails]).nsmallest(n, "_d")
        out = pd.concat([removed.assign(side="removed"), kept.assign(side="kept")])
        out = out.rename(columns={rule.signal: "value"})
        out["threshold"] = f"{rule.signal} {'<' if rule.kind == 'min' else '>'} {limit:g} removes"
        return out[["side", "value", "threshold", "id", "source", "decision", "text"]].reset_index(drop=True)

    def overlap(self, what: WhatIf | None = None) -> pd.DataFrame:
        """Documents failing both rule i and rule j (the diagonal: rule i alone), over the judged
        rows; rules that fail nothing are left out."""
        fails = self.failures(what).astype(int)
        return fails.T @ fails

    def failures(self, what: WhatIf | None = None) -> pd.DataFrame:
        """Judged rows x rules that fail them (each rule on its own, not first-fail)."""
        cfg = (what or self.baseline).cfg
        columns: dict[str, pd.Series] = {}
        judged = eligible(self.rows, cfg)
        for section in SECTIONS:
            th = getattr(cfg.filters, section)
            mine = judged & (self._section == section)
            for _, rule, limit in active_rules(cfg, section):
                hit = mine & rule_fails(self.rows, rule, limit, th.line_rules_min_lines)
                col = columns.setdefault(rule.reason, pd.Series(False, index=self.rows.index))
                columns[rule.reason] = col | hit
        fails = pd.DataFrame(columns)[judged]
        return fails.loc[:, fails.any()]

    def rules_per_document(self, what: WhatIf | None = None) -> pd.Series:
        """How many judged documents fail 0, 1, 2, ... rules at once."""
        return self.failures(what).sum(axis=1).value_counts().sort_index().rename("documents")


CJK_CSS = "'Noto Sans CJK SC','Source Han Sans SC','PingFang SC','Microsoft YaHei','WenQuanYi Micro Hei',sans-serif"


def docs_html(docs: pd.DataFrame, max_chars: int = 600) -> str:
    """Documents as readable HTML cards (line breaks kept, Chinese fonts first)."""
    cards = []
    for _, row in docs.iterrows():
        text = row["text"] if len(row["text"]) <= max_chars else row["text"][:max_chars] + " …"
        head = " · ".join(
            html.escape(f"{k}={row[k]:.4g}" if isinstance(row[k], float) else f"{k}={row[k]}")
            for k in docs.columns if k != "text"
        )
        cards.append(
            f"<div style='border:1px solid #ccc;margin:4px 0;padding:6px'><div style='color:#555;font-size:90%'>{head}</div>"
            f"<div style='white-space:pre-wrap;font-family:{CJK_CSS}'>{html.escape(text)}</div></div>"
        )
    return "\n".join(cards)


def run_ptd(command: str, inputs: list[str], out: str | Path, config: str | Path | None = None, overrides: list[str] = ()) -> dict:
    """``ptd COMMAND`` in a subprocess, exactly as a user runs it (and out of the notebook
    kernel, where Beam would switch to its interactive mode); returns its stats.json."""
    cmd = [sys.executable, "-m", "telechat_ptd.pipeline.cli", command, *map(str, inputs), "-o", str(out), "-q"]
    if config is not None:
        cmd += ["--config", str(config)]
    for expr in overrides:
        cmd += ["--set", expr]
    done = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "PYTHONWARNINGS": "ignore"})
    if done.returncode != 0:
        raise RuntimeError(f"ptd {command} failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
    return json.loads((Path(out) / "stats.json").read_text())


def run_clean(inputs: list[str], out: str | Path, config: str | Path | None = None) -> dict:
    """``ptd clean --config CONFIG`` on ``inputs``; returns its stats.json."""
    return run_ptd("clean", inputs, out, config)
