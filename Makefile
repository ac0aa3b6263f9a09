# Palm Credit — the two commands a newcomer needs: `make demo` and `make test`.
# Each sets up its own virtual environment (.venv) on first use and again when pyproject.toml changes.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
IDE_STAMP := ide-assets/.installed
FONT_STAMP := font-assets/.installed
TEST_WORKERS ?= 2  # pytest-xdist processes per run (make test TEST_WORKERS=0 runs in one)
PALMCREDIT_TEST_POSTGRES ?= postgres://postgres@127.0.0.1:5432/postgres
export PALMCREDIT_TEST_POSTGRES

.PHONY: demo test test-sqlite test-postgres lint schema bench-small install

install: $(STAMP) $(IDE_STAMP) $(FONT_STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit("Python 3.11 or newer is needed" if sys.version_info < (3, 11) else 0)'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

## GraphiQL's files (React, GraphiQL and its CSS) from npm into ide-assets/ (git-ignored), checked by digest,
## so the IDE the service serves needs no internet
$(IDE_STAMP): schema/platform/ide.py | $(STAMP)
	$(BIN)/python -m schema.platform.ide install
	touch $(IDE_STAMP)

## The contracts' typeface: static Regular and Bold Noto Sans SC derived from the variable font a Python package
## brings, into font-assets/ (git-ignored); about half a minute, once
$(FONT_STAMP): domain/credit/contract_fonts.py | $(STAMP)
	$(BIN)/python -m domain.credit.contract_fonts install
	touch $(FONT_STAMP)

## Run the demo: a fresh SQLite county, served with GraphiQL on http://127.0.0.1:8000/graphql
demo: install
	$(BIN)/palmcredit demo

## Run the test suite on SQLite, then on PostgreSQL
test: test-sqlite test-postgres

test-sqlite: install
	PALMCREDIT_TEST_BACKEND=sqlite $(BIN)/python -m pytest -n $(TEST_WORKERS)

test-postgres: install
	@if $(BIN)/python -c "import asyncio, asyncpg, os; asyncio.run(asyncpg.connect(os.environ['PALMCREDIT_TEST_POSTGRES'].replace('postgres://', 'postgresql://', 1), timeout=3))" 2>/dev/null; then \
		PALMCREDIT_TEST_BACKEND=postgres $(BIN)/python -m pytest -n $(TEST_WORKERS); \
	elif [ -n "$$PALMCREDIT_REQUIRE_POSTGRES" ]; then \
		echo "PostgreSQL is not reachable at $$PALMCREDIT_TEST_POSTGRES" >&2; exit 1; \
	else \
		echo "*** PostgreSQL is not reachable at $$PALMCREDIT_TEST_POSTGRES: the PostgreSQL run was SKIPPED."; \
		echo "*** Start PostgreSQL or set PALMCREDIT_TEST_POSTGRES to an admin URL to run it."; \
	fi

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

## Re-print schema.graphql from the code (the tests fail when it differs)
schema: $(STAMP)
	$(BIN)/palmcredit print-schema > schema.graphql

## Every benchmark at its smallest size (CI runs this so none of them rots); drop --small for the real figures
bench-small: $(STAMP) $(FONT_STAMP)
	$(BIN)/python benchmarks/graphql_api.py --small
	$(BIN)/python benchmarks/geo_assign.py --small
	$(BIN)/python benchmarks/decision_chain.py --small
	$(BIN)/python benchmarks/credit/assign_investigators.py --small
	$(BIN)/python benchmarks/credit/contract_pdfs.py --small
	$(BIN)/python benchmarks/credit_factory.py --small
	$(BIN)/python benchmarks/village_screening.py --small
	$(BIN)/python benchmarks/village_dedup.py --small
	$(BIN)/python benchmarks/survey_import.py --small
