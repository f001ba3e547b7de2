"""`make e2e` / `python -m e2e`: run every scenario on one real deployment; exit 1 if any failed.

Options: scenario names to run a subset (`python -m e2e cleanup connections`), `--keep` to keep the
work directory (logs, Postgres data) for inspection.
"""

from __future__ import annotations

import argparse
import sys
import time

from .harness import Deployment, Interrupted, StageError
from .scenarios import DAGS, SCENARIOS, run_scenario, setup_connections


def sandbox_args() -> list[str]:
    """A second TRTC SDKAppID in the sandbox, for the scenario that ends room 1234 of one app while
    the other app has a room 1234 too."""
    import json
    import tempfile

    from .discovery import OTHER_APP

    with tempfile.NamedTemporaryFile("w", suffix=".json", prefix="rtc-sandbox-", delete=False) as fh:
        json.dump({"tencent": {"extra_sdk_app_ids": [OTHER_APP]}}, fh)
    return ["--config", fh.name]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m e2e", description=__doc__)
    parser.add_argument("names", nargs="*", help="scenarios to run (default: all)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args(argv)
    chosen = [s for s in SCENARIOS if not args.names or s.name in args.names]
    started = time.monotonic()
    outcomes = []
    print(f"==> e2e: starting a real deployment ({len(chosen)} scenario(s))", flush=True)
    for attempt in (1, 2):
        try:
            with Deployment(keep_workdir=args.keep, sandbox_args=sandbox_args(), stop_grace=5.0) as dep:
                print(f"   .. work dir {dep.home.parent} (logs in {dep.logs})", flush=True)
                try:
                    dep.wait_dags(DAGS)
                    setup_connections(dep)
                except StageError:
                    dep.print_log_tails()
                    raise
                setup_s = time.monotonic() - started
                print(f"==> deployment ready in {setup_s:.1f}s", flush=True)
                for scenario in chosen:
                    dep.check_alive()
                    outcome = run_scenario(dep, scenario)
                    outcomes.append(outcome)
                    print(outcome.line(), flush=True)
        except StageError as err:
            if attempt == 1 and not outcomes:
                # a deployment that never came up ran no scenario: one fresh start (new ports, new
                # work directory) tells a passing fault from a broken build; the first one's logs
                # were printed above
                print(f"e2e: the deployment failed to start ({err}); starting a fresh one", file=sys.stderr)
                continue
            print(f"e2e: the deployment failed: {err}", file=sys.stderr)
            return 2
        except (Interrupted, KeyboardInterrupt) as err:
            print(f"e2e: interrupted ({err or 'Ctrl-C'}); every process was stopped", file=sys.stderr)
            return 130
        break
    failed = [o.name for o in outcomes if o.verdict == "FAIL"]
    total = time.monotonic() - started
    print(
        f"==> e2e: {len(outcomes) - len(failed)} passed, {len(failed)} failed; "
        f"wall time {total:.1f}s (setup {setup_s:.1f}s)",
        flush=True,
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
