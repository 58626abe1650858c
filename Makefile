# Two commands do all set-up on a fresh machine:
#   make run   -> create .venv, install sublarr, start the server (sublarr serve)
#   make test  -> create .venv, install sublarr with test extras, run the suite
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin

.PHONY: run test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip "setuptools>=77"

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install -q -e '.[test,postgres]'
	touch $@

# The server: REST API, Socket.IO and the hook/webhook workers on http://127.0.0.1:8767
# (SUBLARR_HOST / SUBLARR_PORT / SUBLARR_DATA_DIR or `sublarr serve --help` to change).
run: $(VENV)/.installed
	$(BIN)/sublarr serve

# In CI (CI=true) or with SUBLARR_START_POSTGRES=1 a throwaway PostgreSQL is installed and
# started so the PostgreSQL tests run; by hand they are skipped with a loud reason.
test: $(VENV)/.installed
	$(BIN)/ruff check .
	@if [ "$$CI" = "true" ] || [ "$$SUBLARR_START_POSTGRES" = "1" ]; then \
		SUBLARR_TEST_POSTGRES_URL="$$(bash .ci/start-postgres)" || exit 1; \
		export SUBLARR_TEST_POSTGRES_URL; \
	fi; \
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed
	$(BIN)/ruff check .

bench: $(VENV)/.installed
	$(BIN)/python -m pip install -q -e '.[test,postgres,bench]'
	@for f in bench/*.py; do echo "== $$f"; $(BIN)/python $$f || exit 1; done

clean:
	rm -rf $(VENV) build *.egg-info
