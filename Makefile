# The two README commands: `make run` (the dashboard) and `make test` (whole suite); `make demo` is the CLI tour.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

PORT ?= 8501

.PHONY: run demo test lint bench clean

$(STAMP): requirements.txt Makefile
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	# geoclip's declared dependencies pull in transformers; we only need its location-encoder weights.
	$(PY) -m pip install --quiet --no-deps geoclip==1.3.0
	touch $(STAMP)

# The dashboard. Run from the repository root: .streamlit/config.toml (loopback only, headless, no telemetry)
# is read from the working directory.
run: $(STAMP)
	@echo "LocLab dashboard: http://127.0.0.1:$(PORT)  (Ctrl-C stops it; runs are saved to $${LOCLAB_RUNS:-./runs})"
	$(PY) -m streamlit run dashboard/app.py --server.port $(PORT)

demo: $(STAMP)
	$(PY) -m engine demo

test: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m pytest

bench: $(STAMP)
	$(PY) -m engine.bench encoders --out bench/encoders.json

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
