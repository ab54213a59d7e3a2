from __future__ import annotations

import json

import apache_beam as beam
import pytest

from telechat_ptd.pipeline.stats import AccountingError, WriteStats, build_stats, check_balance


def test_build_stats_totals_per_source_and_reason():
    stats = build_stats({
        ("input", "web"): 10, ("input", "book"): 2,
        ("kept", "web"): 5, ("kept", "book"): 1,
        ("rejected", "web", "filter", "too_short"): 3, ("rejected", "book", "dedup", "exact_duplicate"): 1,
        ("error", "web", "read"): 2,
        ("normalize", "boilerplate_lines_removed"): 7,
        ("kept_bytes", "web"): 100,
    })
    assert stats["balanced"] and (stats["input"], stats["kept"], stats["rejected"], stats["errors"]) == (12, 6, 4, 2)
    assert stats["rejected_by_reason"] == {"exact_duplicate": 1, "too_short": 3}
    assert stats["rejected_by_stage"] == {"dedup": 1, "filter": 3}
    assert stats["sources"]["web"]["rejected_by_reason"] == {"too_short": 3}
    assert stats["sources"]["book"]["rejected_by_stage"] == {"dedup": 1}
    assert stats["sources"]["web"]["errors_by_stage"] == {"read": 2}
    assert stats["normalize"]["boilerplate_lines_removed"] == 7
    check_balance(stats)


def test_a_lost_document_is_caught_per_source():
    stats = build_stats({("input", "web"): 3, ("input", "book"): 1, ("kept", "web"): 3, ("kept", "book"): 0,
                         ("rejected", "web", "filter", "x"): 1})
    assert not stats["balanced"]  # totals balance (4 = 3 + 1), the sources do not
    with pytest.raises(AccountingError, match="book: input 1 != kept 0"):
        check_balance(stats)


def test_pipeline_fails_and_leaves_the_evidence(tmp_path):
    path = tmp_path / "stats.json"
    with pytest.raises(Exception, match="accounting failed"):
        with beam.Pipeline() as p:
            p | beam.Create([(("input", "web"), 2), (("kept", "web"), 1)]) | WriteStats(str(path))
    assert json.loads(path.read_text())["balanced"] is False
