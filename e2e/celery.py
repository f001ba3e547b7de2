"""`make e2e-celery` / `python -m e2e.celery`: the cleanup scenario on a CeleryExecutor deployment.

Celery/Kubernetes workers run on many machines, so the `host` limiter cannot hold there: this run
proves the `redis` backend does. One throwaway ``redis-server`` on a free loopback port is both
Celery's broker (db 0) and the rate limiter's store (db 1); two ``airflow celery worker``
processes (4 slots each) take the tasks. The scenario is the plain `make e2e` cleanup one: the
seeded event ends with success, nothing left alive, and zero task instances that needed more than
one try (the rate limit held across both workers, so no throttle answer cost a try).
"""

from __future__ import annotations

import sys
import time

from .harness import Deployment, Interrupted, StageError
from .scenarios import CLEANUP, Scenario, cleanup_scenario, run_scenario, setup_connections

WORKERS = 2
WORKER_SLOTS = 4


def celery_deployment(redis_url: str, **kw: object) -> Deployment:
    """A CeleryExecutor deployment with Redis as broker and as the limiter's backend."""
    base = redis_url.rsplit("/", 1)[0]
    env = {
        "AIRFLOW__CELERY__BROKER_URL": f"{base}/0",
        # results go to the metadata database (the provider's default: db+ and sql_alchemy_conn)
        "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(WORKER_SLOTS),
        "AIRFLOW__RTC__RATE_LIMIT_BACKEND": "redis",
        "AIRFLOW__RTC__RATE_LIMIT_REDIS_URL": f"{base}/1",
    }
    workers = [
        # distinct node names; no log server (it would bind a fixed port per worker)
        ["celery", "worker", "--celery-hostname", f"rtc-e2e-{i}@%h", "--skip-serve-logs"]
        for i in range(1, WORKERS + 1)
    ]
    return Deployment(executor="CeleryExecutor", extra_env=env, extra_components=workers, **kw)  # type: ignore[arg-type]


def main(argv: list[str] | None = None) -> int:
    from benchmarks.redis_proc import redis_server

    keep = "--keep" in (argv if argv is not None else sys.argv[1:])
    started = time.monotonic()
    print(f"==> e2e (CeleryExecutor, {WORKERS} workers, Redis broker + redis rate limiter)", flush=True)
    try:
        with redis_server() as redis_url, celery_deployment(redis_url, keep_workdir=keep) as dep:
            print(f"   .. work dir {dep.home.parent} (logs in {dep.logs})", flush=True)
            dep.wait_dags([CLEANUP])
            setup_connections(dep)
            setup_s = time.monotonic() - started
            print(f"==> deployment ready in {setup_s:.1f}s", flush=True)
            dep.check_alive()
            outcome = run_scenario(dep, Scenario("cleanup_celery", cleanup_scenario))
            print(outcome.line(), flush=True)
    except (StageError, FileNotFoundError, RuntimeError) as err:
        print(f"e2e: the Celery deployment failed: {err}", file=sys.stderr)
        return 2
    except (Interrupted, KeyboardInterrupt) as err:
        print(f"e2e: interrupted ({err or 'Ctrl-C'}); every process was stopped", file=sys.stderr)
        return 130
    total = time.monotonic() - started
    print(
        f"==> e2e (Celery): {'1 passed, 0 failed' if outcome.ok else '0 passed, 1 failed'}; "
        f"wall time {total:.1f}s (setup {setup_s:.1f}s)",
        flush=True,
    )
    return 0 if outcome.ok else 1


if __name__ == "__main__":
    sys.exit(main())
