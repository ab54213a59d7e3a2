"""The curriculum sampler: weights move to the hard dataset; the stream resumes exactly."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from telechat_ptd.training.curriculum import CurriculumSampler


def take(sampler, n):
    return [next(sampler) for _ in range(n)]


def test_draws_follow_the_weights_and_walk_each_dataset_without_repeats():
    s = CurriculumSampler({"web": 50, "book": 30, "code": 20}, {"web": 0.6, "book": 0.3, "code": 0.1}, seed=3)
    draws = take(s, 20_000)
    share = Counter(name for name, _ in draws)
    assert abs(share["web"] / 20_000 - 0.6) < 0.015 and abs(share["code"] / 20_000 - 0.1) < 0.01
    book = [i for name, i in draws if name == "book"]
    assert sorted(book[:30]) == list(range(30))  # one epoch is a permutation
    assert book[:30] != book[30:60]  # reshuffled the next epoch


def test_update_moves_weight_to_the_dataset_above_its_reference():
    s = CurriculumSampler({"easy": 10, "hard": 10}, {"easy": 0.5, "hard": 0.5}, {"easy": 2.0, "hard": 2.0}, eta=1.0, floor=0.05)
    for _ in range(5):
        w = s.update({"easy": 1.9, "hard": 2.8})
    assert w["hard"] > 0.9 and w["easy"] >= 0.025  # the floor keeps easy in the mix
    assert abs(sum(w.values()) - 1) < 1e-9
    assert [h["weights"]["hard"] for h in s.history] == sorted(h["weights"]["hard"] for h in s.history)
    # below-reference losses change nothing (the excess is clipped at 0)
    s2 = CurriculumSampler({"a": 5, "b": 5}, {"a": 0.3, "b": 0.7}, {"a": 3.0, "b": 3.0}, floor=0.0)
    assert s2.update({"a": 1.0, "b": 2.0}) == pytest.approx({"a": 0.3, "b": 0.7})


def test_state_dict_resumes_the_identical_stream_through_json():
    s = CurriculumSampler({"x": 7, "y": 11, "z": 3}, {"x": 1, "y": 2, "z": 1}, {"x": 1.0, "y": 1.0, "z": 1.0}, seed=9)
    take(s, 100)
    s.update({"x": 1.5, "y": 0.5, "z": 2.0})
    saved = json.loads(json.dumps(s.state_dict()))  # as a checkpoint would store it
    expected = take(s, 200)
    resumed = CurriculumSampler({"x": 7, "y": 11, "z": 3}, {"x": 1, "y": 1, "z": 1}, seed=0)
    resumed.load_state_dict(saved)
    assert take(resumed, 200) == expected
    assert resumed.current_weights() == s.current_weights()
    with pytest.raises(ValueError, match="other datasets"):
        CurriculumSampler({"x": 1}, {"x": 1}).load_state_dict(saved)


def test_as_a_pytorch_iterable_dataset():
    import torch

    from telechat_ptd.training.curriculum import curriculum_dataset

    data = {"a": [{"x": torch.tensor([i])} for i in range(4)], "b": [{"x": torch.tensor([100 + i])} for i in range(4)]}
    sampler = CurriculumSampler({"a": 4, "b": 4}, {"a": 0.0, "b": 1.0}, floor=0.0, seed=1)
    loader = torch.utils.data.DataLoader(curriculum_dataset(sampler, data), batch_size=4)
    batch = next(iter(loader))
    assert batch["dataset"] == ["b"] * 4 and sorted(batch["x"].flatten().tolist()) == [100, 101, 102, 103]
    sampler.update({"a": 5.0, "b": 0.0})  # weights change between batches
    assert sampler.current_weights()["a"] == 0.0  # a had no weight to scale: the floor (0 here) decides
