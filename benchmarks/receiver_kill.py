"""Nothing acknowledged is lost: the standalone receiver killed with SIGKILL during bursts of signed
callbacks, restarted, and sent what was never acknowledged again (as the clouds retry).

:func:`kill_cycles` runs ``rtc-callback-receiver`` (``python -m airflow_provider_rtc.callbacks.cli``)
as a subprocess on SQLite or PostgreSQL; each cycle sends a burst of signed TRTC recording, ZEGO
recording and Live push callbacks from several threads, kills the receiver with SIGKILL at a random
moment of the burst, and restarts it. Each burst also re-sends every callback not yet acknowledged
(the clouds' retries of unacknowledged deliveries) and some acknowledged ones (a retry whose first
answer was lost). After the last cycle the receiver runs once more without a kill until everything
is acknowledged, then the store is read directly:

* ``lost``: acknowledged (2xx) callbacks missing from the store - must be 0;
* ``duplicates_collapsed``: deliveries beyond the first of each stored slot (one row each);
* ``killed_mid_burst``: cycles whose kill came while callbacks were still in flight.

``make test`` runs a few cycles (``tests/callbacks/test_receiver_durability.py``); the benchmark
calls ``kill_cycles(..., cycles=20)``. Imports no Airflow; the receiver's keys go through its
environment, the PostgreSQL URL (with its password) too, never its command line.
"""

from __future__ import annotations

import json
import os
import random
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
TRTC_KEY = "kill-test-trtc-key"
ZEGO_SECRET = "kill-test-zego-secret"
LIVE_KEY = "kill-test-live-key"
SDK_APP_ID = "1400000001"
ZEGO_APP_ID = "1234567890"
LIVE_APPID = "1250000000"


@dataclass
class Callback:
    """One signed delivery the receiver must keep once it says 2xx."""

    cloud: str
    ident: str
    path: str
    body: bytes
    headers: dict[str, str]
    acked: bool = False


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def make_callback(n: int, cloud: str, now: float) -> Callback:
    """A signed callback of ``cloud`` with its own identity ``k<n>``."""
    from airflow_provider_rtc.signing.callbacks import (
        live_callback_sign,
        trtc_callback_sign,
        zego_callback_signature,
    )

    ident = f"k{n}"
    if cloud == "trtc":
        event = {
            "EventGroupId": 3,
            "EventType": 301,
            "CallbackTs": int(now * 1000),
            "EventInfo": {
                "RoomId": f"room-{n}",
                "EventTs": int(now),
                "EventMsTs": int(now * 1000),
                "UserId": "",
                "TaskId": ident,
                "Payload": {"Status": 0},
            },
        }
        body = json.dumps(event).encode()
        headers = {"SdkAppId": SDK_APP_ID, "Sign": trtc_callback_sign(body, TRTC_KEY)}
        return Callback(cloud, ident, "/trtc/callback", body, {"Content-Type": "application/json", **headers})
    if cloud == "zego":
        timestamp, nonce = str(int(now)), secrets.token_hex(8)
        event = {
            "app_id": int(ZEGO_APP_ID),
            "task_id": ident,
            "room_id": f"room-{n}",
            "event_type": 1,
            "sequence": 0,
            "timestamp": timestamp,
            "nonce": nonce,
            "signature": zego_callback_signature(ZEGO_SECRET, timestamp, nonce),
            "detail": {},
        }
        body = json.dumps(event).encode()
        return Callback(cloud, ident, "/zego/callback", body, {"Content-Type": "application/json"})
    t = int(now) + 3600
    event = {
        "appid": int(LIVE_APPID),
        "app": "push.example.com",
        "appname": "live",
        "stream_id": ident,
        "event_type": 1,
        "event_time": int(now),
        "t": t,
        "sign": live_callback_sign(LIVE_KEY, t),
    }
    body = json.dumps(event).encode()
    return Callback(cloud, ident, "/live/callback", body, {"Content-Type": "application/json"})


class Receiver:
    """``rtc-callback-receiver`` as a subprocess on a free port."""

    def __init__(self, store: str, env: dict[str, str], log: Path) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        argv = [sys.executable, "-m", "airflow_provider_rtc.callbacks.cli", "--port", str(self.port)]
        argv += ["--log-level", "warning"]
        if not store.startswith("postgres"):
            argv += ["--db", store]
        with open(log, "ab") as out:
            self.proc = subprocess.Popen(
                argv, cwd=ROOT, env=env, stdout=out, stderr=out, stdin=subprocess.DEVNULL
            )

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the receiver exited with {self.proc.returncode} before serving")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.05)
        raise RuntimeError("the receiver did not answer /healthz in time")

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()


