"""The job's decisions replayed on a table of annotate rows, for any thresholds.

``ptd annotate`` stores every signal of every document, so a threshold change needs no
recomputation: the filter stage is a column comparison per rule, in the engine's order (the
first failing rule names the reason), and the dedup stages run again on the documents that now
pass, with the same functions the Beam job uses. The result is what ``ptd clean`` would decide.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from telechat_ptd.dedup.exact import exact_key
from telechat_ptd.dedup.lsh import band_keys, band_params
from telechat_ptd.dedup.near import cluster_buckets, node_key, sign_documents
from telechat_ptd.filters import language
from telechat_ptd.filters.engine import FAMILIES
from telechat_ptd.filters.rule import Rule
from telechat_ptd.pipeline.config import Config, changed_keys
from telechat_ptd.safety.verdict import SIGNALS as SAFETY_SIGNALS
from telechat_ptd.safety.verdict import lists_verdict, pii_verdict, stage_enabled
from telechat_ptd.scorers.config import QUALITY, SAFETY
from telechat_ptd.scorers.thresholds import SIGNALS as SCORER_SIGNALS
from telechat_ptd.scorers.thresholds import first_failure

KEEP = "keep"
# Stages decided before any signal exists: thresholds cannot change them.
FIXED_STAGES = ("read", "normalize")
SECTIONS = ("zh", "en")
# Keys that change how signals are computed, or which documents reach the filters: a new value
# needs a new annotate run, not a what-if.
_SIGNAL_KEYS = ("read.", "normalize.", "filters.lang.zh_", "filters.lang.ja_", "filters.lang.ko_", "filters.lang.en_", "filters.lang.lid_")
_SIGNAL_PARAMS = ("ngram_scale", "short_line_chars")
# Scorer keys that change the signals (the thresholds do not).
_SCORER_SIGNAL_PARAMS = ("model", "langs", "max_tokens", "batch_size", "device")
# Safety keys the stored signals answer; the others (lexicons, blocklists, PII types) change
# the signals or the lexicon category a row keeps.
_SAFETY_REPLAYABLE = ("safety.pii.enabled", "safety.pii.max_density")
_SIGNATURE_KEYS = ("unit", "ngram_chars", "ngram_words", "char_min_han_share", "num_perm", "seed", "scheme", "hash")


class TuningError(ValueError):
    pass


def check_replayable(cfg: Config, base: Config) -> None:
    """Fail, naming the key, when ``cfg`` differs from the annotate run's ``base`` in a way the
    stored signals cannot answer."""
    for key in changed_keys(cfg, base):
        last = key.rsplit(".", 1)[-1]
        scorer_signal = key.startswith("scorers.") and last in _SCORER_SIGNAL_PARAMS
        safety_signal = key.startswith("safety.") and key not in _SAFETY_REPLAYABLE
        if key.startswith(_SIGNAL_KEYS) or last in _SIGNAL_PARAMS or scorer_signal or safety_signal:
            raise TuningError(f"{key} changes the signals themselves; rerun 'ptd annotate --set {key}=...' to tune it")
    for name in cfg.scorers.enabled():
        if not getattr(base.scorers, name).enabled:
            raise TuningError(
                f"scorer {name} was off in the annotate run, so its signals were not computed; "
                f"rerun 'ptd annotate --set scorers.{name}.enabled=true --set scorers.{name}.model=...'"
            )
    for family in FAMILIES:
        if getattr(cfg.filters.rules, family.NAME) and not (base.filters.enabled and getattr(base.filters.rules, family.NAME)):
            raise TuningError(
                f"rule family {family.NAME} was off in the annotate run, so its signals were not computed; "
                f"rerun 'ptd annotate --set filters.rules.{family.NAME}=true'"
            )
    if cfg.dedup.near.enabled and cfg.dedup.near.index:
        raise TuningError("dedup.near.index: the what-if cannot replay dedup against an external index; annotate with dedup.near.index: []")


def active_rules(cfg: Config, section: str) -> list[tuple[str, Rule, Any]]:
    """(family name, rule, limit) of every rule that can decide, in evaluation order."""
    th = getattr(cfg.filters, section)
    return [
        (family.NAME, rule, getattr(th, rule.threshold))
        for family in FAMILIES
        if getattr(cfg.filters.rules, family.NAME)
        for rule in family.RULES
        if getattr(th, rule.threshold) is not None
    ]


def sections(rows: pd.DataFrame) -> np.ndarray:
    """Rule set of each row, as ``language.rule_set`` picks it."""
    return rows["lang"].fillna("none").map(language.rule_set).to_numpy(dtype=object)


def rule_fails(rows: pd.DataFrame, rule: Rule, limit: Any, min_lines: int) -> np.ndarray:
    """Where ``rule`` fails, ignoring order; a missing signal never fails, as in the engine."""
    values = rows[rule.signal].to_numpy(dtype=float, na_value=np.nan)
    with np.errstate(invalid="ignore"):
        fails = values < limit if rule.kind == "min" else values > limit
        if rule.per_line:
            fails &= rows["lines"].to_numpy(dtype=float, na_value=np.nan) >= min_lines
    return fails


def eligible(rows: pd.DataFrame, cfg: Config) -> np.ndarray:
    """Rows the rules judge: past read and normalization, in a kept language."""
    return ~rows["stage"].isin(FIXED_STAGES).to_numpy() & rows["lang"].isin(cfg.filters.lang.keep).to_numpy()


def filter_reasons(rows: pd.DataFrame, cfg: Config) -> np.ndarray:
    """The filter stage's reason per row (None: passes), first failing rule first."""
    reason = np.full(len(rows), None, dtype=object)
    if not cfg.filters.enabled:
        return reason
    fixed = rows["stage"].isin(FIXED_STAGES).to_numpy()
    reason[~fixed & ~rows["lang"].isin(cfg.filters.lang.keep).to_numpy()] = "lang_not_kept"
    section_of = sections(rows)
    for section in SECTIONS:
        th = getattr(cfg.filters, section)
        mine = (section_of == section) & ~fixed
        for _, rule, limit in active_rules(cfg, section):
            hit = mine & rule_fails(rows, rule, limit, th.line_rules_min_lines) & (reason == None)  # noqa: E711
            reason[hit] = rule.reason
    return reason


