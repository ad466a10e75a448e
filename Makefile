# The two README commands: `make run` (main job) and `make test` (whole suite).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test lint bench clean

$(STAMP): requirements.txt Makefile
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	# geoclip's declared dependencies pull in transformers; we only need its location-encoder weights.
	$(PY) -m pip install --quiet --no-deps geoclip==1.3.0
	touch $(STAMP)

run: $(STAMP)
	$(PY) -m engine demo

test: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m pytest

bench: $(STAMP)
	$(PY) -m engine.bench encoders --out bench/encoders.json

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
