"""A StatsD listener on 127.0.0.1 and Airflow's stats pointed at it, as a deployment configures it.

Airflow's StatsD backend needs the ``statsd`` client package. Where it is installed, the backend is
built from the ``[metrics]`` options (``statsd_on``, host, port, ``statsd_influxdb_enabled`` for
tags) exactly as the task runner does; where it is not (the shared dev venv lacks it), Airflow's own
``SafeStatsdLogger`` (name validation, influx tags) is given a minimal UDP client that speaks the
StatsD line protocol. Either way the provider's calls go through ``Stats`` onto a UDP socket.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class Listener:
    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.packets: list[str] = []

    def drain(self) -> list[str]:
        while True:
            try:
                data = self.sock.recv(65535)
            except TimeoutError:
                return self.packets
            self.packets += data.decode().splitlines()

    def counts(self, name: str, **tags: str) -> int:
        """Sum of the counter ``airflow.<name>`` (only packets carrying ``tags``)."""
        total = 0
        for packet in self.drain():
            stat, _, rest = packet.partition(":")
            base, *pairs = stat.split(",")
            if base != f"airflow.{name}" or not rest.endswith("|c"):
                continue
            have = dict(p.split("=", 1) for p in pairs)
            if all(have.get(k) == v for k, v in tags.items()):
                total += int(rest[: -len("|c")])
        return total

    def timers(self, name: str) -> list[float]:
        out = []
        for packet in self.drain():
            stat, _, rest = packet.partition(":")
            if stat.split(",")[0] == f"airflow.{name}" and rest.endswith("|ms"):
                out.append(float(rest[: -len("|ms")]))
        return out


class _UdpClient:
    """The part of ``statsd.StatsClient`` Airflow's logger calls, on the StatsD line protocol."""

    def __init__(self, port: int, prefix: str) -> None:
        self.addr = ("127.0.0.1", port)
        self.prefix = prefix
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)

    def _send(self, stat: str, value: str) -> None:
        self.sock.sendto(f"{self.prefix}.{stat}:{value}".encode(), self.addr)

    def incr(self, stat: str, count: int = 1, rate: float = 1) -> None:
        self._send(stat, f"{count}|c")

    def decr(self, stat: str, count: int = 1, rate: float = 1) -> None:
        self._send(stat, f"{-count}|c")

    def gauge(self, stat: str, value: float, rate: float = 1, delta: bool = False) -> None:
        self._send(stat, f"{value}|g")

    def timing(self, stat: str, delta: Any, rate: float = 1) -> None:
        ms = delta.total_seconds() * 1000 if hasattr(delta, "total_seconds") else delta
        self._send(stat, f"{ms:.3f}|ms")

    def timer(self, stat: str, rate: float = 1) -> _Timer:
        return _Timer(self, stat)


class _Timer:
    """``statsd.Timer``'s start/stop and context manager (Airflow times its own work with it)."""

    def __init__(self, client: _UdpClient, stat: str) -> None:
        self.client, self.stat, self.ms, self._start = client, stat, 0.0, 0.0

    def start(self) -> _Timer:
        self._start = time.monotonic()
        return self

    def stop(self, send: bool = True) -> _Timer:
        self.ms = (time.monotonic() - self._start) * 1000
        if send:
            self.client.timing(self.stat, self.ms)
        return self

    def __enter__(self) -> _Timer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


@contextmanager
def statsd_listener(monkeypatch: Any) -> Iterator[Listener]:
    from airflow.providers.common.compat.sdk import Stats

    listener = Listener()
    for option, value in {
        "STATSD_ON": "True",
        "STATSD_HOST": "127.0.0.1",
        "STATSD_PORT": str(listener.port),
        "STATSD_PREFIX": "airflow",
        "STATSD_INFLUXDB_ENABLED": "True",
    }.items():
        monkeypatch.setenv(f"AIRFLOW__METRICS__{option}", value)
    try:
        import statsd  # noqa: F401
        from airflow.sdk.observability.metrics.stats_utils import get_stats_factory

        factory = get_stats_factory()
    except ImportError:
        from airflow.sdk._shared.observability.metrics.statsd_logger import SafeStatsdLogger

        def factory() -> Any:
            client = _UdpClient(listener.port, "airflow")
            return SafeStatsdLogger(client, influxdb_tags_enabled=True, statsd_influxdb_enabled=True)

    Stats.initialize(factory=factory, export_legacy_names=False)
    try:
        yield listener
    finally:
        from airflow.sdk._shared.observability.metrics.base_stats_logger import NoStatsLogger

        Stats.initialize(factory=NoStatsLogger, export_legacy_names=False)
        listener.sock.close()
