# make run  : create .venv if missing, install, generate the demo pack if missing, run the demo scenario
# make test : create .venv if missing, install, lint (ruff check, ruff format --check, mypy), run the whole test suite
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp

.PHONY: run test lint install system-deps bench clean

$(STAMP): pyproject.toml package-lock.json
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	npm ci --no-audit --no-fund --loglevel=error  # ESLint for reorg/assets/*.js (tests/test_assets.py)
	@touch $(STAMP)

install: $(STAMP)

geodata/demo/SYNTHETIC: | $(STAMP)
	$(PY) -m reorg demo-pack --out geodata/demo

run: $(STAMP) geodata/demo/SYNTHETIC
	$(PY) -m reorg run scenarios/demo.toml

system-deps:
	bash .ci/system-deps.sh

lint: $(STAMP)
	$(PY) -m ruff check reorg tests benchmarks
	$(PY) -m ruff format --check reorg tests benchmarks
	$(PY) -m mypy

test: $(STAMP) system-deps lint
	$(PY) -m pytest -ra

bench: $(STAMP)
	$(PY) benchmarks/run.py

clean:
	rm -rf outputs/demo geodata/demo .pytest_cache
