"""``rtc-callback-receiver``: run the callback receiver with uvicorn.

Keys are read from the environment (or ``--keys-file``), never from the command line, where any
user of the machine could read them in the process list. For the same reason ``--store-url`` takes
a PostgreSQL URL without its password (libpq reads ``PGPASSWORD`` or ``~/.pgpass``), or give the
whole URL in ``RTC_CALLBACK_STORE_URL``.
"""

from __future__ import annotations

import argparse
import logging
import socket
import sqlite3
import sys
from collections.abc import Sequence
from dataclasses import replace

from airflow_provider_rtc.callbacks.config import ReceiverConfig
from airflow_provider_rtc.callbacks.store_pg import is_postgres_url

log = logging.getLogger("airflow_provider_rtc.callbacks.cli")


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
        "--store-url",
        default=None,
        help="a PostgreSQL store shared by every receiver host, postgresql://user@host:port/database "
        "(no password here: PGPASSWORD, ~/.pgpass, or the whole URL in $RTC_CALLBACK_STORE_URL); "
        "default $RTC_CALLBACK_STORE_URL, else the SQLite file",
    )
    parser.add_argument(
        "--store-schema",
        default=None,
        help="the PostgreSQL store's schema (default $RTC_CALLBACK_STORE_SCHEMA or rtc_callbacks)",
    )
    parser.add_argument(
        "--store-pool-size",
        type=int,
        default=None,
        help="PostgreSQL connections per receiver process (default $RTC_CALLBACK_STORE_POOL_SIZE or 10)",
    )
    parser.add_argument(
        "--sqlite-synchronous",
        choices=["FULL", "NORMAL"],
        type=str.upper,
        default=None,
        help="SQLite file: FULL (default; an acknowledged callback survives a power loss) or NORMAL "
        "(it survives the receiver being killed; no fsync per commit). $RTC_CALLBACK_SQLITE_SYNCHRONOUS",
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
    if args.store_url:
        if not is_postgres_url(args.store_url):
            raise ValueError("--store-url must be a postgresql:// URL")
        from urllib.parse import urlsplit

        if urlsplit(args.store_url).password or "password=" in args.store_url.lower():
            raise ValueError(
                "--store-url holds a password, which every user of this machine can read in the "
                "process list: set it in PGPASSWORD or ~/.pgpass, or the whole URL in RTC_CALLBACK_STORE_URL"
            )
        config = replace(config, store_url=args.store_url)
    if args.sqlite_synchronous:
        config = replace(config, sqlite_synchronous=args.sqlite_synchronous)
    if args.store_schema:
        config = replace(config, store_schema=args.store_schema)
    if args.store_pool_size is not None:
        config = replace(config, store_pool_size=args.store_pool_size)
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

    log.info("rtc-callback-receiver: callbacks stored in %s", config.describe_store())
    try:
        store = open_store(config)
    except (ImportError, OSError, sqlite3.Error) as err:  # a missing driver, an unreachable database
        print(f"rtc-callback-receiver: cannot open the callback store: {err}", file=sys.stderr)
        return 2
    app = create_app(config, store=store)
    # bound here, not by uvicorn, so the line below names the real port (``--port 0``: a free one);
    # uvicorn would print the port it was asked for
    sock = socket.socket(socket.AF_INET6 if ":" in args.host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((args.host, args.port))
    except OSError as err:
        sock.close()
        print(f"rtc-callback-receiver: cannot listen on {args.host}:{args.port}: {err}", file=sys.stderr)
        return 2
    host = f"[{args.host}]" if ":" in args.host else args.host
    print(f"rtc-callback-receiver: listening on http://{host}:{sock.getsockname()[1]}", flush=True)
    server = uvicorn.Server(uvicorn.Config(app, log_level=args.log_level))
    server.run(sockets=[sock])
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
