# The two commands of the README: `make run` and `make test`. Everything else is what they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint setup chromium fonts

run: setup fonts
	$(BIN)/opsflow serve --demo

# In parallel, one process per core (at most four): each worker has its own SQLite files and its own
# PostgreSQL schema (tests/conftest.py), and every server a test starts takes a free port.
test: setup chromium fonts
	$(BIN)/python -m pytest -n auto --maxprocesses=4

# ruff, then mypy: strict over engine/ and api/ (pyproject.toml [tool.mypy]).
lint: setup
	$(BIN)/ruff check .
	$(BIN)/mypy

setup: $(VENV)/.installed node_modules/.package-lock.json

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

# The pages' browser libraries (bpmn-js, form-js, properties panel), exactly as the lockfile says.
# form-js pulls in @carbon packages whose install step starts IBM's usage telemetry: opted out.
node_modules/.package-lock.json: package-lock.json package.json
	IBM_TELEMETRY_DISABLED=true npm ci --no-audit --no-fund
	touch $@

# The browser tests drive Debian's Chromium (never `playwright install`).
chromium:
	test -x /usr/bin/chromium || { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; }

# The PDF documents embed a CJK font (Debian's Noto Sans CJK).
fonts:
	test -f /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc || { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y fonts-noto-cjk; }
