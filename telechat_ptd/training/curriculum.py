"""Mixing datasets by weight, with weights moved toward the datasets the model finds hard.

``update(losses)`` is the exponentiated step of Sheared-LLaMA's dynamic batch loading (and of
DoReMi): the excess loss of each dataset over its reference ("difficulty prior") loss,
clipped at 0, raises its weight, w <- normalize(w * exp(eta * max(loss - ref, 0))), then
w <- (1 - floor) * w + floor / k keeps every dataset in the mix. The stream is a seeded
function of the state, so ``state_dict()`` / ``load_state_dict()`` resume it exactly.
"""

from __future__ import annotations

import copy

import numpy as np


class CurriculumSampler:
    """Yields (dataset name, index) pairs; each dataset is walked in its own shuffled order,
    reshuffled every epoch. Use with a map-style dataset per name (e.g. ``PackedDataset``)."""

    def __init__(self, sizes: dict[str, int], weights: dict[str, float], reference_losses: dict[str, float] | None = None,
                 eta: float = 1.0, floor: float = 0.05, seed: int = 0):
        if set(weights) != set(sizes):
            raise ValueError(f"weights for {sorted(weights)} but datasets {sorted(sizes)}")
        if any(n <= 0 for n in sizes.values()):
            raise ValueError("every dataset needs at least one item")
        self.names = sorted(sizes)
        self.sizes = dict(sizes)
        total = sum(weights.values())
        if total <= 0 or any(w < 0 for w in weights.values()):
            raise ValueError("weights must be >= 0 with a positive sum")
        self.weights = np.array([weights[n] / total for n in self.names])
        self.reference = dict(reference_losses or {})
        self.eta, self.floor, self.seed = eta, floor, seed
        self.rng = np.random.default_rng(seed)
        self.epoch = dict.fromkeys(self.names, 0)
        self.position = dict.fromkeys(self.names, 0)
        self.drawn = 0
        self.history: list[dict] = [{"drawn": 0, "weights": self.current_weights()}]

    def current_weights(self) -> dict[str, float]:
        return {n: float(w) for n, w in zip(self.names, self.weights)}

    def _order(self, name: str) -> np.ndarray:
        # a pure function of (seed, dataset, epoch): nothing to store for resumption
        key = [self.seed, self.names.index(name), self.epoch[name]]
        return np.random.default_rng(key).permutation(self.sizes[name])

    def __iter__(self):
        return self

    def __next__(self) -> tuple[str, int]:
        name = self.names[int(self.rng.choice(len(self.names), p=self.weights))]
        if self.position[name] >= self.sizes[name]:
            self.epoch[name] += 1
            self.position[name] = 0
        index = int(self._order(name)[self.position[name]])
        self.position[name] += 1
        self.drawn += 1
        return name, index

    def update(self, losses: dict[str, float]) -> dict[str, float]:
        """Re-weight from per-dataset losses (datasets missing from ``losses`` keep their excess
        at 0); returns and logs the new weights."""
        excess = np.array([max(losses.get(n, self.reference.get(n, 0.0)) - self.reference.get(n, 0.0), 0.0) for n in self.names])
        w = self.weights * np.exp(self.eta * excess)
        w = w / w.sum()
        self.weights = (1 - self.floor) * w + self.floor / len(self.names)
        entry = {"drawn": self.drawn, "weights": self.current_weights(), "losses": {n: float(v) for n, v in losses.items()}}
        self.history.append(entry)
        return entry["weights"]

    def state_dict(self) -> dict:
        return {
            "names": list(self.names), "sizes": dict(self.sizes), "weights": self.weights.tolist(),
            "reference": dict(self.reference), "eta": self.eta, "floor": self.floor, "seed": self.seed,
            "rng": copy.deepcopy(self.rng.bit_generator.state), "epoch": dict(self.epoch),
            "position": dict(self.position), "drawn": self.drawn, "history": copy.deepcopy(self.history),
        }

    def load_state_dict(self, state: dict) -> None:
        if state["names"] != self.names or state["sizes"] != self.sizes:
            raise ValueError("the saved state belongs to other datasets")
        self.weights = np.array(state["weights"])
        self.reference, self.eta, self.floor, self.seed = dict(state["reference"]), state["eta"], state["floor"], state["seed"]
        self.rng = np.random.default_rng()
        self.rng.bit_generator.state = copy.deepcopy(state["rng"])
        self.epoch, self.position = dict(state["epoch"]), dict(state["position"])
        self.drawn, self.history = state["drawn"], copy.deepcopy(state["history"])



def curriculum_dataset(sampler: CurriculumSampler, datasets: dict):
    """A PyTorch ``IterableDataset`` over map-style ``datasets`` (name -> dataset) in the
    sampler's order; each item gains its dataset's name. Call ``sampler.update`` between
    batches to re-weight (use ``num_workers=0``: the sampler lives in this process)."""
    from torch.utils.data import IterableDataset

    class _Curriculum(IterableDataset):
        def __iter__(self):
            for name, index in sampler:
                yield {**datasets[name][index], "dataset": name}

    return _Curriculum()
