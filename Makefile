# Two commands do all set-up on a fresh machine:
#   make run   -> create .venv, install sublarr, start the server (sublarr serve)
#   make test  -> create .venv, install sublarr with test extras; ruff format + check, mypy, pytest
# make docs rewrites README.md's settings table from sublarr.core.settings.SETTINGS.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin

.PHONY: run test lint typecheck docs bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip "setuptools>=77"

$(VENV)/.installed: $(BIN)/python pyproject.toml core/version.py
	$(BIN)/python -m pip install -q -e '.[test,postgres]'
	touch $@

# The server: REST API, Socket.IO and the hook/webhook workers on http://127.0.0.1:8767.
# Configured like every sublarr command: ~/.config/sublarr/sublarr.toml, SUBLARR_* variables,
# or flags (SUBLARR_ARGS='--config cfg.toml --log-level debug'; `sublarr serve --help`).
run: $(VENV)/.installed
	$(BIN)/sublarr $(SUBLARR_ARGS) serve

# In CI (CI=true) or with SUBLARR_START_POSTGRES=1 a throwaway PostgreSQL is installed and
# started so the PostgreSQL tests run; by hand they are skipped with a loud reason.
# Likewise Redis (CI=true or SUBLARR_START_REDIS=1, .ci/start-redis) for the message-queue tests,
# and Debian's chromium (CI=true or SUBLARR_START_BROWSER=1, .ci/install-chromium) for the web
# page's browser tests (tests/test_web_page.py); without it they skip: "BROWSER NOT TESTED".
test: $(VENV)/.installed
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(MAKE) --no-print-directory typecheck
	@if [ "$$CI" = "true" ] || [ "$$SUBLARR_START_BROWSER" = "1" ]; then bash .ci/install-chromium || exit 1; fi
	@if [ "$$CI" = "true" ] || [ "$$SUBLARR_START_POSTGRES" = "1" ]; then \
		SUBLARR_TEST_POSTGRES_URL="$$(bash .ci/start-postgres)" || exit 1; \
		export SUBLARR_TEST_POSTGRES_URL; \
	fi; \
	if [ "$$CI" = "true" ] || [ "$$SUBLARR_START_REDIS" = "1" ]; then \
		SUBLARR_TEST_REDIS_URL="$$(bash .ci/start-redis)" || exit 1; \
		export SUBLARR_TEST_REDIS_URL; \
	fi; \
	$(BIN)/python -m pytest $(PYTEST_ARGS); status=$$?; \
	bash .ci/stop-services; exit $$status

lint: $(VENV)/.installed
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

# mypy cannot follow pyproject's package-dir mapping (sublarr.core is core/, sublarr.plugins
# is plugins/), so it checks a tree of links with the installed layout; [tool.mypy] says what.
typecheck: $(VENV)/.installed
	@mkdir -p build/typecheck/sublarr
	@ln -sfn ../../../core build/typecheck/sublarr/core
	@ln -sfn ../../../plugins build/typecheck/sublarr/plugins
	$(BIN)/mypy

docs: $(VENV)/.installed
	$(BIN)/python -c "import pathlib, sublarr.core.settings as s; \
		p = pathlib.Path('README.md'); p.write_text(s.with_settings_table(p.read_text()))"

bench: $(VENV)/.installed
	$(BIN)/python -m pip install -q -e '.[test,postgres,bench]'
	@for f in bench/*.py; do echo "== $$f"; $(BIN)/python $$f || exit 1; done

clean:
	rm -rf $(VENV) build *.egg-info
