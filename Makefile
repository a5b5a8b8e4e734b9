# The two commands: `make demo` (set up + whole chain on synthetic data) and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
OUT ?= out
SEED ?= 2018

.PHONY: demo test bench lint venv clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	$(PY) -m ipykernel install --prefix $(VENV) --name botrygt-eval --display-name "botrygt-eval" >/dev/null
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/botrygt-eval demo --out $(OUT) --seed $(SEED)

test: $(STAMP)
	$(PY) -m pytest -n 2 -q

bench: $(STAMP)
	$(PY) -m pip install --quiet -e '.[bench]'
	$(PY) benchmarks/run.py --out benchmarks/RESULTS.md

lint: $(STAMP)
	$(VENV)/bin/ruff check botrygt_eval tests benchmarks analyses
	$(VENV)/bin/ruff format --check botrygt_eval tests benchmarks analyses

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache
