# The two commands: `make run` (the clean job on the embedded sample) and `make test`.
# Both create .venv and install what they need on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: run test bench lab clean-out

$(VENV)/.base: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

# Debian's Chromium renders the inspect HTML report headless in a test; pip cannot provide it.
$(VENV)/.system: $(VENV)/.base
	command -v chromium >/dev/null || { apt-get update -q && apt-get install -y -q --no-install-recommends chromium; }
	touch $@

$(VENV)/.bench: $(VENV)/.base
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	touch $@

run: $(VENV)/.base
	$(BIN)/ptd clean -o out

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
