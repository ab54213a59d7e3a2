"""Typed settings of the model scorers and their thresholds (defaults in defaults.yaml)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Bucket = Literal["head", "middle", "tail"]
Device = Literal["auto", "cpu", "cuda"]


class _Scorer(BaseModel):
    model_config = ConfigDict(extra="forbid", protected_namespaces=())
    enabled: bool
    model: str | None
    # Languages (as the filters detect them) the model was trained on; other documents get no
    # signal and are never rejected by it. null: every document.
    langs: list[str] | None

    @model_validator(mode="after")
    def _model_when_enabled(self):
        if self.enabled and not self.model:
            raise ValueError("enabled without a model path (set model: to the output of the matching ptd train-* command)")
        return self


class KenLMConfig(_Scorer):
    max_perplexity: float | None = Field(gt=0)
    max_context_ratio: float | None = Field(gt=0)
    drop_buckets: list[Bucket]


class FastTextConfig(_Scorer):
    min_quality: float | None = Field(ge=0, le=1)


class _Transformer(_Scorer):
    batch_size: int = Field(ge=1)
    max_tokens: int = Field(ge=8)
    device: Device


class BertConfig(_Transformer):
    min_quality: float | None = Field(ge=0, le=1)


class GPT2Config(_Transformer):
    max_perplexity: float | None = Field(gt=0)


class ToxicityConfig(_Scorer):
    max_toxicity: float | None = Field(ge=0, le=1)


# Quality scorers run in the scoring stage, cheapest first; the safety stage's model signal
# runs after them (the flow's order: quality, then safety).
QUALITY = ("kenlm", "fasttext", "bert", "gpt2")
SAFETY = ("toxicity",)


class ScorersConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kenlm: KenLMConfig
    fasttext: FastTextConfig
    bert: BertConfig
    gpt2: GPT2Config
    toxicity: ToxicityConfig

    def enabled(self, names: tuple[str, ...] = QUALITY + SAFETY) -> list[str]:
        """Enabled scorers among ``names``, in the order they run and decide in."""
        return [name for name in names if getattr(self, name).enabled]
