# The commands a newcomer needs. `make help` lists them.
SHELL := bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
# The integration tests run on several stacks at once (pytest-xdist): one worker runs every
# test of the shared stack in turn, each `disruptive` test gets a worker and a stack of its
# own. They mostly wait (on alerts' `for`, on scrapes), so there are more workers than cores:
# one per unit of work (the shared group, 6 tests with a stack of their own, the replicas',
# the Kubernetes pods' and the two scenario groups); the suite warns when a new one needs one more.
# Each worker loads pytest's plugins: the fuzzers' (schemathesis, hypothesis), used only by
# tests/unit and bench/, would cost every one of them a second of CPU at the start.
INTEGRATION_WORKERS ?= 11
PARALLEL_STACKS := -n $(INTEGRATION_WORKERS) --dist loadgroup -p no:schemathesis -p no:hypothesispytest

.PHONY: help venv lock lock-check doctor up down logs ps test test-unit test-reliability test-integration test-extended check check-in-compose generate lint format offline-images clean

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  make %-17s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

# uv installs the exact versions of uv.lock (every extra, one lock); its own version is in
# the lock too (the `dev` extra), read from there, so the update bot moves it with the rest.
UV_VERSION = $(shell $(PYTHON) -c 'import tomllib; print(next(p["version"] for p in tomllib.load(open("uv.lock", "rb"))["package"] if p["name"] == "uv"))')
LOCK_FIX := pyproject.toml and uv.lock disagree: run "uv lock" (or "make lock") and commit uv.lock

$(INSTALLED): pyproject.toml uv.lock
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	test -x $(BIN)/uv || $(BIN)/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"
	$(BIN)/uv lock --check --quiet || { echo '$(LOCK_FIX)' >&2; exit 2; }
	UV_PROJECT_ENVIRONMENT=$(VENV) $(BIN)/uv sync --quiet --frozen --extra dev
	touch $@

venv: $(INSTALLED) ## Create .venv and install the lab with its dev tools, exactly as uv.lock says

lock: $(INSTALLED) ## Re-resolve uv.lock after editing pyproject.toml's dependencies
	$(BIN)/uv lock

lock-check: $(INSTALLED) ## Fail when pyproject.toml and uv.lock disagree
	$(BIN)/uv lock --check || { echo '$(LOCK_FIX)' >&2; exit 2; }

up: ## Start the lab (builds the app image on first run)
	docker compose up -d --build --wait

down: ## Stop the lab (add V=1 to delete its data volumes too)
	docker compose down $(if $(V),--volumes,)

logs: ## Follow the app's JSON logs
	docker compose logs -f app

ps: ## Show every service and its health
	docker compose ps

test: test-unit test-reliability test-integration ## Unit, reliability, then integration tests against real containers

test-unit: $(INSTALLED) ## Unit tests only (about a minute on two cores, no Docker)
	$(BIN)/pytest tests/unit -q -n auto

test-reliability: $(INSTALLED) ## Hostile input, slow clients and crashes against the app and the alert sink as local processes (under a minute, no Docker)
	$(BIN)/pytest tests/reliability -m reliability -v

test-integration: $(INSTALLED) ## Integration tests against real compose stacks, several at once (about 4 minutes)
	$(BIN)/pytest tests/integration -m "integration and not extended" -v $(PARALLEL_STACKS)

test-extended: $(INSTALLED) ## The slow integration tests (10+ minutes each: alerts with a long `for`)
	$(BIN)/pytest tests/integration -m "integration and extended" -v $(PARALLEL_STACKS)

doctor: $(INSTALLED) ## Check this machine for the lab (Docker, compose, ports, memory, disk, images, clock)
	$(BIN)/lab doctor

check: $(INSTALLED) ## Run `lab check` against the running lab
	$(BIN)/lab check

check-in-compose: ## Run `lab check` as a one-off compose service (no local Python needed)
	docker compose logs --no-log-prefix --since 5m app | docker compose run -T --rm lab check --logs-stdin

generate: $(INSTALLED) ## Regenerate Prometheus, Alertmanager and Grafana files from lab/spec
	$(BIN)/lab generate

lint: lock-check ## The lock, ruff (lint + format check), mypy, the generated files' drift check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lab generate --check

format: $(INSTALLED) ## Apply ruff's fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

offline-images: ## Build stand-in images from Debian packages (no registry needed; root)
	@echo 'Run: eval "$$(.ci/offline-images)"  (exports the image variables into your shell)'
	.ci/offline-images

clean: ## Remove the virtualenv and caches
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
