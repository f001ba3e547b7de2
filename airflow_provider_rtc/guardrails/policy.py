"""The caps policy, validated before any call; every problem names its key (``policy.rooms.max_duration``).

Shape (a dict, or its JSON; templated in the operator)::

    {"rooms": {"max_duration": "4h", "idle_timeout": "15m",
               "prefixes": {"vip-": {"max_duration": "8h"}}},
     "recordings": {"max_duration": "2h"}, "mixes": {...}, "relays": {...}, "streams": {...},
     "warn_before": "10m"}

Durations are seconds (a number), ``"90s"``/``"90m"``/``"2h"``/``"1d"`` (combinable: ``"1h30m"``) or
ISO 8601 (``"PT2H"``, ``"P1DT2H"``), all > 0. ``prefixes`` overrides a kind's caps for rooms whose id
(for Live streams: stream name) starts with the prefix; the longest matching prefix wins, and what
it does not set comes from the kind. ``idle_timeout`` is for rooms only. ``warn_before`` (top level,
or the operator's argument, which wins) must be shorter than every ``max_duration`` it applies to.

Kinds and what they cover in the inventory (:mod:`airflow_provider_rtc.discovery`):

* ``rooms``: TRTC and ZEGO rooms; ending a room ends what is in it (DismissRoom/CloseRoom).
* ``recordings``: TRTC cloud recordings, ZEGO cloud recordings; ended alone (their room stays).
* ``mixes``: ZEGO mix tasks and Live mix sessions.
* ``streams``: Live push streams (Live has no rooms: a stream is its "room") and ZEGO streams.
  TRTC streams are a user's upstream, ended only by removing the user (the ender table has no
  TRTC stream API), so a TRTC stream is never capped on its own: cap its room.
* ``relays``: TRTC relay-to-CDN and stream-ingest tasks (StartPublishCdnStream/StartStreamIngest,
  ended by StopPublishCdnStream/StopStreamIngest: the ender table's TRTC ``tasks`` rows). Decision:
  accepted so a policy can state it, but the receiver's inventory has no such kind yet (no TRTC
  callback reports these tasks, and no list API returns them: vendor-review-2.md lists none), so
  nothing is ever classified under it and the operator logs that once. They end with their room.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_rtc import validation as v
from airflow_provider_rtc.exceptions import RtcValidationError

KINDS = ("rooms", "recordings", "mixes", "relays", "streams")
CAP_KEYS = ("max_duration", "idle_timeout", "prefixes")
TOP_KEYS = (*KINDS, "warn_before")
#: the longest duration accepted (100 years): larger values are typos
MAX_SECONDS = 100 * 365 * 86400.0
_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_SHORT = re.compile(r"(\d+(?:\.\d+)?)([smhd])")
_ISO = re.compile(
    r"P(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?"
)
RULE = 'a duration > 0: seconds, "90m"/"2h"/"1h30m"/"1d", or ISO 8601 ("PT2H")'


def duration(value: Any, param: str) -> float:
    """Seconds > 0 from a number, a short form (``"1h30m"``) or ISO 8601 (``"PT1H30M"``)."""
    seconds: float | None = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = v.number(value, param, minimum=0.0, exclusive_minimum=True, maximum=MAX_SECONDS)
    elif isinstance(value, str):
        text = value.strip().lower()
        if re.fullmatch(r"\d+(?:\.\d+)?", text):
            seconds = float(text)
        elif text and _SHORT.sub("", text) == "":
            seconds = sum(float(n) * _UNITS[u] for n, u in _SHORT.findall(text))
        elif (iso := _ISO.fullmatch(text.upper())) and text.upper() not in ("P", "PT") and any(iso.groups()):
            d, h, m, s = (float(g or 0) for g in iso.groups())
            seconds = d * 86400 + h * 3600 + m * 60 + s
    if seconds is None or not 0 < seconds <= MAX_SECONDS:
        raise RtcValidationError(param, RULE, value)
    return seconds


@dataclass(frozen=True)
class Caps:
    """One kind's caps (or a prefix override's, merged with its kind's)."""

    max_duration: float | None = None
    idle_timeout: float | None = None


@dataclass(frozen=True)
class KindPolicy:
    caps: Caps
    prefixes: dict[str, Caps] = field(default_factory=dict)

    def for_room(self, name: str) -> tuple[Caps, str | None]:
        """The caps for a room (or stream) name: the longest matching prefix's, else the kind's."""
        best = max((p for p in self.prefixes if name.startswith(p)), key=len, default=None)
        return (self.caps, None) if best is None else (self.prefixes[best], best)


