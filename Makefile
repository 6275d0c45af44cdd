# dvctt-pipeline: `make demo` and `make test` work on a fresh clone with nothing else done first.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
export DAGSTER_HOME := $(CURDIR)/dagster_home

.PHONY: install demo test lint ui bench screenshots clean
.PHONY: ui-check

$(INSTALLED): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e ".[dev]"
	touch $(INSTALLED)

install: $(INSTALLED)

demo: install  ## sample Jan–Apr 2022, materialize it through Dagster, print the seed report figures
	$(BIN)/dvctt demo

test: install  ## the test suite
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check .

bench: install  ## issue 13's scenarios, each vs DuckDB alone, then every target met or missed: a month of ROWS dossier snapshots (default 10 million) per SHAPE (default all) with its daily run, the month in FILES files (default 1), 24 months × BACKFILL_ROWS (default 1 million) in one run, a year of one small export per province and day with its daily run; ONLY="month one-file backfill province-files" for a subset
	$(BIN)/python -m benchmarks.run $(if $(ROWS),--rows $(ROWS)) $(if $(FILES),--files $(FILES)) $(if $(SHAPE),--shape $(SHAPE)) $(if $(BACKFILL_ROWS),--backfill-rows $(BACKFILL_ROWS)) $(if $(ONLY),--only $(ONLY))

ui: install  ## the Dagster UI (webserver and daemon) on the same data as the CLI
	$(BIN)/dagster dev -w workspace.yaml

ui-check: install  ## the UI as a newcomer sees it after `make demo`, headless Chromium vs GraphQL
	$(BIN)/python -m pytest tests/operations/test_ui_newcomer.py -q -rs

screenshots: install  ## the README's pictures (docs/img/) from the demo's data, via headless Chromium
	$(BIN)/python docs/img/make_screenshots.py

clean:
	rm -rf data dagster_home/storage dagster_home/history dagster_home/schedules dagster_home/logs

.PHONY: superset superset-ui
superset:  ## Apache Superset (its own venv under data/superset) with the DVCTT dashboard on the serving file; after `make demo`
	$(PYTHON) bi/superset/setup.py

superset-ui:  ## Superset's web server on http://127.0.0.1:8088 (after `make superset`)
	$(PYTHON) bi/superset/setup.py serve
