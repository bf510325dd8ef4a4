# muster: `make demo` runs the system, `make test` runs the whole suite; both set up everything.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PORT ?= 8000
PERSONS ?= 20000

.PHONY: demo test test-sqlite test-postgresql lint bench browser clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "muster needs Python 3.11+"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/muster demo --persons $(PERSONS) --port $(PORT)

test: $(STAMP) browser
	$(BIN)/python scripts/run_tests.py

test-sqlite: $(STAMP)
	$(BIN)/python scripts/run_tests.py --only sqlite

test-postgresql: $(STAMP)
	$(BIN)/python scripts/run_tests.py --only postgresql

# Real-browser tests drive Debian's chromium; install it when we may (root on Debian).
browser:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	  (apt-get install -y -q chromium >/dev/null 2>&1 || (apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null)); } || \
	  echo "chromium is not installed: browser tests will fail under CI=true, skip otherwise"

lint: $(STAMP)
	$(BIN)/ruff check muster tests benchmarks scripts
	$(BIN)/ruff format --check muster tests benchmarks scripts

bench: $(STAMP)
	$(BIN)/python -m pip install -q -e '.[test,bench]'
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) var .pytest_cache
