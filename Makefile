# chatkit: `make demo` runs the demo, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test bench server browse clean-data help

help:
	@echo "make demo   build the demo archive in ./data and browse it (Datasette)"
	@echo "make test   run the whole test suite"
	@echo "make bench  run the benchmarks (prints side-by-side ratios)"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(VENV)/.dev-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@ $(VENV)/.installed

demo: $(VENV)/.installed
	@if [ -e data/client.db ] || [ -e data/server.db ]; then \
		echo "data/ already holds an archive: browsing it (rebuild with: $(BIN)/chatkit demo --force)"; \
	else \
		$(BIN)/chatkit demo; \
	fi
	$(BIN)/chatkit browse

test: $(VENV)/.dev-installed
	$(BIN)/python -m pytest

bench: $(VENV)/.dev-installed
	$(BIN)/python -m bench

server: $(VENV)/.installed
	$(BIN)/chatkit server

clean-data:
	rm -f data/*.db data/*.db-wal data/*.db-shm data/session.json
