"""Identifier shapes of each cloud, drawn from a seeded RNG so a seeded run repeats exactly.

RequestIds are not business state and stay random (uuid4 as Tencent sends, 19 digits as ZEGO).
"""

from __future__ import annotations

import base64
import random
import threading
import uuid


class IdFactory:
    """Seeded generator of TaskIds and file ids; thread-safe."""

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(seed)
        self._lock = threading.Lock()

    def reseed(self, seed: int) -> None:
        with self._lock:
            self._rng = random.Random(seed)

    def _bytes(self, n: int) -> bytes:
        with self._lock:
            return bytes(self._rng.getrandbits(8) for _ in range(n))

    def trtc_task_id(self) -> str:
        """Like ``-m9-bVVU7k801X-VX8gO...fTXqywE.``: base64 with ``/``->``-`` and ``=``->``.``."""
        raw = base64.b64encode(self._bytes(31)).decode()
        return raw.replace("/", "-").replace("=", ".")

    def zego_task_id(self) -> str:
        """16 characters, as ``X3CgNeE4I1qAAABN`` in the DescribeRecordStatus example."""
        raw = base64.b64encode(self._bytes(12)).decode()
        return raw.replace("/", "A").replace("+", "B")

    def digits(self, n: int) -> str:
        with self._lock:
            first = str(self._rng.randint(1, 9))
            return first + "".join(str(self._rng.randint(0, 9)) for _ in range(n - 1))

    def hex(self, n: int) -> str:
        return self._bytes((n + 1) // 2).hex()[:n]

    def integer(self, low: int, high: int) -> int:
        with self._lock:
            return self._rng.randint(low, high)


def tencent_request_id() -> str:
    return str(uuid.uuid4())


def zego_request_id() -> str:
    return str(random.SystemRandom().randint(10**18, 10**19 - 1))


def trtc_b64(value: str) -> str:
    """TRTC file names Base64-encode UserIds and string RoomIds with ``/``->``-``, ``=``->``.``."""
    return base64.b64encode(value.encode()).decode().replace("/", "-").replace("=", ".")
