# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
INSTANCE ?= $(or $(SIPAS_INSTANCE),instance)

.PHONY: run test install lint bench clean translations

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(TEST_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@ $(STAMP)

translations: $(STAMP)
	$(BIN)/pybabel compile -d survey/translations >/dev/null

install: $(STAMP) translations

run: install
	@if [ -z "$$DATABASE_URL" ] && [ ! -f "$(INSTANCE)/sipas.db" ]; then \
		$(BIN)/sipas init --demo; else $(BIN)/sipas init; fi
	$(BIN)/sipas run --host 127.0.0.1 --port 5000

test: $(TEST_STAMP) translations
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(TEST_STAMP)
	$(BIN)/ruff check survey analysis tests benchmarks

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_index.py
	$(BIN)/python benchmarks/bench_export.py
	$(BIN)/python benchmarks/bench_desk_submit.py
	$(BIN)/python benchmarks/stress_submissions.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
