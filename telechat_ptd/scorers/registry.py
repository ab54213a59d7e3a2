"""Which code scores for each ``scorers.<name>`` key, imported only when that scorer is on
(a job without scorers never imports torch, fasttext or kenlm)."""

from __future__ import annotations

from importlib import import_module

from telechat_ptd.scorers.config import ScorersConfig
from telechat_ptd.scorers.modelpath import check_model

# Scorers run in a plain DoFn (setup() loads the model).
DOFN_SCORERS = {
    "kenlm": ("telechat_ptd.scorers.kenlm_lm", "KenLMScorer"),
    "fasttext": ("telechat_ptd.scorers.fasttext_quality", "FastTextScorer"),
    "toxicity": ("telechat_ptd.scorers.toxicity", "ToxicityScorer"),
}
# Scorers run through Beam's RunInference with our ModelHandler.
HANDLERS = {
    "bert": ("telechat_ptd.scorers.transformer", "SequenceClassifier"),
    "gpt2": ("telechat_ptd.scorers.transformer", "CausalLMPerplexity"),
}


def _load(name: str):
    module, attr = {**DOFN_SCORERS, **HANDLERS}[name]
    return getattr(import_module(module), attr)


def scorer_class(name: str):
    return _load(name)


def model_handler(name: str, cfg: ScorersConfig):
    """The RunInference handler of transformer scorer ``name`` as configured."""
    c = getattr(cfg, name)
    return _load(name)(c.model, batch_size=c.batch_size, max_tokens=c.max_tokens, device=c.device)


def check_models(cfg: ScorersConfig) -> None:
    """Every enabled scorer's model exists and looks complete: called when the pipeline is
    built, so a wrong path fails before any work, naming the key and the path."""
    for name in cfg.enabled():
        check_model(getattr(cfg, name).model, _load(name).REQUIRED, f"scorers.{name}.model")
