# A fresh machine needs only `make reports` and `make test`; both create .venv when missing.
PYTHON ?= python3.12
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup reports test quick-reports bench lint clean

setup: $(STAMP)

# Re-install when pyproject.toml changes; idempotent otherwise.
$(STAMP): pyproject.toml setup.py
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

reports: setup
	$(BIN)/python -m nll_losses.analyses run --out reports --sweeps

quick-reports: setup
	$(BIN)/python -m nll_losses.analyses run --out reports --quick --sweeps

test: setup
	$(BIN)/python -m pytest

bench: setup
	$(BIN)/python benchmarks/bench_profile.py
	$(BIN)/python benchmarks/bench_cases.py
	$(BIN)/python benchmarks/bench_backends.py
	$(BIN)/python benchmarks/bench_gradients.py
	$(BIN)/python benchmarks/bench_sweeps.py
	$(BIN)/python benchmarks/bench_sweep_band.py
	$(BIN)/python benchmarks/bench_csv.py
	$(BIN)/python benchmarks/bench_large_n.py
	$(BIN)/python benchmarks/bench_study.py

lint: setup
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

clean:
	rm -rf reports/*/ reports/index.html .pytest_cache
