"""``rtc-callback-receiver``: run the callback receiver with uvicorn.

Keys are read from the environment (or ``--keys-file``), never from the command line, where any
user of the machine could read them in the process list.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from dataclasses import replace

from airflow_provider_rtc.callbacks.config import ReceiverConfig


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rtc-callback-receiver",
        description="Receive, verify and store TRTC and ZEGOCLOUD recording callbacks for the RTC sensors. "
        "Keys: RTC_TRTC_CALLBACK_KEY / RTC_TRTC_CALLBACK_KEYS and RTC_ZEGO_CALLBACK_SECRET / "
        "RTC_ZEGO_CALLBACK_SECRETS environment variables, or --keys-file.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8991, help="port (default 8991; rtc-sandbox uses 8990)")
    parser.add_argument(
        "--db", default=None, help="SQLite file (default $RTC_CALLBACK_DB or ./rtc_callbacks.sqlite3)"
    )
    parser.add_argument(
        "--keys-file",
        default=None,
        help='JSON {"trtc": {"*"|SDKAppID: key}, "zego": {...}, "trtc_sdk_app_ids": [SDKAppID, ...]}',
    )
    parser.add_argument(
        "--retention-days",
        type=float,
        default=None,
        help="prune stored events older than this, at start-up and hourly "
        "(default $RTC_CALLBACK_RETENTION_DAYS or 14; 0 keeps them)",
    )
    parser.add_argument(
        "--inventory-retention-days",
        type=float,
        default=None,
        help="prune inventory corrections and ended items older than this, at start-up and hourly "
        "(default $RTC_INVENTORY_RETENTION_DAYS or 7; 0 keeps them)",
    )
    parser.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    return parser


def load_config(args: argparse.Namespace) -> ReceiverConfig:
    config = ReceiverConfig.from_env(db_path=args.db)
    if args.keys_file:
        config = config.with_keys_file(args.keys_file)
    if args.retention_days is not None:
        config = replace(config, retention_days=args.retention_days)
    if args.inventory_retention_days is not None:
        config = replace(config, inventory_retention_days=args.inventory_retention_days)
    return config


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        config = load_config(args)
    except (OSError, ValueError) as err:
        print(f"rtc-callback-receiver: {err}", file=sys.stderr)
        return 2
    if not config.has_keys:
        print(
            "rtc-callback-receiver: no callback key configured (set RTC_TRTC_CALLBACK_KEY and/or "
            "RTC_ZEGO_CALLBACK_SECRET, or --keys-file); every callback would be rejected",
            file=sys.stderr,
        )
        return 2
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )

    import uvicorn

    from airflow_provider_rtc.callbacks.app import create_app, open_store

    app = create_app(config, store=open_store(config))
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