@dataclass(frozen=True)
class Policy:
    kinds: dict[str, KindPolicy]
    warn_before: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """The normalised policy (seconds), as the caps report carries it."""
        out: dict[str, Any] = {"warn_before": self.warn_before}
        for kind, kp in self.kinds.items():
            entry: dict[str, Any] = {k: val for k, val in vars(kp.caps).items() if val is not None}
            if kp.prefixes:
                entry["prefixes"] = {
                    p: {k: val for k, val in vars(c).items() if val is not None}
                    for p, c in kp.prefixes.items()
                }
            out[kind] = entry
        return out

    @property
    def limits(self) -> list[tuple[str, float]]:
        """Every (key, max_duration) the policy sets, for the ``warn_before`` check."""
        out = []
        for kind, kp in self.kinds.items():
            if kp.caps.max_duration is not None:
                out.append((f"policy.{kind}.max_duration", kp.caps.max_duration))
            for p, c in kp.prefixes.items():
                if c.max_duration is not None:
                    out.append((f"policy.{kind}.prefixes.{p}.max_duration", c.max_duration))
        return out


def _caps(raw: Any, where: str, kind: str, *, base: Caps | None = None, nested: bool = False) -> Caps:
    if not isinstance(raw, dict):
        raise RtcValidationError(
            where, "a dict of max_duration" + (", idle_timeout" if kind == "rooms" else ""), raw
        )
    allowed = ("max_duration", "idle_timeout") if nested else CAP_KEYS
    for key in raw:
        if key not in allowed:
            raise RtcValidationError(f"{where}.{key}", "is not a caps key; use " + ", ".join(allowed))
    if "idle_timeout" in raw and kind != "rooms":
        raise RtcValidationError(
            f"{where}.idle_timeout", "is for rooms only (a recording, mix or stream is never idle)"
        )
    base = base or Caps()
    top = None if raw.get("max_duration") is None else duration(raw["max_duration"], f"{where}.max_duration")
    idle = None if raw.get("idle_timeout") is None else duration(raw["idle_timeout"], f"{where}.idle_timeout")
    caps = Caps(
        top if top is not None else base.max_duration, idle if idle is not None else base.idle_timeout
    )
    if caps.max_duration is None and caps.idle_timeout is None:
        raise RtcValidationError(
            where, "sets no cap: give max_duration" + (" or idle_timeout" if kind == "rooms" else "")
        )
    return caps


def parse_policy(raw: Any, *, warn_before: Any = None) -> Policy:
    """Validate ``raw`` (a dict or its JSON) and ``warn_before`` (which wins over the policy's)."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw) if raw.strip() else None
        except ValueError:
            raw = v.rendered_literal(
                raw, "policy", rule="a dict (or its JSON)", opening=("{",), max_chars=1 << 20, max_depth=6
            )
    if not isinstance(raw, dict) or not raw:
        raise RtcValidationError("policy", "a non-empty dict of " + ", ".join(TOP_KEYS), raw)
    for key in raw:
        if key not in TOP_KEYS:
            raise RtcValidationError(f"policy.{key}", "is not a policy kind; use " + ", ".join(TOP_KEYS))
    kinds: dict[str, KindPolicy] = {}
    for kind in KINDS:
        if raw.get(kind) is None:
            continue
        where = f"policy.{kind}"
        caps = _caps(raw[kind], where, kind)
        prefixes: dict[str, Caps] = {}
        given = raw[kind].get("prefixes") or {}
        if not isinstance(given, dict):
            raise RtcValidationError(f"{where}.prefixes", "a dict of room-id prefix to caps", given)
        for prefix, override in given.items():
            if not isinstance(prefix, str) or not prefix:
                raise RtcValidationError(f"{where}.prefixes", "non-empty room-id prefixes", prefix)
            prefixes[prefix] = _caps(override, f"{where}.prefixes.{prefix}", kind, base=caps, nested=True)
        kinds[kind] = KindPolicy(caps, prefixes)
    if not kinds:
        raise RtcValidationError("policy", "caps for at least one of " + ", ".join(KINDS))
    param = "warn_before" if warn_before not in (None, "") else "policy.warn_before"
    given_warn = warn_before if warn_before not in (None, "") else raw.get("warn_before")
    warn = 0.0
    if given_warn not in (None, "", 0, "0"):
        warn = duration(given_warn, param)
    policy = Policy(kinds, warn)
    for key, cap in policy.limits:
        if warn >= cap:
            raise RtcValidationError(param, f"shorter than {key} ({cap:g}s)", given_warn)
    return policy
