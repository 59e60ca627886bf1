# Two entry points (README Quick start): `make demo` and `make test`.
# Both use one local virtualenv in .venv, installed from pyproject.toml: `make demo` (and
# `make bench`) install alvh alone, `make test` alvh with its test extras. A stamp per install
# kind, named by pyproject.toml's hash, says what is installed; an edit of pyproject.toml
# installs again.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HASH := $(shell $(PYTHON) -c "import hashlib;print(hashlib.sha256(open('pyproject.toml','rb').read()).hexdigest()[:12])")
DEMO_STAMP := $(VENV)/.installed-demo-$(HASH)
TEST_STAMP := $(VENV)/.installed-test-$(HASH)
# Removes the stamps of an earlier pyproject.toml.
DROP_OLD_STAMPS := find $(VENV) -maxdepth 1 -name '.installed-*' ! -name '*-$(HASH)' -delete
# pip (25 and later) shows setuptools' notice on every editable install that maps a package to
# another folder (plugins/ -> rules_engine_plugins): "be careful with folders named like your
# package". Ours are the package itself, so that one notice is silenced; every other warning shows.
PIP_INSTALL := PYTHONWARNINGS="ignore:Editable installation:UserWarning" $(BIN)/python -m pip \
	install --quiet

.PHONY: demo test bench clean bytecode

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(DEMO_STAMP): pyproject.toml | $(BIN)/python
	$(PIP_INSTALL) -e .
	$(DROP_OLD_STAMPS)
	touch $@

# The test extras include alvh itself, so this install serves the demo too.
$(TEST_STAMP): pyproject.toml | $(BIN)/python
	$(PIP_INSTALL) -e ".[test]"
	$(DROP_OLD_STAMPS)
	touch $@ $(DEMO_STAMP)

# An editable install leaves the sources uncompiled; where PYTHONDONTWRITEBYTECODE is set every
# run would compile them again (~0.05 s of each recompute). Compiling is cheap when up to date.
bytecode: $(DEMO_STAMP)
	$(BIN)/python -m compileall -q rules_engine plugins > /dev/null

demo: bytecode
	mkdir -p build
	cp workbooks/example.xlsx build/example.xlsx
	$(BIN)/alvh recompute build/example.xlsx

test: $(TEST_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy rules_engine plugins
	$(BIN)/pytest

bench: bytecode
	$(BIN)/python benchmarks/bench_recompute.py
	$(BIN)/python benchmarks/bench_signals.py
	$(BIN)/python benchmarks/bench_grid.py
	$(BIN)/python benchmarks/bench_live.py

clean:
	rm -rf $(VENV) build
