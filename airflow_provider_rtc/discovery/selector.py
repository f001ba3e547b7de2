"""Which live resources an event-ending task may touch, validated before any call.

A selector is a dict (templated in the operators)::

    {"room_ids": [...], "room_id_prefix": "conf-", "started_before": "2026-11-29T18:00:00Z",
     "started_after": ..., "idle_for": 600, "older_than": 7200, "allow_all": false}

Rooms are the unit of selection: a room matches when every given condition holds, and its users,
streams and recordings come with it. A Live stream (Live has no rooms) is matched by its stream name
as if it were a room id, and is never idle while it pushes. Mixes name no room in any callback or
API answer, so they match only selectors without ``room_ids``/``room_id_prefix``.

Room ids are typed. In TRTC the numeric room ``1234`` and the string room ``"1234"`` are two rooms:
an ``int`` in ``room_ids`` matches only the numeric room, a ``str`` only the string room. ZEGO room
ids and Live stream names are always strings, so there an ``int`` names the string of its digits
(``1234`` matches ZEGO room ``"1234"``): there is no other room it could mean. ``room_ids`` goes
through the project's one list parser (:func:`~airflow_provider_rtc.validation.id_list`): a list, or
a string holding a JSON or Python-literal list (``"{{ params.rooms }}"``); any other string is one id.

A selector that would match everything is refused unless ``allow_all`` is true: ending a whole
account by accident must take a deliberate flag. Conditions that every room satisfies do not count
as narrowing it: ``older_than`` 0, ``started_before`` now or later, ``started_after`` before
:data:`TIME_FLOOR`, and a prefix shorter than 2 characters.

Times: an item's start is either the cloud's (``started_source: "cloud"``) or the moment the
receiver first saw it (``"first_seen"``, an upper bound of the true start; a missing source counts
as ``"first_seen"``). A time condition matches only when every possible true start satisfies it, so
``older_than``/``started_before`` can be proven from a first-seen time and ``started_after`` cannot.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from airflow_provider_rtc import validation as v
from airflow_provider_rtc.exceptions import RtcValidationError
from airflow_provider_rtc.identity import ID_INT, room_id_type

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
#: no room of these clouds started before this (TRTC, ZEGO and Live's callbacks are younger): a
#: ``started_after`` earlier than it matches every room, so it does not narrow the selector
TIME_FLOOR = dt.datetime(2015, 1, 1, tzinfo=dt.UTC)
#: the longest ``older_than``/``idle_for`` accepted (100 years): larger values are typos, and
#: ``now - timedelta`` past year 1 would overflow
MAX_SECONDS = 100 * 365 * 86400.0
#: epoch seconds up to 9999-12-31T23:59:59Z (what a ``datetime`` can hold)
MAX_EPOCH = 253402300799.0
#: ``started_source`` values: the cloud's own start time, or the receiver's first sight of the item
CLOUD, FIRST_SEEN = "cloud", "first_seen"


def parse_time(value: Any, param: str) -> dt.datetime:
    """ISO 8601 or any pendulum-parsable time, or epoch seconds, as an aware UTC datetime."""
    if isinstance(value, dt.datetime):
        parsed = value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        seconds = v.number(value, param, minimum=0.0, maximum=MAX_EPOCH)
        assert seconds is not None
        parsed = dt.datetime.fromtimestamp(seconds, dt.UTC)
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
    seconds = v.number(value, param, minimum=0.0, maximum=MAX_SECONDS)
    assert seconds is not None
    return seconds


def _room_id(raw: Any, param: str) -> int | str:
    """One room id as given: an ``int`` (a numeric TRTC room) or a non-empty ``str``."""
    if isinstance(raw, bool) or not isinstance(raw, int | str) or raw == "":
        raise RtcValidationError(param, "a room id: a non-empty string or an integer", raw)
    return raw


def parse_room_ids(value: Any, param: str = "selector.room_ids") -> frozenset[int | str]:
    """Typed room ids; a list (or a rendered list) goes through the one list parser."""
    if isinstance(value, int) and not isinstance(value, bool):
        return frozenset([value])
    if isinstance(value, str) and not value.strip().startswith(("[", "(")):
        return frozenset([_room_id(value, param)])
    if isinstance(value, set | frozenset):
        value = sorted(value, key=_id_order)
    return frozenset(v.id_list(value, param, item=_room_id).items)


def _id_order(room: Any) -> tuple[bool, str]:
    return (isinstance(room, str), str(room))


def typed(room: int | str) -> str:
    """How results show a room id: ``1234 (int)`` or ``"1234" (str)``."""
    return f"{room} (int)" if isinstance(room, int) else f'"{room}" (str)'


@dataclass(frozen=True)
class Selector:
    room_ids: frozenset[int | str] | None = None
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
            room_ids = parse_room_ids(raw["room_ids"])
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
        if self.room_ids is not None and prefix and not any(str(r).startswith(prefix) for r in self.room_ids):
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
            idle = [] if self.idle_for is None else ["idle_for"]
            vacuous = [k for k in ("older_than", "started_before", "started_after") if k in self._given]
            if vacuous and not idle:
                raise RtcValidationError(
                    f"selector.{vacuous[0]}",
                    "matches every room (older_than 0, started_before now or later, or started_after "
                    f"before {TIME_FLOOR:%Y-%m-%d}), so it does not narrow the selector; give room_ids, "
                    "room_id_prefix or a real time window, or set allow_all=True to mean it",
                )
            raise RtcValidationError(
                "selector",
                "selects every live resource: give room_ids, room_id_prefix, a time window, idle_for or "
                "older_than, or set allow_all=True to mean it",
            )

    @property
    def _given(self) -> list[str]:
        given = {
            "older_than": self.older_than is not None,
            "started_before": self.started_before is not None,
            "started_after": self.started_after is not None,
        }
        return [k for k, on in given.items() if on]

    @property
    def narrowing(self) -> list[str]:
        """The conditions that can leave a room out (a vacuous guard is not one)."""
        now = dt.datetime.now(dt.UTC)
        conditions = {
            "room_ids": self.room_ids is not None,
            "room_id_prefix": bool(self.room_id_prefix and len(self.room_id_prefix) >= MIN_PREFIX),
            "started_before": self.started_before is not None and self.started_before < now,
            "started_after": self.started_after is not None and self.started_after >= TIME_FLOOR,
            "idle_for": self.idle_for is not None,
            "older_than": self.older_than is not None and self.older_than > 0,
        }
        return [k for k, on in conditions.items() if on]

    @property
    def matches_everything(self) -> bool:
        return not self.narrowing

    @property
    def by_room(self) -> bool:
        """Whether the selector names rooms (then room-less mixes are out of scope)."""
        return self.room_ids is not None or bool(self.room_id_prefix)

    @cached_property
    def _ids_by_type(self) -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
        """(numeric ids as text, string ids, every id as text)."""
        ids = self.room_ids or frozenset()
        ints = frozenset(str(r) for r in ids if isinstance(r, int))
        strs = frozenset(r for r in ids if isinstance(r, str))
        return ints, strs, ints | strs

    def room_name_matches(self, room_id: Any, *, cloud: str | None = None, id_type: str = "") -> bool:
        """The id conditions only.

        With ``cloud="trtc"`` the id's type decides (``id_type``, else the value's JSON type); with
        ZEGO or Live an int names the string of its digits. Without ``cloud`` the comparison is by
        text, both types at once: a pre-filter (reconciliation) that may look at more, never less.
        """
        rid = str(room_id)
        if self.room_ids is not None:
            ints, strs, both = self._ids_by_type
            if cloud == "trtc":
                numeric = (id_type or room_id_type(room_id)) == ID_INT
                if rid not in (ints if numeric else strs):
                    return False
            elif rid not in both:
                return False
        return not (self.room_id_prefix and not rid.startswith(self.room_id_prefix))

    def matches(
        self,
        room_id: Any,
        started_ms: int | None,
        last_activity_ms: int,
        *,
        idle: bool,
        now: dt.datetime,
        cloud: str | None = None,
        id_type: str = "",
        started_source: str | None = None,
    ) -> bool:
        """All conditions, for a room (or a Live stream); ``idle``: no live user and no live stream.

        ``started_source`` other than ``"cloud"`` means ``started_ms`` is an upper bound of the true
        start: ``started_after`` is then never proven.
        """
        if not self.room_name_matches(room_id, cloud=cloud, id_type=id_type):
            return False
        started = None if started_ms is None else dt.datetime.fromtimestamp(started_ms / 1000, dt.UTC)
        if self.started_before and (started is None or started >= self.started_before):
            return False
        if self.started_after and (
            started is None or started <= self.started_after or started_source != CLOUD
        ):
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
            "room_ids": None if self.room_ids is None else sorted(self.room_ids, key=_id_order),
            "room_id_prefix": self.room_id_prefix,
            "started_before": None if self.started_before is None else self.started_before.isoformat(),
            "started_after": None if self.started_after is None else self.started_after.isoformat(),
            "idle_for": self.idle_for,
            "older_than": self.older_than,
            "allow_all": self.allow_all,
        }
