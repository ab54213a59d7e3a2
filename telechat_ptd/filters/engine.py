"""The rule stage: route a document to its language's rule set, compute signals, decide.

Families run in a fixed order, cheapest first. In ``clean`` the first failing rule stops the
evaluation; ``annotate`` computes every signal. Both reach the same decision, because the
decision is always the first failing rule in that order.
"""

from __future__ import annotations

from typing import NamedTuple

from pydantic import BaseModel, ConfigDict, create_model

from telechat_ptd.filters import (
    c4,
    fineweb,
    gopher_quality,
    gopher_repetition,
    langid,
    language,
    length,
    lines,
    ratios,
    script,
)
from telechat_ptd.filters.view import TextView

FAMILIES = (length, script, ratios, lines, gopher_quality, gopher_repetition, c4, fineweb)


def _merged_fields() -> dict:
    fields: dict = {}
    for family in FAMILIES:
        for name, info in family.Thresholds.model_fields.items():
            if name in fields:
                raise TypeError(f"threshold {name!r} is declared by two rule families")
            fields[name] = (info.annotation, ...)
    return fields


LangThresholds = create_model(
    "LangThresholds", __config__=ConfigDict(extra="forbid"), **_merged_fields()
)
RulesToggle = create_model(
    "RulesToggle", __config__=ConfigDict(extra="forbid"), **{f.NAME: (bool, ...) for f in FAMILIES}
)

SIGNALS: tuple[str, ...] = ("lang_score",) + tuple(dict.fromkeys(s for f in FAMILIES for s in f.SIGNALS))


class FiltersConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    enabled: bool
    rules: RulesToggle
    lang: language.LangConfig
    zh: LangThresholds
    en: LangThresholds


class Verdict(NamedTuple):
    lang: str
    signals: dict[str, float]
    reason: str | None  # None: keep
    detail: str | None


class RuleFilter:
    def __init__(self, cfg: FiltersConfig):
        self.cfg = cfg
        self.langid = langid.LangId(cfg.lang.lid_model) if cfg.lang.lid_model else None
        families = [f for f in FAMILIES if getattr(cfg.rules, f.NAME)]
        # Per rule set: each enabled family with its active (rule, limit) pairs, resolved once.
        self._plans = {
            section: [
                (f, [(r, getattr(th, r.threshold)) for r in f.RULES if getattr(th, r.threshold) is not None])
                for f in families
            ]
            for section in ("zh", "en")
            for th in [getattr(cfg, section)]
        }

    def evaluate(self, text: str, complete: bool = False) -> Verdict:
        view = TextView(text)
        lang = language.detect(view, self.cfg.lang)
        signals: dict[str, float] = {}
        if self.langid is not None:
            # Text without letters has no language to be sure of: score 0.
            lang, score = langid.refine(lang, self.langid.predict(text), self.cfg.lang.lid_min_score) if lang != "none" else (lang, 0.0)
            signals["lang_score"] = score
        view.lang = lang
        section = language.rule_set(lang)
        th = getattr(self.cfg, section)
        reason = detail = None
        if lang not in self.cfg.lang.keep:
            reason, detail = "lang_not_kept", f"lang={lang}"
            if not complete:
                return Verdict(lang, signals, reason, detail)
        few_lines = len(view.lines) < th.line_rules_min_lines
        for family, rules in self._plans[section]:
            values = family.signals(view, th, complete)
            signals.update(values)
            if reason is None:
                for rule, limit in rules:
                    if rule.per_line and few_lines:
                        continue
                    value = values.get(rule.signal)
                    if value is not None and rule.fails(value, limit):
                        reason, detail = rule.reason, rule.detail(value, limit)
                        break
            if reason is not None and not complete:
                break
        return Verdict(lang, signals, reason, detail)
