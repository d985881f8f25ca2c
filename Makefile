# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin
CODE = bot storage dialogs domain services manifest tests bench

.PHONY: run test lint clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

# Installs everything, creates the SQLite database, loads the seed report and serves on :3978.
run: $(VENV)/.installed
	$(BIN)/recbot db upgrade
	$(BIN)/recbot import samples/oic-2025-cheshire-pcc-response.txt
	$(BIN)/recbot serve --host 127.0.0.1 --port 3978

# The whole test suite; PostgreSQL tests are skipped (with the reason) when no server answers.
test: $(VENV)/.installed
	$(BIN)/python -m pytest

# Style and types: ruff (lint and format) and mypy over the code; CI runs it before the tests.
lint: $(VENV)/.installed
	$(BIN)/ruff check $(CODE)
	$(BIN)/ruff format --check $(CODE)
	$(BIN)/mypy bot storage dialogs domain services

clean:
	rm -rf $(VENV) recbot.db recbot.db-wal recbot.db-shm build tests/.cache
