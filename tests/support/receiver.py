"""The callback receiver's test kit: its keys, a config on the test's own store, a TestClient on a
clock the test gives (the receiver's ZEGO freshness and pruning clock) and a signed ZEGO callback.

One kit for the receiver tests that drive the app through Starlette's TestClient (no socket, no
thread): ``tests/recordings/test_receiver_hardening.py`` and ``tests/mutation/test_receiver_*.py``.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from airflow_provider_rtc.callbacks.app import create_app
from airflow_provider_rtc.callbacks.config import ReceiverConfig
from airflow_provider_rtc.signing.callbacks import zego_callback_signature

with warnings.catch_warnings():  # starlette asks for httpx2, which is not a dependency here
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

__all__ = ["APP", "KEY", "NOW", "SECRET", "ZEGO_APP", "TestClient", "receiver_client", "receiver_config"]

KEY = "trtcKey123"
SECRET = "zegoSecret456"
APP = "1400000001"
ZEGO_APP = "1234567890"
NOW = 1_800_000_000.0  # the receiver's clock (2027-01-15)


def receiver_config(tmp_path: Path, **kw: Any) -> ReceiverConfig:
    """A receiver on ``tmp_path``'s store with the kit's TRTC key and ZEGO secret for every app."""
    kw.setdefault("trtc_keys", {"*": KEY})
    kw.setdefault("zego_secrets", {"*": SECRET})
    return ReceiverConfig(db_path=str(tmp_path / "cb.sqlite3"), **kw)


def receiver_client(cfg: ReceiverConfig, clock: float | Callable[[], float] = NOW) -> TestClient:
    """The app on ``clock`` (a fixed time or a callable); TestClient raises on any server-side
    exception, so a 500 fails the test."""
    read = clock if callable(clock) else (lambda: clock)
    return TestClient(create_app(cfg, clock=read))


def zego_callback(nonce: str = "n-1", timestamp: float = NOW, **fields: Any) -> dict[str, Any]:
    """ZEGO's recording-status callback (event_type 1), signed with the kit's secret at ``timestamp``."""
    ts = str(int(timestamp))
    return {
        "app_id": int(ZEGO_APP),
        "task_id": "X3CgNeE4I1qAAABN",
        "event_type": 1,
        "sequence": 0,
        "detail": {"upload_status": 1, "file_info": []},
        "timestamp": ts,
        "nonce": nonce,
        "signature": zego_callback_signature(SECRET, ts, nonce),
        **fields,
    }
