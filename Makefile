# Two entry points (README Quick start): `make demo` and `make test`.
# Each creates/updates a local virtualenv in .venv from pyproject.toml.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell $(PYTHON) -c "import hashlib,sys;print(hashlib.sha256(open('pyproject.toml','rb').read()).hexdigest()[:12])")

.PHONY: demo test bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

demo: $(STAMP)
	mkdir -p build
	cp workbooks/example.xlsx build/example.xlsx
	$(BIN)/alvh recompute build/example.xlsx

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy rules_engine plugins
	$(BIN)/pytest

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_recompute.py
	$(BIN)/python benchmarks/bench_live.py

clean:
	rm -rf $(VENV) build
