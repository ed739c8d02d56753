# The two commands a new user needs: `make up` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: up test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

up: $(STAMP)
	$(BIN)/canopy server --data-dir .canopy

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check .

bench: $(STAMP)
	$(BIN)/python -m bench.apiserver
	$(BIN)/python -m bench.workspaces
	$(BIN)/python -m bench.simcluster
	$(BIN)/python -m bench.syncer
	$(BIN)/python -m bench.diagnosis

clean:
	rm -rf $(VENV) .canopy .pytest_cache
