"""``rtc-provider probe``: the probe's command line (registered by :mod:`airflow_provider_rtc.cli`).

Credentials come from Airflow connections, resolved by Airflow's own machinery (``AIRFLOW_CONN_*``
variables, the configured secrets backend, then the metadata database, as ``airflow connections
get`` does), never from the command line.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from airflow_provider_rtc.probe.engine import EXIT_USAGE, GROUPS, ProbeConfigError, run_probe
from airflow_provider_rtc.probe.table import render

EPILOG = (
    "Exit codes: 0 every probed API agrees with the catalog, 1 something differs, "
    "2 bad command line or connection, 3 some calls could not tell (auth, throttle, network). "
    "Destructive APIs are only called on random ids that cannot exist; create/start APIs and "
    "DismissRoom (numeric rooms) are never called; billed APIs need --include-billed."
)


def add_parser(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "probe",
        help="check the catalog's assumptions against a real account, with calls that change nothing",
        description="Call each cataloged API once in a way that cannot change anything and print what "
        "the account answered next to what the provider assumes.",
        epilog=EPILOG,
    )
    parser.add_argument("--conn-id", help="tencentcloud connection (TRTC, Live, VOD)")
    parser.add_argument("--zego-conn-id", help="zegocloud connection")
    parser.add_argument(
        "--clouds",
        help=f"comma-separated subset of {','.join(GROUPS)} (default: every cloud with a connection)",
    )
    parser.add_argument(
        "--include-billed", action="store_true", help="also call APIs that cost money per call"
    )
    parser.add_argument(
        "--live-domain",
        help="a Live push domain of the account: enables DropLiveStream/DescribeLiveStreamState "
        "(on a random stream name)",
    )
    parser.add_argument(
        "--ended-trtc-task",
        metavar="TASK_ID",
        help="a TRTC recording TaskId you know has ended: shows the code an ended task answers "
        "(DescribeCloudRecording, read-only)",
    )
    parser.add_argument("--format", choices=("table", "json"), default="table")
    parser.set_defaults(handler=run)


@contextmanager
def _server_context() -> Iterator[None]:
    """Outside a task, the Task SDK looks connections up in variables and external secrets backends
    only; Airflow's server processes (scheduler, API server) add the metadata database by declaring
    ``_AIRFLOW_PROCESS_CONTEXT=server``. The probe is an admin command like ``airflow connections
    get``, so it does the same for its run (an unset database costs nothing: variables are read
    first, and a failing backend is skipped)."""
    key = "_AIRFLOW_PROCESS_CONTEXT"
    previous = os.environ.get(key)
    if previous is None:
        os.environ[key] = "server"
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(key, None)


@contextmanager
def _logs_to_stderr() -> Iterator[None]:
    """Airflow logs to stdout; the probe's stdout is its table (or JSON for scripts), so the hooks'
    retry messages go to stderr for the run."""
    moved = [
        h
        for h in logging.getLogger().handlers
        if isinstance(h, logging.StreamHandler) and h.stream in (sys.stdout, sys.__stdout__)
    ]
    previous = [h.setStream(sys.stderr) for h in moved]
    try:
        yield
    finally:
        for handler, stream in zip(moved, previous, strict=True):
            handler.setStream(stream)


def run(args: argparse.Namespace) -> int:
    try:
        with _server_context(), _logs_to_stderr():
            result = run_probe(
                tencentcloud_conn_id=args.conn_id,
                zegocloud_conn_id=args.zego_conn_id,
                clouds=args.clouds,
                include_billed=args.include_billed,
                live_domain=args.live_domain,
                ended_trtc_task=args.ended_trtc_task,
            )
    except ProbeConfigError as err:
        print(f"rtc-provider probe: {err}", file=sys.stderr)
        return EXIT_USAGE
    print(render(result, args.format))
    return result.exit_code
