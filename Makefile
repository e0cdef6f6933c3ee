# Every target creates .venv when absent and installs what it needs, so a fresh clone needs
# nothing but Python 3.11+ and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: dev test faults bench lint typecheck protos protos-check seed status clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,dev]'
	touch $(STAMP)

# Dev mode trusts the x-csd-user header (loopback only); CSD_AUTH_MODE=jwt make dev runs the
# production authentication with a local signing key instead (csd token --as ID).
dev: $(STAMP)
	CSD_AUTH_MODE=$${CSD_AUTH_MODE:-dev} $(BIN)/csd dev

status: $(STAMP)
	$(BIN)/csd status

seed: $(STAMP)
	$(BIN)/csd seed

protos: $(STAMP)
	$(BIN)/python protos/generate.py

protos-check: $(STAMP)
	$(BIN)/python protos/generate.py --check

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy workflows activities services

# The whole suite: generated code current, lint, types, then every test, in TEST_WORKERS
# processes (a file's tests stay together, so its module fixtures start once). The PostgreSQL
# half runs when CSD_TEST_POSTGRES_URL is set (.ci/run sets it).
TEST_WORKERS ?= 2
test: $(STAMP) protos-check lint typecheck
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

# The fault suite: workers lost mid-activity and mid-wait, services and channels down, replies
# lost after commit, the Temporal database gone (each test states its fault).
faults: $(STAMP)
	$(BIN)/python -m pytest -m faults $(PYTEST_ARGS)

# Benchmarks: figures beside their floors, written to bench/results.json and bench/README.md.
bench: $(STAMP)
	$(BIN)/python -m bench.run

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
