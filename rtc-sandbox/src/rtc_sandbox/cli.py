"""``rtc-sandbox`` / ``python -m rtc_sandbox``: run the sandbox until SIGINT/SIGTERM.

The first stdout line is one JSON object ``{"url", "connections"}``, flushed at once, so a parent
process can read the port (``--port 0`` picks a free one) and the Airflow connections to use.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from typing import Any

from .config import SandboxConfig
from .faults import FaultRule
from .server import SandboxServer


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rtc-sandbox",
        description="Local emulation of Tencent Cloud TRTC/Live and ZEGOCLOUD server APIs.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8990, help="0 picks a free port")
    parser.add_argument("--config", metavar="FILE", help="JSON config (credentials, seed, limits, faults...)")
    parser.add_argument("--seed-event", action="store_true", help="seed the standard event at start")
    parser.add_argument("--no-rate-limits", action="store_true", help="do not enforce documented QPS limits")
    parser.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="ACTION:KIND:PROB[:COUNT]",
        help="inject a fault (kinds: throttle, internal, http5xx, latency, drop; PROB may be 'once')",
    )
    parser.add_argument("--random-seed", type=int, help="seed of the fault and id RNGs")
    parser.add_argument("--trtc-callback-url", metavar="URL", help="where to POST TRTC recording callbacks")
    parser.add_argument("--trtc-callback-key", metavar="KEY", help="key that signs TRTC callbacks")
    parser.add_argument(
        "--upload-delay", type=float, metavar="SECONDS", help="recording upload time after a stop"
    )
    parser.add_argument("--log-level", default="warning", help="uvicorn log level (stderr)")
    return parser


def config_from_args(args: argparse.Namespace) -> SandboxConfig:
    data: dict[str, Any] = {}
    if args.config:
        with open(args.config) as fh:
            data = json.load(fh)
    cfg = SandboxConfig.from_dict(data)
    if args.random_seed is not None:
        cfg.random_seed = args.random_seed
    if args.no_rate_limits:
        cfg.rate_limits = False
    if args.fault:
        rules = list(cfg.faults.get("rules", []))
        for spec in args.fault:
            rule = FaultRule.parse(spec).to_dict()
            rule.pop("fired")
            rules.append(rule)
        cfg.faults = {**cfg.faults, "rules": rules}
    if args.trtc_callback_url is not None:
        cfg.callbacks.url = args.trtc_callback_url
    if args.trtc_callback_key is not None:
        cfg.callbacks.key = args.trtc_callback_key
    if args.upload_delay is not None:
        cfg.timing.upload_delay = args.upload_delay
    if args.seed_event:
        cfg.seed_event = True
    return cfg


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        cfg = config_from_args(args)
    except (OSError, ValueError) as err:
        parser.error(str(err))
    server = SandboxServer(cfg, host=args.host, port=args.port, log_level=args.log_level)
    stop = threading.Event()

    def on_signal(signum: int, frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    server.start()
    try:
        sys.stdout.write(json.dumps(server.banner()) + "\n")
        sys.stdout.flush()
        while not stop.wait(0.5):
            pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
