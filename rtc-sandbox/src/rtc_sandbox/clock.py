"""Wall clock with an adjustable offset.

Signature windows (Tencent 300 s, ZEGO 600 s) and business timestamps are measured against this
clock, so tests can replay a published signing vector from years ago without patching ``time``.
"""

from __future__ import annotations

import threading
import time


class Clock:
    """``time.time()`` plus an offset that tests and the admin API may move."""

    def __init__(self, offset_seconds: float = 0.0) -> None:
        self._offset = float(offset_seconds)
        self._lock = threading.Lock()

    def time(self) -> float:
        return time.time() + self._offset

    def ms(self) -> int:
        return int(self.time() * 1000)

    @property
    def offset(self) -> float:
        return self._offset

    def set_offset(self, offset_seconds: float) -> None:
        with self._lock:
            self._offset = float(offset_seconds)

    def set_now(self, timestamp: float) -> None:
        """Make ``time()`` read ``timestamp`` now; it keeps ticking from there."""
        with self._lock:
            self._offset = float(timestamp) - time.time()
