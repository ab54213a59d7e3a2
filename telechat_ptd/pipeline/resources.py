"""Everything a job loads on its workers, checked when the job is built: scorer models, the
language-ID model, lexicons and blocklists. A wrong path fails before any work, naming the
config key and the path, instead of sending every document to errors/ mid-job."""

from __future__ import annotations

from telechat_ptd.filters import langid
from telechat_ptd.pipeline.config import Config
from telechat_ptd.safety.blocklist import BlocklistError, check_sources
from telechat_ptd.safety.lexicon import Lexicon, LexiconError
from telechat_ptd.scorers.modelpath import ModelPathError
from telechat_ptd.scorers.registry import check_models

# What check_resources raises: each names the key or the file.
ResourceErrors = (ModelPathError, LexiconError, BlocklistError)


def check_resources(cfg: Config, mode: str) -> None:
    if mode == "dedup":
        return
    check_models(cfg.scorers)
    if cfg.filters.enabled and cfg.filters.lang.lid_model:
        langid.check_model(cfg.filters.lang.lid_model)
    if cfg.safety.lexicon.enabled:
        Lexicon.from_config(cfg.safety.lexicon)  # reads and parses every file
    if cfg.safety.blocklist.enabled:
        check_sources(cfg.safety.blocklist)