class SignatureCache:
    """MinHash signatures and LSH bucket memberships of annotate rows, computed once per
    setting, so a what-if only groups the rows that pass."""

    def __init__(self, rows: pd.DataFrame):
        self.rows = rows
        self._cache: dict[tuple, dict[int, tuple[str, bytes, tuple]]] = {}
        # (signature setting, bands, rows) -> bucket ids, (bucket id, row position) pairs
        self._buckets: dict[tuple, tuple[dict[bytes, int], list[np.ndarray], set[int]]] = {}

    def signed(self, positions: np.ndarray, near_cfg) -> dict[int, tuple[str, bytes, tuple]]:
        key = tuple(getattr(near_cfg, k) for k in _SIGNATURE_KEYS)
        cache = self._cache.setdefault(key, {})
        missing = [int(p) for p in positions if int(p) not in cache]
        if missing:
            docs = self.rows.iloc[missing]
            records = [
                {"id": i, "text": t, "score": (None if s is None or s != s else s)}
                for i, t, s in zip(docs["id"], docs["text"], docs["score"])
            ]
            signed = sign_documents(records, near_cfg)
            for pos, doc in zip(missing, records):
                node = node_key(doc)
                cache[pos] = (node, *signed[node]) if node in signed else None
        return {int(p): cache[int(p)] for p in positions if cache[int(p)] is not None}

    def buckets(self, signed: dict[int, tuple[str, bytes, tuple]], near_cfg) -> list[list[str]]:
        """The LSH buckets holding two or more of the ``signed`` rows, as lists of nodes."""
        bands, rows = band_params(near_cfg.threshold, near_cfg.num_perm, near_cfg.bands, near_cfg.rows)
        ids, pairs, done = self._buckets.setdefault((*(getattr(near_cfg, k) for k in _SIGNATURE_KEYS), bands, rows), ({}, [], set()))
        new = [pos for pos in signed if pos not in done]
        for pos in new:
            keys = band_keys(np.frombuffer(signed[pos][1], dtype=np.uint32), bands, rows)
            pairs.append(np.array([[ids.setdefault(k, len(ids)), pos] for k in keys], dtype=np.int64))
            done.add(pos)
        if new and len(pairs) > 1:
            pairs[:] = [np.concatenate(pairs)]
        if not pairs:
            return []
        table = pairs[0]
        alive = np.zeros(len(self.rows), dtype=bool)
        alive[list(signed)] = True
        table = table[alive[table[:, 1]]]
        table = table[np.argsort(table[:, 0], kind="stable")]
        starts = np.flatnonzero(np.r_[True, table[1:, 0] != table[:-1, 0]])
        sizes = np.diff(np.r_[starts, len(table)])
        return [[signed[int(p)][0] for p in table[s : s + n, 1]] for s, n in zip(starts[sizes > 1], sizes[sizes > 1])]


