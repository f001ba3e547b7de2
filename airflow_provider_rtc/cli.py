"""``rtc-provider``: the provider's command line, one subcommand per tool (``probe`` so far).

A subcommand module offers ``add_parser(subparsers)``, which sets ``handler`` (args -> exit code).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def build_parser() -> argparse.ArgumentParser:
    from airflow_provider_rtc.probe import cli as probe_cli

    parser = argparse.ArgumentParser(
        prog="rtc-provider", description="Tools of airflow-provider-rtc (TRTC, Live, VOD, ZEGOCLOUD)."
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    probe_cli.add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.handler(args))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
