"""A rule compares one named signal with one configured threshold.

Signals are always computed the same way; a decision is only ``signal <op> threshold``, so
retuning needs a config change, never code. A threshold of ``null`` switches the rule off.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class Rule:
    signal: str
    threshold: str  # field name in the language's threshold section
    kind: Literal["min", "max"]
    reason: str
    # A share-of-lines rule: 1 of 1 lines says little, so it only decides for documents with
    # at least ``line_rules_min_lines`` lines (the signal is still computed and written).
    per_line: bool = False

    def fails(self, value: float, limit: float | None) -> bool:
        if limit is None:
            return False
        return value < limit if self.kind == "min" else value > limit

    def detail(self, value: float, limit: float) -> str:
        op = "<" if self.kind == "min" else ">"
        return f"{self.signal}={value:.4g} {op} {self.threshold}={limit:g}"