def decide(rows: pd.DataFrame, cfg: Config, signatures: SignatureCache, exact_keys: np.ndarray) -> pd.DataFrame:
    """Per row: ``decision`` (keep or a reason), ``stage`` and ``duplicate_of``, as ``ptd clean``
    with ``cfg`` would decide."""
    fixed = rows["stage"].isin(FIXED_STAGES).to_numpy()
    decision = np.where(fixed, rows["decision"].to_numpy(dtype=object), None).astype(object)
    stage = np.where(fixed, rows["stage"].to_numpy(dtype=object), None).astype(object)
    duplicate_of = np.full(len(rows), None, dtype=object)
    reasons = filter_reasons(rows, cfg)
    failed = reasons != None  # noqa: E711
    decision[failed], stage[failed] = reasons[failed], "filter"
    alive = ~fixed & ~failed

    if cfg.dedup.exact.enabled:
        positions = np.flatnonzero(alive)
        group = pd.DataFrame({"key": exact_keys[positions], "id": rows["id"].to_numpy(dtype=object)[positions], "pos": positions})
        group = group.sort_values(["key", "id"], kind="stable")
        first_id = group.groupby("key", sort=False)["id"].transform("first")
        dup = group["key"].duplicated(keep="first").to_numpy()
        lost = group["pos"].to_numpy()[dup]
        decision[lost], stage[lost], duplicate_of[lost] = "exact_duplicate", "dedup", first_id.to_numpy()[dup]
        alive[lost] = False

    if cfg.dedup.near.enabled:
        signed = signatures.signed(np.flatnonzero(alive), cfg.dedup.near)
        position_of = {node: pos for pos, (node, _, _) in signed.items()}
        nodes = {node: (sig, rank) for node, sig, rank in signed.values()}
        removed = cluster_buckets(nodes, signatures.buckets(signed, cfg.dedup.near), cfg.dedup.near)
        for node, (rep, _) in removed.items():
            pos = position_of[node]
            decision[pos], stage[pos], duplicate_of[pos] = "near_duplicate", "dedup", rep
            alive[pos] = False

    names = cfg.scorers.enabled(QUALITY)
    if names:
        columns = [c for n in names for c in SCORER_SIGNALS[n]]
        for pos in np.flatnonzero(alive):
            scores = {c: _value(rows[c].iat[pos]) for c in columns}
            failed = first_failure(names, cfg.scorers, scores)
            if failed:
                decision[pos], stage[pos] = failed[0], "score"
                alive[pos] = False

    s = cfg.safety
    toxicity = cfg.scorers.enabled(SAFETY)
    if stage_enabled(cfg):
        columns = [c for c in (*SAFETY_SIGNALS, *SCORER_SIGNALS["toxicity"]) if c in rows.columns]
        for pos in np.flatnonzero(alive):
            scores = {c: _value(rows[c].iat[pos]) for c in columns}
            failed = (lists_verdict(scores, s.blocklist, s.lexicon) or first_failure(toxicity, cfg.scorers, scores)
                      or pii_verdict(scores, s.pii))
            if failed:
                decision[pos], stage[pos] = failed[0], "safety"
                alive[pos] = False

    decision[alive] = KEEP
    return pd.DataFrame({"decision": decision, "stage": stage, "duplicate_of": duplicate_of}, index=rows.index)


def _value(x):
    """A parquet cell as the pipeline held it: NaN / missing is no signal."""
    return None if x is None or (isinstance(x, float) and np.isnan(x)) else x


def text_keys(rows: pd.DataFrame) -> np.ndarray:
    return np.array([exact_key(t) for t in rows["text"]], dtype=object)
