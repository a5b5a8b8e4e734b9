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

# Peer libraries pin older NumPy/SciPy (balance: numpy<2), so they live in their own venv
# and never change what `make test` runs on; ours and theirs are timed in the same process.
BENCH_VENV := .venv-bench
$(BENCH_VENV)/.installed: pyproject.toml
	test -x $(BENCH_VENV)/bin/python || $(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(BENCH_VENV)/bin/python -m pip install --quiet -e '.[test,bench]'
	touch $@

# Single-threaded, as the issues measure: small matrices gain nothing from BLAS threads and
# the peers are timed the same way.
bench: $(BENCH_VENV)/.installed
	OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 NUMBA_NUM_THREADS=1 \
	$(BENCH_VENV)/bin/python benchmarks/run.py --out benchmarks/RESULTS.md

# DiD coverage study on 500 synthetic Denmarks (not part of `make test`; ~8 min, docs/COVERAGE.md).
# One BLAS thread: the work is many small matrices, and threads fight on a shared machine.
.PHONY: coverage
coverage: $(STAMP)
	OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 \
	$(PY) analyses/coverage_study.py --reps 500 --out analyses/results

# Error rates of the activity decision rule over AP_SIMS synthetic Denmarks (seeds 1000...;
# not part of `make test`; ~1.5 s per replication on an idle core, docs/ACTIVITIES.md).
AP_SIMS ?= 2000
.PHONY: activities-power
activities-power: $(STAMP)
	rm -f analyses/results/activities_power_draws.csv
	OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 \
	$(PY) analyses/activities_power.py --sims $(AP_SIMS) --seed 1000 \
	  --draws analyses/results/activities_power_draws.csv --out analyses/results/activities_power.csv
	gzip -f analyses/results/activities_power_draws.csv

lint: $(STAMP)
	$(VENV)/bin/ruff check botrygt_eval tests benchmarks analyses
	$(VENV)/bin/ruff format --check botrygt_eval tests benchmarks analyses

clean:
	rm -rf $(VENV) $(BENCH_VENV) $(OUT) .pytest_cache
