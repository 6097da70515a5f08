# Every target bootstraps .venv itself; the install re-runs only when pyproject.toml changes.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench e2e clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/python -m streamlit run app.py --server.headless true

lint: $(STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy

# The report tests convert files with LibreOffice (soffice --headless); they skip
# without it. Installed once with apt where that is possible (CI runs as root).
test: lint
	command -v soffice >/dev/null || (apt-get update -qq && apt-get install -y -qq libreoffice-calc-nogui libreoffice-writer-nogui) || echo "LibreOffice not installed: its tests will skip"
	$(BIN)/python -m pytest -q -m "not e2e"

bench: $(STAMP)
	@for f in benchmarks/bench_*.py; do echo "== $$f"; $(BIN)/python $$f || exit 1; done

# The real-browser test needs Debian's chromium (not Playwright's own download).
e2e: $(STAMP)
	command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium)
	$(BIN)/python -m pip install --quiet -e ".[dev,e2e]"
	$(BIN)/python -m pytest -q -m e2e tests/e2e

clean:
	rm -rf $(VENV)
