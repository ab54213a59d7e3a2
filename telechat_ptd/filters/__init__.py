"""Rule and heuristic filters: pure Python, one rule family per module.

Each family module declares ``NAME``, the ``SIGNALS`` it computes, a ``Thresholds`` model
(its config keys), ``RULES`` (signal, threshold, direction, reason) and ``signals()``.
"""
