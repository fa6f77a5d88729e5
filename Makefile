# Each target sets itself up: a fresh machine needs only Python 3.11 and make.
SHELL := /bin/bash
.DEFAULT_GOAL := help
UV := $(shell command -v uv 2>/dev/null || echo python3 -m uv)
export FINSYNC_DATA_DIR ?= $(CURDIR)/data
export DAGSTER_HOME ?= $(FINSYNC_DATA_DIR)/dagster
export DO_NOT_TRACK := 1
SCALE ?= 1
DBT := $(UV) run dbt --no-use-colors
DBT_ARGS := --project-dir $(CURDIR)/dbt_project --profiles-dir $(CURDIR)/dbt_project

.PHONY: help setup run dev test lint bench
help:
	@echo "make run   generate the demo enterprise and run the main job headless"
	@echo "make dev   open the Dagster UI on the same definitions"
	@echo "make test  lint, then the test suite"
	@echo "make test-spark  the dbt project on Spark against DuckDB, same lake (minutes)"
	@echo "make bench finsync against plain DuckDB SQL and pandas at scales 1 and 10 (SCALE=...)"
	@echo "make bench-compare  the two newest benches side by side (or OLD=... NEW=...)"

.venv/.synced: pyproject.toml uv.lock
# bytecode compiled once at install: an environment with PYTHONDONTWRITEBYTECODE set (this
# one has) otherwise compiles ~3,000 modules in every process, ~4 s of each run and dbt call
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install --quiet uv
	$(UV) sync --frozen --compile-bytecode
	@touch $@

dbt_project/target/manifest.json: .venv/.synced $(shell find dbt_project -name '*.sql' -o -name '*.yml' -o -name '*.csv' | grep -v target/)
	$(DBT) parse $(DBT_ARGS) --quiet

$(DAGSTER_HOME)/dagster.yaml: orchestration/instance/dagster.yaml
	@mkdir -p $(DAGSTER_HOME)
	cp $< $@

setup: .venv/.synced dbt_project/target/manifest.json $(DAGSTER_HOME)/dagster.yaml

# The UI test drives a real headless browser: Debian's Chromium (Playwright's own
# browser download needs the internet; the package registry does not).
CHROMIUM := /usr/bin/chromium
$(CHROMIUM):
	apt-get update && apt-get install -y chromium

run: setup
	$(UV) run python -m orchestration.run --scale $(SCALE)

dev: setup
	$(UV) run python -m orchestration.dev --scale $(SCALE)

lint: setup
	$(UV) run ruff check .
	$(UV) run ruff format --check .
	cd dbt_project && FINSYNC_DATA_DIR=$$(mktemp -d) $(UV) run sqlfluff lint . --processes 1 --nocolor

test: setup $(CHROMIUM) lint
	$(UV) run pytest -m "not spark"

# The same dbt project built on Spark (local pyspark, Java 17) and on DuckDB from one
# Parquet lake, marts compared (tests/test_spark.py): a JVM and ~400 dbt nodes, minutes.
.PHONY: test-spark
JAVA := /usr/bin/java
$(JAVA):
	apt-get update && apt-get install -y openjdk-17-jre-headless

test-spark: setup $(JAVA)
	$(UV) run --frozen --group spark pytest -m spark

# SCALE given on the command line benchmarks that scale only; otherwise 1 and 10.
BENCH_SCALES := $(if $(filter command line,$(origin SCALE)),$(SCALE),1 10)
bench: setup
	$(UV) run python -m bench $(foreach scale,$(BENCH_SCALES),--scale $(scale))

# OLD and NEW: paths of data/bench/<timestamp>.json files; without them the two newest
.PHONY: bench-compare
bench-compare: .venv/.synced
	$(UV) run python -m bench.compare $(OLD) $(NEW)
