"""Which live resources an event-ending task may touch, validated before any call.

A selector is a dict (templated in the operators)::

    {"room_ids": [...], "room_id_prefix": "conf-", "started_before": "2026-11-29T18:00:00Z",
     "started_after": ..., "idle_for": 600, "older_than": 7200, "allow_all": false}

Rooms are the unit of selection: a room matches when every given condition holds, and its users,
streams and recordings come with it. A Live stream (Live has no rooms) is matched by its stream name
as if it were a room id, and is never idle while it pushes. Mixes name no room in any callback or
API answer, so they match only selectors without ``room_ids``/``room_id_prefix``. A selector that
would match everything (empty, or a prefix shorter than 2 characters) is refused unless
``allow_all`` is true: ending a whole account by accident must take a deliberate flag.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from airflow_provider_rtc.exceptions import RtcValidationError

KEYS = (
    "room_ids",
    "room_id_prefix",
    "started_before",
    "started_after",
    "idle_for",
    "older_than",
    "allow_all",
)
MIN_PREFIX = 2


def parse_time(value: Any, param: str) -> dt.datetime:
    """ISO 8601 or any pendulum-parsable time, as an aware UTC datetime."""
    if isinstance(value, dt.datetime):
        parsed = value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        parsed = dt.datetime.fromtimestamp(value, dt.UTC)
    elif isinstance(value, str) and value.strip():
        import pendulum

        try:
            parsed = pendulum.parse(value.strip())  # type: ignore[assignment]
        except Exception:
            raise RtcValidationError(param, "an ISO 8601 or pendulum-parsable time", value) from None
        if not isinstance(parsed, dt.datetime):
            raise RtcValidationError(param, "a date and time, not only a date or a duration", value)
    else:
        raise RtcValidationError(param, "an ISO 8601 or pendulum-parsable time", value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC)


def _seconds(value: Any, param: str) -> float:
    if isinstance(value, bool):
        raise RtcValidationError(param, "a number of seconds >= 0", value)
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise RtcValidationError(param, "a number of seconds >= 0", value) from None
    if seconds < 0 or seconds != seconds:
        raise RtcValidationError(param, "a number of seconds >= 0", value)
    return seconds


@dataclass(frozen=True)
class Selector:
    room_ids: frozenset[str] | None = None
    room_id_prefix: str | None = None
    started_before: dt.datetime | None = None
    started_after: dt.datetime | None = None
    idle_for: float | None = None
    older_than: float | None = None
    allow_all: bool = False

    @classmethod
    def parse(cls, raw: Any, *, allow_all: bool = False) -> Selector:
        """Validate ``raw``; every problem names its key (``selector.<key>``)."""
        if raw is None:
            raw = {}
        if isinstance(raw, str):
            import json

            try:
                raw = json.loads(raw) if raw.strip() else {}
            except ValueError:
                raise RtcValidationError("selector", "a dict (or its JSON)", raw) from None
        if not isinstance(raw, dict):
            raise RtcValidationError("selector", "a dict of " + ", ".join(KEYS), type(raw).__name__)
        for key in raw:
            if key not in KEYS:
                raise RtcValidationError(f"selector.{key}", "is not a selector key; use " + ", ".join(KEYS))
        room_ids = None
        if raw.get("room_ids") is not None:
            ids = raw["room_ids"]
            if isinstance(ids, str | int) and not isinstance(ids, bool):
                ids = [ids]
            if not isinstance(ids, list | tuple | set) or not ids:
                raise RtcValidationError("selector.room_ids", "a non-empty list of room ids", raw["room_ids"])
            if any(isinstance(i, bool) or not isinstance(i, str | int) or str(i) == "" for i in ids):
                raise RtcValidationError(
                    "selector.room_ids", "room ids must be non-empty strings or integers"
                )
            room_ids = frozenset(str(i) for i in ids)
        prefix = raw.get("room_id_prefix")
        if prefix is not None and not isinstance(prefix, str):
            raise RtcValidationError("selector.room_id_prefix", "a string", prefix)
        before = (
            None
            if raw.get("started_before") is None
            else parse_time(raw["started_before"], "selector.started_before")
        )
        after = (
            None
            if raw.get("started_after") is None
            else parse_time(raw["started_after"], "selector.started_after")
        )
        idle = None if raw.get("idle_for") is None else _seconds(raw["idle_for"], "selector.idle_for")
        older = None if raw.get("older_than") is None else _seconds(raw["older_than"], "selector.older_than")
        flag = raw.get("allow_all", False)
        if not isinstance(flag, bool):
            raise RtcValidationError("selector.allow_all", "true or false", flag)
        sel = cls(room_ids, prefix, before, after, idle, older, bool(flag or allow_all))
        sel._check_combinations()
        return sel

    def _check_combinations(self) -> None:
        prefix = self.room_id_prefix
        if self.room_ids is not None and prefix and not any(r.startswith(prefix) for r in self.room_ids):
            raise RtcValidationError(
                "selector.room_id_prefix",
                "no room in selector.room_ids starts with it: together they select nothing",
            )
        if self.started_before and self.started_after and self.started_after >= self.started_before:
            raise RtcValidationError(
                "selector.started_after", "must be earlier than selector.started_before (the window is empty)"
            )
        latest_start = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=self.older_than or 0)
        if (
            self.older_than is not None
            and self.started_after is not None
            and self.started_after > latest_start
        ):
            raise RtcValidationError(
                "selector.older_than",
                "with selector.started_after, no room can have started that long ago",
            )
        if self.allow_all:
            return
        if self.room_id_prefix is not None and len(self.room_id_prefix) < MIN_PREFIX:
            raise RtcValidationError(
                "selector.room_id_prefix",
                f"at least {MIN_PREFIX} characters (a shorter prefix matches nearly everything); "
                "set allow_all=True to mean it",
                self.room_id_prefix,
            )
        if self.matches_everything:
            raise RtcValidationError(
                "selector",
                "selects every live resource: give room_ids, room_id_prefix, a time window, idle_for or "
                "older_than, or set allow_all=True to mean it",
            )

    @property
    def matches_everything(self) -> bool:
        return not (
            self.room_ids is not None
            or (self.room_id_prefix and len(self.room_id_prefix) >= MIN_PREFIX)
            or self.started_before
            or self.started_after
            or self.idle_for is not None
            or self.older_than is not None
        )

    @property
    def by_room(self) -> bool:
        """Whether the selector names rooms (then room-less mixes are out of scope)."""
        return self.room_ids is not None or bool(self.room_id_prefix)

    def room_name_matches(self, room_id: Any) -> bool:
        """The id conditions only: what reconciliation may look at before times are known."""
        rid = str(room_id)
        if self.room_ids is not None and rid not in self.room_ids:
            return False
        return not (self.room_id_prefix and not rid.startswith(self.room_id_prefix))

    def matches(
        self, room_id: Any, started_ms: int | None, last_activity_ms: int, *, idle: bool, now: dt.datetime
    ) -> bool:
        """All conditions, for a room (or a Live stream); ``idle``: no live user and no live stream."""
        if not self.room_name_matches(room_id):
            return False
        started = None if started_ms is None else dt.datetime.fromtimestamp(started_ms / 1000, dt.UTC)
        if self.started_before and (started is None or started >= self.started_before):
            return False
        if self.started_after and (started is None or started <= self.started_after):
            return False
        if self.older_than is not None and (
            started is None or (now - started).total_seconds() < self.older_than
        ):
            return False
        if self.idle_for is not None:
            quiet = (now - dt.datetime.fromtimestamp(last_activity_ms / 1000, dt.UTC)).total_seconds()
            if not idle or quiet < self.idle_for:
                return False
        return True

    def to_dict(self) -> dict[str, Any]:
        return {
            "room_ids": None if self.room_ids is None else sorted(self.room_ids),
            "room_id_prefix": self.room_id_prefix,
            "started_before": None if self.started_before is None else self.started_before.isoformat(),
            "started_after": None if self.started_after is None else self.started_after.isoformat(),
            "idle_for": self.idle_for,
            "older_than": self.older_than,
            "allow_all": self.allow_all,
        }
