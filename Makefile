# Two commands set everything up on a fresh machine: `make test` and `make demo`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: install lint services test e2e e2e-celery demo bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[dev]"
	@rm -f $(VENV)/.installed-* && touch $(STAMP)

install: $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy airflow_provider_rtc

services:
	@tools/ensure_services.sh

test: lint services
	$(BIN)/pytest -q -p no:cacheprovider $(PYTEST_ARGS)

# The real-deployment stage: Postgres, the four Airflow components, sandbox and receivers (README).
# Not part of `make test`: it needs the postgresql server binaries (installed when run as root).
e2e: $(STAMP)
	@$(BIN)/python -c 'import psycopg2, selenium, airflow.providers.postgres' 2>/dev/null \
		|| $(BIN)/python -m pip install -q -e ".[dev,e2e]"
	$(BIN)/python -m e2e $(E2E_ARGS)

# The cleanup scenario on a CeleryExecutor deployment: two Celery workers, Redis (OS package
# redis-server, started on a free port) as broker and as the rate limiter's backend. Its own
# target so `make e2e` stays under 15 minutes on 2 cores; .ci/run runs both.
e2e-celery: $(STAMP)
	@$(BIN)/python -c 'import psycopg2, airflow.providers.celery, redis' 2>/dev/null \
		|| $(BIN)/python -m pip install -q -e ".[dev,e2e]"
	$(BIN)/python -m e2e.celery

demo: $(STAMP)
	$(BIN)/python tools/demo.py

bench: $(STAMP) services
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) .demo build *.egg-info
