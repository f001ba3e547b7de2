"""Usage of the emulated account: deterministic, plausible numbers per day, app and usage key.

Every value is a function of (account or SdkAppId, Beijing date, series, key) only, so the same
request always gets the same numbers and a window split differently sums to the same totals. Days
after the sandbox's current Beijing date have no data; the current day is partial (scaled by the
elapsed part of the day), as the clouds' own "today" is. Every query is logged with its window and
the monotonic time it arrived, so tests can check how a client split and paced a long range.

Usage also grows with live minutes: DescribeTrtcUsage adds every user-second spent in a sandbox TRTC
room (per the sandbox clock) under ``Audio``, so a test can advance a manual clock and see usage grow;
config ``usage_baseline: false`` drops the synthetic numbers, leaving only those live minutes.

Decisions where the vendors are silent (UNCONFIRMED):

* DescribeRelayUsage's UsageKey list is not documented with an example; it mirrors
  DescribeTrtcUsage's resolution keys.
* Query windows: TRTC usage APIs accept at most 31 dates (StartTime..EndTime inclusive) and answer
  ``InvalidParameter.QueryScaleOversize`` beyond; DescribeTrtcRoomUsage accepts at most 24 hours and
  answers ``InvalidParameter``; the Live APIs answer ``InvalidParameterValue`` beyond 31 days
  (bandwidth; 1 day at 5-minute granularity) or 90 days (transcoding).
* Live answers carry times as UTC ISO 8601 (``2026-11-01T16:00:00Z``), the current SDKs' format.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
import time
from dataclasses import dataclass

BEIJING = dt.timezone(dt.timedelta(hours=8))

TRTC_KEYS = ("Audio", "SD", "HD", "FullHD", "2K", "4K")
#: DescribeTrtcRoomUsage's CSV header keys, spelt as its page's example (647/89181): "hd", not "HD"
ROOM_CSV_KEYS = ("Audio", "SD", "hd", "FullHD", "2K", "4K")
MIX_KEYS = (
    "Audio",
    "SDH264",
    "HDH264",
    "FullHDH264",
    "2KH264",
    "4KH264",
    "SDH265",
    "HDH265",
    "FullHDH265",
    "2KH265",
    "4KH265",
)
#: typical daily minutes per key for one app (scaled by a deterministic 0.6..1.4 factor)
_BASE_MINUTES = {
    "Audio": 4200,
    "SD": 1800,
    "HD": 6400,
    "FullHD": 2600,
    "2K": 320,
    "4K": 40,
}
_SERIES_WEIGHT = {"trtc": 1.0, "recording/single": 0.35, "recording/multi": 0.2, "mix": 0.25}
TRANSCODE_SPECS = (
    ("liveprocessor_H264", "1280*720"),
    ("liveprocessor_H264", "1920*1080"),
    ("topspeed_H265", "1280*720"),
)


def fraction(*parts: object) -> float:
    """A stable pseudo-random number in [0, 1) from its inputs (no process-seeded hash())."""
    digest = hashlib.sha256("|".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


@dataclass(frozen=True)
class UsageQuery:
    """One usage request as received: the API, the window as sent, and when it arrived."""

    action: str
    start: str
    end: str
    at: float


class UsageBackend:
    """Numbers and the query log; thread-safe (the log is the only state)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.queries: list[UsageQuery] = []

    def reset(self) -> None:
        with self._lock:
            self.queries.clear()

    def record(self, action: str, start: str, end: str) -> None:
        with self._lock:
            self.queries.append(UsageQuery(action, start, end, time.monotonic()))

    def log(self, action: str | None = None) -> list[UsageQuery]:
        with self._lock:
            return [q for q in self.queries if action is None or q.action == action]

    # -- values ----------------------------------------------------------------------------------

    @staticmethod
    def completeness(day: dt.date, now: float) -> float:
        """1 for a past Beijing day, the elapsed part of today, 0 for a future day."""
        now_bj = dt.datetime.fromtimestamp(now, BEIJING)
        if day < now_bj.date():
            return 1.0
        if day > now_bj.date():
            return 0.0
        midnight = dt.datetime(day.year, day.month, day.day, tzinfo=BEIJING)
        return (now_bj - midnight).total_seconds() / 86400

    def minutes(self, owner: object, day: dt.date, series: str, key: str, now: float) -> int:
        """Whole minutes of ``key`` in ``series`` (e.g. ``trtc``, ``recording/single``) on ``day``."""
        base = _BASE_MINUTES.get(key.replace("H264", "").replace("H265", ""), 500)
        weight = _SERIES_WEIGHT.get(series, 0.15)
        if key.endswith("H265"):
            weight *= 0.3
        weekend = 0.7 if day.weekday() >= 5 else 1.0
        value = base * weight * weekend * (0.6 + 0.8 * fraction(owner, day, series, key))
        return int(value * self.completeness(day, now))

    def room_seconds(self, app: int, day: dt.date, now: float) -> list[tuple[str, list[int]]]:
        """Per room, seconds per TRTC key on ``day`` (3..7 rooms, ids stable per app and day)."""
        rooms = 3 + int(fraction(app, day, "rooms") * 5)
        out = []
        for index in range(rooms):
            room = f"room-{1 + int(fraction(app, day, 'room', index) * 9000)}"
            share = 0.1 + fraction(app, day, "share", index)
            values = [int(self.minutes(app, day, "trtc", key, now) * 60 * share / rooms) for key in TRTC_KEYS]
            out.append((room, values))
        return sorted(out)

    def bandwidth(self, owner: object, day: dt.date, now: float) -> tuple[float, float]:
        """(peak Mbps, traffic MB) of ``day``."""
        done = self.completeness(day, now)
        peak = round(80 + 420 * fraction(owner, day, "peak"), 3)
        average = peak * (0.25 + 0.15 * fraction(owner, day, "avg"))
        flux = round(average * 86400 / 8 * done, 3)
        return (peak if done else 0.0), flux

    def transcode_minutes(self, owner: object, day: dt.date, spec: tuple[str, str], now: float) -> int:
        value = 300 + 1500 * fraction(owner, day, "transcode", *spec)
        return int(value * self.completeness(day, now))


def spread(total: int, parts: int) -> list[int]:
    """``total`` split into ``parts`` whole numbers that sum to it exactly."""
    quotient, remainder = divmod(total, parts)
    return [quotient + (1 if i < remainder else 0) for i in range(parts)]
