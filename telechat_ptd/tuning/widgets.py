"""Threshold boxes that redo the what-if on every change (needs ``ipywidgets``)."""

from __future__ import annotations

from typing import Any

from telechat_ptd.tuning.tuner import Tuner, WhatIf


class WhatIfPanel:
    """One number box per threshold key; ``changes`` and ``result`` follow the boxes."""

    def __init__(self, tuner: Tuner, keys: list[str], changes: dict[str, Any] | None = None):
        import ipywidgets as w

        self.tuner = tuner
        self.changes: dict[str, Any] = dict(changes or {})
        self.result: WhatIf = tuner.what_if(self.changes)
        self.output = w.Output()
        self.boxes = {}
        for key in keys:
            value = self._current(key)
            box = (w.IntText if isinstance(value, int) else w.FloatText)(value=value, description=key.split(".", 1)[-1],
                                                                          style={"description_width": "initial"})
            box.observe(lambda change, key=key: self.set(key, change["new"]), names="value")
            self.boxes[key] = box
        self.widget = w.VBox([w.HBox(list(self.boxes.values())[i:i + 3]) for i in range(0, len(keys), 3)] + [self.output])
        self._show()

    def _current(self, key: str):
        node: Any = self.tuner.config_with(self.changes).model_dump()
        for part in key.split("."):
            node = node[part]
        return node

    def set(self, key: str, value) -> WhatIf:
        """Change one threshold (what a box edit does) and recompute."""
        self.changes[key] = value
        self.result = self.tuner.what_if(self.changes)
        self._show()
        return self.result

    def _show(self) -> None:
        from IPython.display import display

        self.output.clear_output(wait=True)
        with self.output:
            print(f"kept {self.result.kept:,} of {len(self.result.decisions):,} ({self.result.kept_share:.1%}); "
                  f"baseline {self.tuner.baseline.kept:,}")
            display(self.result.summary(self.tuner.baseline))

    def _ipython_display_(self):
        from IPython.display import display

        display(self.widget)


def default_keys(tuner: Tuner, n: int = 6) -> list[str]:
    """The thresholds deciding the most documents in the annotate run."""
    table = tuner.rule_table()
    return table.sort_values("decides", ascending=False)["key"].head(n).tolist()
