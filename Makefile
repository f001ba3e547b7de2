# Two commands set everything up on a fresh machine: `make test` and `make demo`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

# Bytecode caches on, whatever the calling shell says: with PYTHONDONTWRITEBYTECODE set (this
# machine's shells and CI set it) every process compiles all it imports from source and pytest
# rewrites every test module's asserts again, in each xdist worker, subprocess and deployment
# component: collecting the fast set cost 14.2 s of CPU per process, 4.6 s with the caches. They
# live in .venv and the gitignored __pycache__ folders.
unexport PYTHONDONTWRITEBYTECODE

.PHONY: install install-e2e lint services test test-all coverage docs e2e e2e-celery demo bench release-check compat clean mutate

# dev and e2e are PEP 735 dependency groups (pyproject [dependency-groups]), not published extras.
# Installed with uv (issue 24: CI's install stage), itself bootstrapped with pip into the venv, so a
# fresh machine needs only python3; uv reads no pip config (index, certificates: UV_* variables do).
# If uv cannot install, pip does (`pip install --group` needs pip >= 25.1, hence the upgrade).
UV_INSTALL = $(BIN)/python -m pip install -q "uv>=0.8" && $(BIN)/uv pip install -q --python $(BIN)/python
PIP_INSTALL = $(BIN)/python -m pip install -q --upgrade "pip>=25.1" && $(BIN)/python -m pip install -q
$(STAMP): pyproject.toml rtc-sandbox/pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(UV_INSTALL) -e ./rtc-sandbox -e . --group dev || { echo "uv failed: installing with pip"; \
	$(PIP_INSTALL) -e ./rtc-sandbox -e . --group dev; }
	@rm -f $(VENV)/.installed-* && touch $(STAMP)

install: $(STAMP)

# The `e2e` group (Postgres driver, Celery, Redis, Selenium): make e2e, e2e-celery and bench need it.
# A stamp of its own, so a fresh clone's `make bench` installs it once and later runs skip pip.
E2E_STAMP := $(VENV)/.installed-e2e-$(shell cksum pyproject.toml | cut -d' ' -f1)
$(E2E_STAMP): $(STAMP)
	$(UV_INSTALL) -e ./rtc-sandbox -e . --group dev --group e2e || { echo "uv failed: installing with pip"; \
	$(PIP_INSTALL) -e ./rtc-sandbox -e . --group dev --group e2e; }
	@touch $(E2E_STAMP)

install-e2e: $(E2E_STAMP)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy airflow_provider_rtc
	$(BIN)/lint-imports --no-cache
	$(BIN)/mypy rtc-sandbox/src/rtc_sandbox

services:
	@tools/ensure_services.sh

# `make test`: lint and the fast set (tests marked `slow` left out: real elapsed time, several
# processes, benchmarks, e2e-like runs); `make test-all`: every test (what CI runs). docs/testing.md
# The lint runs beside the fast set (its output printed after the tests'): the type checker and the
# suite each keep one of 2 cores busy, so the lint adds no wall time (issue 24: `make test` <= 3 min).
# The fast set runs on four pytest-xdist workers by default (TEST_WORKERS; TEST_WORKERS= for one
# process): nothing in it measures real elapsed time any more (pacing, throttles and deadlines are
# checked on a clock the test moves; what needs the wall clock is marked `slow`), so a loaded machine
# cannot fail it (tools/flaky_check.sh runs the formerly flaky ones under a CPU burner). Four on two
# cores because much of the set waits on servers and subprocesses (2 workers kept the cores about
# half busy); `--maxschedchunk 2` hands tests out two at a time, longest first (tests/conftest.py's
# LONGEST_FIRST), instead of ~200 consecutive ones, which gave one worker every docs page.
PYTEST := $(BIN)/python -m pytest -q -p no:cacheprovider
TEST_WORKERS ?= -n 4 --maxschedchunk 2
test: $(STAMP) services
	@$(MAKE) --no-print-directory lint > $(VENV)/lint.log 2>&1 & lint=$$!; \
	$(PYTEST) -m "not slow" $(TEST_WORKERS) $(PYTEST_ARGS); tests=$$?; \
	wait $$lint; linted=$$?; echo "--- make lint"; cat $(VENV)/lint.log; \
	if [ $$linted -ne 0 ]; then echo "make lint FAILED"; fi; \
	[ $$tests -eq 0 ] && [ $$linted -eq 0 ]

