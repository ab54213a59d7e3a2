"""Shared fixtures: configuration, the real reference data, the sample corpus, shard readers."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import pytest

from telechat_ptd.pipeline.config import load_config

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("PTD_SHARED_DATA", REPO.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def cfg():
    return load_config()


@pytest.fixture(scope="module")
def torch_one_thread():
    """Tiny models train and score many times faster on one thread than with OpenMP threads
    that wait for each other on a busy machine (the scorers' handlers use one too)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not (SHARED / "zh").is_dir():
        pytest.skip(f"reference data not found at {SHARED} (set PTD_SHARED_DATA)")
    return SHARED


@pytest.fixture(scope="session")
def sample_dir(tmp_path_factory) -> Path:
    from telechat_ptd.jobs.sample import write_sample

    out = tmp_path_factory.mktemp("sample")
    write_sample(out)
    return out


def read_jsonl(path: Path) -> list[dict]:
    """Records of a .jsonl, .jsonl.gz or .jsonl.zst shard."""
    data = Path(path).read_bytes()
    if str(path).endswith(".gz"):
        data = gzip.decompress(data)
    elif str(path).endswith(".zst"):
        import zstandard

        data = zstandard.ZstdDecompressor().decompressobj().decompress(data)
    return [json.loads(line) for line in data.decode("utf-8").splitlines() if line]


def read_dir(directory: Path) -> list[dict]:
    return [r for p in sorted(Path(directory).glob("*.jsonl*")) for r in read_jsonl(p)]


# Real-looking documents shared by the filter and normalizer tests.
ZH_NEWS = (
    "国务院新闻办公室今天举行新闻发布会，介绍今年前三季度国民经济运行情况。\n"
    "国家统计局新闻发言人表示，前三季度国内生产总值同比增长，经济运行总体平稳，发展质量稳步提升。"
    "从生产看，农业生产形势较好，工业生产稳定增长，服务业较快发展；从需求看，市场销售稳步恢复，"
    "固定资产投资规模扩大。\n"
    "他同时指出，当前外部环境依然复杂严峻，国内需求仍显不足，经济持续回升向好的基础还需要进一步巩固。"
    "下一阶段，要加大宏观政策实施力度，着力扩大有效需求，推动经济实现质的有效提升和量的合理增长。\n"
    "发布会上，有记者问到就业形势，发言人回答说，城镇调查失业率总体下降，重点群体就业基本稳定，"
    "居民收入继续增长，物价水平温和上涨，这些都为全年目标的实现打下了良好的基础。"
)
EN_ARTICLE = (
    "The city council voted on Tuesday to expand the public library's opening hours, a decision that "
    "officials said would benefit students and working families across the region.\n"
    "Under the new schedule, the main branch will remain open until nine in the evening on weekdays, and "
    "two neighborhood branches will open on Sunday afternoons for the first time in a decade.\n"
    "Library director Maria Lopez said that demand for study space had grown steadily since the pandemic, "
    "and that the change was funded by savings from a new energy efficiency program. She added that the "
    "library would also expand its collection of digital books and offer free classes on computer skills.\n"
    "Several residents spoke in favor of the plan at the meeting, and the measure passed with a large "
    "majority. The new hours will take effect at the beginning of next month."
)


@pytest.fixture
def meta_device(monkeypatch):
    """``auto`` resolves to torch's meta device, which holds no data: a model the trainer moves
    there fails at its first real value, wherever the test runs."""
    import telechat_ptd.device

    real = telechat_ptd.device.resolve_device
    monkeypatch.setattr(telechat_ptd.device, "resolve_device", lambda device: "meta" if device == "auto" else real(device))
