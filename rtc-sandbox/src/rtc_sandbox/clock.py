"""The sandbox's clock: the wall clock with an adjustable offset, or a manual clock the caller moves.

Signature windows (Tencent 300 s, ZEGO 600 s), business timestamps and every lifecycle timer
(recordings starting and exiting, uploads, late and retried callbacks, rate-limit refills) are
measured against this clock, so tests can replay a published signing vector from years ago without
patching ``time``, and can freeze time and move it by hand (moto's manual state progression):
in ``manual`` mode nothing time-driven happens until ``advance(seconds)`` is called.
"""

from __future__ import annotations

import threading
import time

MODES = ("real", "manual")


class Clock:
    """``time.time()`` plus an offset (``real`` mode), or a frozen instant moved by ``advance``
    (``manual`` mode). ``monotonic()`` is its interval clock: it never goes backwards and, in manual
    mode, moves only with ``advance``."""

    def __init__(self, offset_seconds: float = 0.0, *, mode: str = "real") -> None:
        self._lock = threading.Lock()
        self._offset = float(offset_seconds)
        self._mono_shift = 0.0
        self._manual = False
        self._frozen = 0.0
        self._frozen_mono = 0.0
        self.set_mode(mode)

    # -- reading -------------------------------------------------------------------------------

    def time(self) -> float:
        """Seconds since the epoch, as the emulated clouds see them."""
        if self._manual:
            return self._frozen
        return time.time() + self._offset

    def ms(self) -> int:
        return int(self.time() * 1000)

    def monotonic(self) -> float:
        """The interval clock of timers and rate-limit buckets."""
        if self._manual:
            return self._frozen_mono
        return time.monotonic() + self._mono_shift

    @property
    def mode(self) -> str:
        return "manual" if self._manual else "real"

    @property
    def offset(self) -> float:
        """Seconds this clock is ahead of the wall clock (negative: behind)."""
        return self._frozen - time.time() if self._manual else self._offset

    # -- moving --------------------------------------------------------------------------------

    def set_offset(self, offset_seconds: float) -> None:
        """Read ``offset_seconds`` away from the wall clock; a manual clock jumps there and stays."""
        with self._lock:
            if self._manual:
                self._frozen = time.time() + float(offset_seconds)
            else:
                self._offset = float(offset_seconds)

    def set_now(self, timestamp: float) -> None:
        """Make ``time()`` read ``timestamp`` now; a real clock keeps ticking from there."""
        with self._lock:
            if self._manual:
                self._frozen = float(timestamp)
            else:
                self._offset = float(timestamp) - time.time()

    def set_mode(self, mode: str) -> None:
        """``manual`` freezes both clocks where they are; ``real`` lets them run on from there."""
        if mode not in MODES:
            raise ValueError(f"clock mode must be one of {list(MODES)}, got {mode!r}")
        with self._lock:
            if mode == "manual" and not self._manual:
                self._frozen = time.time() + self._offset
                self._frozen_mono = time.monotonic() + self._mono_shift
                self._manual = True
            elif mode == "real" and self._manual:
                self._offset = self._frozen - time.time()
                self._mono_shift = self._frozen_mono - time.monotonic()
                self._manual = False

    def advance(self, seconds: float) -> float:
        """Move both clocks ``seconds`` forward (either mode); return the new ``time()``."""
        seconds = float(seconds)
        if not seconds >= 0:  # also refuses NaN
            raise ValueError(f"advance takes seconds >= 0, got {seconds}")
        with self._lock:
            if self._manual:
                self._frozen += seconds
                self._frozen_mono += seconds
            else:
                self._offset += seconds
                self._mono_shift += seconds
        return self.time()