def _send(
    receiver: Receiver,
    queue: list[Callback],
    senders: int,
    stop: threading.Event,
    answers: list[int] | None = None,
) -> int:
    """Send ``queue`` from ``senders`` threads until it is empty or ``stop``; returns the posts made
    (``answers[0]`` counts the answers received, as they come)."""
    answers = [0] if answers is None else answers
    lock = threading.Lock()
    items = list(queue)
    posts = [0]

    def work() -> None:
        with httpx.Client(base_url=receiver.url, timeout=10) as client:
            while not stop.is_set():
                with lock:
                    if not items:
                        return
                    cb = items.pop()
                    posts[0] += 1
                try:
                    answer = client.post(cb.path, content=cb.body, headers=cb.headers)
                except httpx.HTTPError:
                    continue  # killed: not acknowledged, sent again later
                with lock:
                    answers[0] += 1
                if 200 <= answer.status_code < 300:
                    cb.acked = True
                elif answer.status_code not in (502, 503, 504):
                    raise AssertionError(f"{cb.cloud} {cb.ident}: {answer.status_code} {answer.text[:200]}")

    threads = [threading.Thread(target=work, daemon=True) for _ in range(senders)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return posts[0]


def _burst_and_kill(
    receiver: Receiver, queue: list[Callback], senders: int, kill_at: int
) -> tuple[int, bool]:
    """Send ``queue`` and SIGKILL the receiver once ``kill_at`` answers came back (mid-burst, with
    requests in flight); returns (posts made, killed mid-burst)."""
    stop, done = threading.Event(), threading.Event()
    counted: list[int] = []

    answers = [0]

    def burst() -> None:
        counted.append(_send(receiver, queue, senders, stop, answers))
        done.set()

    sender = threading.Thread(target=burst, daemon=True)
    sender.start()
    deadline = time.monotonic() + 120
    while not done.is_set() and time.monotonic() < deadline:
        if answers[0] >= kill_at:
            break
        time.sleep(0.001)
    mid_burst = not done.is_set()
    receiver.kill()
    stop.set()
    sender.join(timeout=60)
    return sum(counted), mid_burst


def _present(location: Any) -> set[str]:
    """Every callback identity the store holds, ``cloud:ident`` (read directly, the receiver dead)."""
    from airflow_provider_rtc.callbacks.lifecycle_store import LifecycleStore
    from airflow_provider_rtc.callbacks.store import CallbackStore

    events, inventory = CallbackStore(location), LifecycleStore(location)
    found = {f"live:{i.ids.get('stream_name')}" for i in inventory.items("live", LIVE_APPID)}
    with events.database.read() as db:
        for cloud, task in db.execute("SELECT cloud, task_id FROM callback_events").fetchall():
            found.add(f"{cloud}:{task}")
    return found


def _deliveries(location: Any) -> tuple[int, int]:
    """(stored slots, deliveries counted) of the callback events."""
    from airflow_provider_rtc.callbacks.store import CallbackStore

    with CallbackStore(location).database.read() as db:
        row = db.execute("SELECT COUNT(*), COALESCE(SUM(deliveries), 0) FROM callback_events").fetchone()
    return int(row[0]), int(row[1])


@contextmanager
def _workdir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="rtc-kill-") as path:
        yield Path(path)


