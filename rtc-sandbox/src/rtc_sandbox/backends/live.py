"""Tencent Cloud Live mix sessions and pushed streams: state and rules only, no HTTP.

Decisions where the reference is silent or UNCONFIRMED:

* CreateCommonMixStream with an existing ``MixStreamSessionId`` updates that session (the docs say
  layouts "can be switched in real time"; that this happens by re-calling Create is UNCONFIRMED),
  but a changed output stream is refused with ``InvalidParameter.SessionOutputStreamChanged``.
* Input streams are not checked against pushed streams: a mix often names streams that start a
  moment later, and no documented code says "input not pushed yet" at creation time.
* Live has no SdkAppId; all sessions and streams belong to the one emulated account.
* DropLiveStream of an inactive or unknown stream succeeds (documented idempotency).
* DescribeLiveStreamOnlineList lists the active streams (not forbidden ones) oldest push first, name
  next (the order is undocumented; a stable one keeps pages disjoint), capped at the documented 20,000.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from typing import Any

from ..errors import SandboxError
from ..lifecycle import LifecycleOutbox

MAX_INPUTS = 16
MAX_ONLINE_LISTED = 20_000
_SESSION_ID = re.compile(r"[A-Za-z0-9_]+")
#: MixStreamTemplateId -> number of inputs it lays out (CreateCommonMixStream doc)
TEMPLATE_INPUTS = {
    10: 2,
    20: 2,
    30: 2,
    40: 2,
    50: 2,
    310: 3,
    390: 3,
    391: 3,
    410: 4,
    510: 5,
    590: 5,
    610: 6,
}
_INPUT_TYPES = {0, 2, 3, 4, 5, 8}


@dataclass
class MixSession:
    session_id: str
    output_stream: str
    output_type: int
    inputs: list[str]
    template_id: int
    created_at: float
    updated_at: float
    updates: int = 0


@dataclass
class PushedStream:
    domain: str
    app: str
    name: str
    state: str = "active"
    pushed_at: float = 0.0


@dataclass
class LiveBackend:
    _lock: threading.RLock = field(default_factory=threading.RLock)
    _sessions: dict[str, MixSession] = field(default_factory=dict)
    _streams: dict[tuple[str, str, str], PushedStream] = field(default_factory=dict)
    lifecycle: LifecycleOutbox = field(default_factory=LifecycleOutbox)
    #: the account APPID that Live callbacks carry (Live has no SdkAppId)
    app_id: int = 1250000000
    _sequence: int = 0
    #: stream names DescribeLiveStreamOnlineList leaves out although they push: the API is documented
    #: "not to be relied on" (Go SDK comment), so tests can make it miss a live stream
    unlisted: set[str] = field(default_factory=set)

    def reset(self) -> None:
        with self._lock:
            self._sessions.clear()
            self._streams.clear()
            self.lifecycle.clear()
            self.unlisted.clear()

    # -- mixing --------------------------------------------------------------------------------

    def create_mix(
        self,
        session_id: str,
        inputs: list[dict[str, Any]],
        output: dict[str, Any],
        now: float,
        *,
        template_id: int = 0,
    ) -> MixSession:
        validate_session_id(session_id)
        if not inputs:
            raise SandboxError("InvalidParameter", "InputStreamList must not be empty.")
        if len(inputs) > MAX_INPUTS:
            raise SandboxError(
                "InvalidParameter.InputNumLimitExceeded", f"At most {MAX_INPUTS} input streams can be mixed."
            )
        layers: set[int] = set()
        names = []
        for item in inputs:
            name = item.get("InputStreamName")
            if not isinstance(name, str) or not name or len(name.encode()) > 80:
                raise SandboxError("InvalidParameter", "InputStreamName must be 1 to 80 bytes.")
            layout = item.get("LayoutParams")
            if not isinstance(layout, dict):
                raise SandboxError("InvalidParameter.InvalidLayerParam", "LayoutParams is required.")
            layer = layout.get("ImageLayer")
            if (
                not isinstance(layer, int)
                or isinstance(layer, bool)
                or not 1 <= layer <= 16
                or layer in layers
            ):
                raise SandboxError(
                    "InvalidParameter.InvalidLayerParam", "ImageLayer must be unique and within [1, 16]."
                )
            input_type = layout.get("InputType", 0)
            if input_type not in _INPUT_TYPES:
                raise SandboxError(
                    "InvalidParameter.InvalidLayerParam", f"InputType {input_type} is not supported."
                )
            layers.add(layer)
            names.append(name)
        if template_id:
            expected = TEMPLATE_INPUTS.get(template_id)
            if expected is None:
                raise SandboxError("InvalidParameter", f"MixStreamTemplateId {template_id} does not exist.")
            if expected != len(inputs):
                raise SandboxError(
                    "InvalidParameter.TemplateNotMatchInputNum",
                    f"Template {template_id} lays out {expected} inputs, got {len(inputs)}.",
                )
        out_name = output.get("OutputStreamName")
        if not isinstance(out_name, str) or not out_name:
            raise SandboxError("InvalidParameter.InvalidOutputStreamID", "OutputStreamName is required.")
        out_type = output.get("OutputStreamType", 0)
        if out_type not in (0, 1):
            raise SandboxError("InvalidParameter.InvalidOutputType", "OutputStreamType must be 0 or 1.")
        if (out_type == 0) != (out_name in names):
            raise SandboxError(
                "InvalidParameter.InvalidOutputType",
                "OutputStreamType 0 needs the output to be an input stream; 1 needs a new stream name.",
            )
        bitrate = output.get("OutputStreamBitRate")
        if bitrate is not None and not (isinstance(bitrate, int) and 1 <= bitrate <= 10000):
            raise SandboxError(
                "InvalidParameter.InvalidBitrate", "OutputStreamBitRate must be within [1, 10000]."
            )
        with self._lock:
            for other in self._sessions.values():
                if other.session_id != session_id and other.output_stream == out_name:
                    raise SandboxError(
                        "InvalidParameter.InvalidOutputStreamID", f"Output stream {out_name} is already used."
                    )
            current = self._sessions.get(session_id)
            if current is not None:
                if current.output_stream != out_name:
                    raise SandboxError(
                        "InvalidParameter.SessionOutputStreamChanged",
                        "The output stream of the same session has changed.",
                    )
                current.inputs = names
                current.template_id = template_id
                current.updated_at = now
                current.updates += 1
                return current
            session = MixSession(session_id, out_name, out_type, names, template_id, now, now)
            self._sessions[session_id] = session
            return session

    def cancel_mix(self, session_id: str) -> None:
        validate_session_id(session_id)
        with self._lock:
            if self._sessions.pop(session_id, None) is None:
                raise SandboxError(
                    "InvalidParameter.CancelSessionNotExist", "The canceled session does not exist."
                )

    # -- streams -------------------------------------------------------------------------------

    def push_stream(
        self, domain: str, app: str, name: str, now: float, state: str = "active"
    ) -> PushedStream:
        with self._lock:
            old = self._streams.get((domain, app, name))
            stream = PushedStream(domain, app, name, state, now)
            self._streams[(domain, app, name)] = stream
            if state == "active" and (old is None or old.state != "active"):
                self._emit(stream, 1, now)
            return stream

    def drop_stream(self, domain: str, app: str, name: str, now: float | None = None) -> None:
        with self._lock:
            stream = self._streams.get((domain, app, name))
            if stream is not None and stream.state == "active":
                del self._streams[(domain, app, name)]
                at = stream.pushed_at if now is None else now
                self._emit(stream, 0, at, push_duration=str(int((at - stream.pushed_at) * 1000)))

    def _emit(self, stream: PushedStream, event_type: int, now: float, **extra: Any) -> None:
        if event_type == 1:
            self._sequence += 1
        self.lifecycle.add(
            "live",
            self.app_id,
            "push",
            event_type,
            now,
            app=stream.domain,
            appname=stream.app,
            stream_id=stream.name,
            channel_id=stream.name,
            sequence=str(self._sequence),
            **extra,
        )

    def online(self, domain: str | None, app: str | None, name: str | None) -> list[PushedStream]:
        """Active streams, oldest push first, optionally filtered (DescribeLiveStreamOnlineList)."""
        with self._lock:
            return sorted(
                (
                    s
                    for s in self._streams.values()
                    if s.state == "active"
                    and (not domain or s.domain == domain)
                    and (not app or s.app == app)
                    and (not name or s.name == name)
                ),
                key=lambda s: (s.pushed_at, s.name),
            )

    def stream_state(self, domain: str, app: str, name: str) -> str:
        with self._lock:
            stream = self._streams.get((domain, app, name))
            return "inactive" if stream is None else stream.state

    def online_streams(
        self, domain: str | None = None, app: str | None = None, name: str | None = None
    ) -> list[PushedStream]:
        """Active streams matching the given filters, in listing order, at most ``MAX_ONLINE_LISTED``."""
        with self._lock:
            found = [
                s
                for s in self._streams.values()
                if s.state == "active"
                and s.name not in self.unlisted
                and domain in (None, s.domain)
                and app in (None, s.app)
                and name in (None, s.name)
            ]
        return sorted(found, key=lambda s: (s.pushed_at, s.name))[:MAX_ONLINE_LISTED]

    # -- introspection -------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "mix_sessions": [
                    {
                        "session_id": s.session_id,
                        "output_stream": s.output_stream,
                        "inputs": list(s.inputs),
                        "template_id": s.template_id,
                        "updates": s.updates,
                    }
                    for s in self._sessions.values()
                ],
                "streams": [
                    {
                        "stream_name": s.name,
                        "domain_name": s.domain,
                        "app_name": s.app,
                        "state": s.state,
                        "pushed_at": s.pushed_at,
                    }
                    for s in self._streams.values()
                ],
                "counts": {"mix_sessions": len(self._sessions), "streams": len(self._streams)},
            }


def validate_session_id(session_id: str) -> None:
    if len(session_id.encode()) > 80 or not _SESSION_ID.fullmatch(session_id):
        raise SandboxError(
            "InvalidParameter",
            "MixStreamSessionId must be at most 80 bytes of letters, digits and underscores.",
        )
