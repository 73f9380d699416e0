# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
INSTANCE ?= $(or $(SIPAS_INSTANCE),instance)
HOST ?= 127.0.0.1
PORT ?= 5000
# Two pytest workers by default (the suite takes about 6 minutes on 2 cores, twice that
# serially); PYTEST_ARGS= runs it in one process.
PYTEST_ARGS ?= -n 2
PO := $(wildcard survey/translations/*/LC_MESSAGES/messages.po)
MO := $(PO:.po=.mo)
# pip stays silent unless something is wrong (-qq: errors only).
PIP := $(BIN)/pip --disable-pip-version-check -qq

.PHONY: run test install lint bench clean translations

$(BIN)/python:
	@echo "setting up $(VENV) (first run only)"
	@$(PYTHON) -m venv $(VENV)
	@$(PIP) install --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	@$(PIP) install -e .
	@touch $@

$(TEST_STAMP): pyproject.toml | $(BIN)/python
	@$(PIP) install -e '.[test]'
	@touch $@ $(STAMP)

%.mo: %.po $(STAMP)
	@$(BIN)/pybabel -q compile -i $< -o $@

translations: $(MO)

install: $(STAMP) translations
	@:

# Links printed and put in QR codes follow the port unless SIPAS_BASE_URL says otherwise.
run: export SIPAS_BASE_URL ?= http://$(HOST):$(PORT)
run: install
	@if [ -z "$$DATABASE_URL" ] && [ ! -f "$(INSTANCE)/sipas.db" ]; then \
		$(BIN)/sipas init --demo; else $(BIN)/sipas init; fi
	$(BIN)/sipas run --host $(HOST) --port $(PORT)

test: $(TEST_STAMP)
	@$(MAKE) --no-print-directory translations
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