def kill_cycles(
    store_url: str | None = None,
    *,
    store_schema: str = "rtc_callbacks",
    cycles: int = 3,
    burst: int = 150,
    senders: int = 8,
    resend_acked: float = 0.2,
    sqlite_synchronous: str = "FULL",
    seed: int | None = None,
    workdir: str | Path | None = None,
) -> dict[str, Any]:
    """Kill the receiver ``cycles`` times during bursts of ``burst`` new callbacks (plus retries).

    ``store_url``: a ``postgresql://`` URL (its schema ``store_schema``), or ``None`` for a SQLite
    file in ``workdir`` (a temp dir by default) with ``sqlite_synchronous`` (``FULL`` or ``NORMAL``:
    both keep every commit through a killed process). Returns the figures (module docstring); the caller
    asserts ``lost == 0`` (acknowledged, then missing after a kill) and ``missing == 0`` (never
    acknowledged or never stored, once every retry was made).
    """
    from airflow_provider_rtc.callbacks.store_pg import PostgresDatabase, PostgresSettings

    rng = random.Random(seed)
    with _workdir() as tmp:
        base = Path(workdir) if workdir else tmp
        base.mkdir(parents=True, exist_ok=True)
        log = base / "receiver.log"
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "RTC_TRTC_CALLBACK_KEY": TRTC_KEY,
            "RTC_TRTC_CALLBACK_SDK_APP_IDS": SDK_APP_ID,
            "RTC_ZEGO_CALLBACK_SECRET": ZEGO_SECRET,
            "RTC_LIVE_CALLBACK_KEY": LIVE_KEY,
            "RTC_CALLBACK_RETENTION_DAYS": "0",
            "RTC_CALLBACK_SQLITE_SYNCHRONOUS": sqlite_synchronous,
            "RTC_INVENTORY_RETENTION_DAYS": "0",
            # a run of 20 cycles lasts minutes: its first ZEGO callbacks are retried at the end
            "RTC_ZEGO_CALLBACK_MAX_AGE": "3600",
        }
        if store_url:
            env.update(RTC_CALLBACK_STORE_URL=store_url, RTC_CALLBACK_STORE_SCHEMA=store_schema)
            where = "postgres"
            location: Any = PostgresSettings(store_url, schema=store_schema)
        else:
            env.pop("RTC_CALLBACK_STORE_URL", None)
            where = str(base / "callbacks.sqlite3")
            location = where
        clouds = ("trtc", "zego", "live")
        sent: list[Callback] = []
        killed_mid_burst = 0
        posts = 0
        lost: dict[str, int] = {}  # acknowledged but missing after a kill -> the cycle
        started = time.monotonic()
        for _cycle in range(cycles):
            now = time.time()
            fresh = [make_callback(len(sent) + i, clouds[(len(sent) + i) % 3], now) for i in range(burst)]
            sent += fresh
            retries = [cb for cb in sent if not cb.acked and cb not in fresh]
            again = [cb for cb in sent if cb.acked and rng.random() < resend_acked]
            queue = retries + again + fresh
            rng.shuffle(queue)
            receiver = Receiver(where, env, log)
            receiver.wait_ready()
            # killed after a random share of the burst was acknowledged: early, late, anywhere
            kill_at = rng.randint(1, max(1, len(queue) - senders))
            made, mid_burst = _burst_and_kill(receiver, queue, senders, kill_at)
            posts += made
            killed_mid_burst += mid_burst
            # checked now, before a later retry of the same callback could store it again
            present = _present(location)
            for cb in sent:
                key = f"{cb.cloud}:{cb.ident}"
                if cb.acked and key not in present:
                    lost.setdefault(key, _cycle)
        # the cloud's last retries: a receiver left running until everything is acknowledged,
        # then every callback delivered once more (retries whose answer was lost): each collapses
        receiver = Receiver(where, env, log)
        receiver.wait_ready()
        for _ in range(5):
            pending = [cb for cb in sent if not cb.acked]
            if not pending:
                break
            posts += _send(receiver, pending, senders, threading.Event())
        acked = [cb for cb in sent if cb.acked]
        posts += _send(receiver, acked, senders, threading.Event())
        receiver.stop()
        seconds = time.monotonic() - started
        present = _present(location)
        missing = [cb for cb in sent if f"{cb.cloud}:{cb.ident}" not in present]
        slots, deliveries = _deliveries(location)
        if isinstance(location, PostgresSettings):
            PostgresDatabase.close_shared()
        return {
            "backend": "postgres" if store_url else f"sqlite ({sqlite_synchronous})",
            "cycles": cycles,
            "callbacks": len(sent),
            "posts": posts,
            "acknowledged": len(acked),
            "lost": len(lost),
            "lost_examples": sorted(lost)[:5],
            "missing": len(missing) + len(sent) - len(acked),
            "stored_slots": slots,
            "duplicates_collapsed": deliveries - slots,
            "killed_mid_burst": killed_mid_burst,
            "seconds": round(seconds, 1),
        }


def main() -> None:  # pragma: no cover - a manual run: python -m benchmarks.receiver_kill [url]
    url = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("RTC_CALLBACK_STORE_URL")
    print(json.dumps(kill_cycles(url, cycles=20, seed=1), indent=1))


if __name__ == "__main__":  # pragma: no cover
    main()