# test-all: the fast set on TEST_WORKERS, then the slow set in two parts: the `timing` tests (real
# elapsed time measured: pacing at the server, slot gaps, read times) serially, a core to themselves;
# the other slow ones (example DAGs in dag.test(), end-event runs against sandboxes: one process each,
# so serially one core idled) on SLOW_WORKERS (4 xdist workers, one test handed out at a time, the
# longest first: tests/conftest.py; on 2 workers the 43 kept the cores about half busy; issue 24).
# Exit 5 (no test selected by PYTEST_ARGS in one part) is not a failure; the parts together must run
# something.
SLOW_WORKERS ?= -n 4 --maxschedchunk 1
test-all: lint services
	@$(PYTEST) -m "not slow" $(TEST_WORKERS) $(PYTEST_ARGS); fast=$$?; \
	$(PYTEST) -m "slow and not timing" $(SLOW_WORKERS) $(PYTEST_ARGS); slow=$$?; \
	$(PYTEST) -m "slow and timing" $(PYTEST_ARGS); timing=$$?; \
	ok() { [ $$1 -eq 0 ] || [ $$1 -eq 5 ]; }; \
	ok $$fast && ok $$slow && ok $$timing && ! { [ $$fast -eq 5 ] && [ $$slow -eq 5 ] && [ $$timing -eq 5 ]; }

# Line coverage of the provider and the sandbox over every test (coverage.py through pytest-cov).
coverage: $(STAMP) services
	$(PYTEST) --cov=airflow_provider_rtc --cov=rtc_sandbox --cov-report=term:skip-covered $(PYTEST_ARGS)

# The docs site (mkdocs.yml, docs/): warnings are errors, so a broken link, a page missing from the
# nav or an operator reference that no longer imports fails the build. Output in site/.
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

# The real-deployment stage: Postgres, the four Airflow components, sandbox and receivers (README).
# Not part of `make test`: it needs the postgresql server binaries (installed when run as root).
e2e: $(E2E_STAMP)
	$(BIN)/python -m e2e $(E2E_ARGS)

# The cleanup scenario on a CeleryExecutor deployment: two Celery workers, Redis (OS package
# redis-server, started on a free port) as broker and as the rate limiter's backend. Its own
# target so `make e2e` stays under 15 minutes on 2 cores; .ci/run runs both.
e2e-celery: $(E2E_STAMP)
	$(BIN)/python -m e2e.celery

demo: $(STAMP)
	$(BIN)/python tools/demo.py

# `make mutate`: mutation testing (mutmut, pinned in the `mutate` group; pyproject [tool.mutmut]) of the
# modules that hold the promises; prints the score per module and overall, fails under 90%.
# Minutes per module on 2 cores, so outside `make test` and .ci/run. MUTATE_ARGS="--fresh" starts
# over; MUTATE_ARGS="'airflow_provider_rtc.retry.*'" runs one module. docs/testing.md
MUTATE_STAMP := $(VENV)/.installed-mutate-$(shell cksum pyproject.toml | cut -d' ' -f1)
$(MUTATE_STAMP): $(STAMP)
	$(BIN)/python -m pip install -q -e ./rtc-sandbox -e . --group dev --group mutate
	@touch $(MUTATE_STAMP)

mutate: $(MUTATE_STAMP) services
	$(BIN)/python tools/mutate.py $(MUTATE_ARGS)

# The event benchmark runs a real deployment (e2e.harness: Postgres, psycopg2): it needs the e2e group.
bench: $(E2E_STAMP) services
	$(BIN)/python benchmarks/run.py

# Build the sdist and wheel, check them (twine --strict, LICENSE and NOTICE inside), install the wheel
# alone into a fresh venv and ask `airflow providers list` for the provider and its version.
release-check: $(STAMP)
	$(BIN)/python tools/release_check.py

# Every Airflow minor the package declares (3.0-3.3): install as its users do, then registration,
# connection forms and dag.test() of every example DAG (tools/compat_matrix.py). COMPAT_ARGS=3.0 for one.
compat: $(STAMP) services
	$(BIN)/python tools/compat_matrix.py $(COMPAT_ARGS)

clean:
	rm -rf $(VENV) .venv-compat .demo build site *.egg-info mutants
