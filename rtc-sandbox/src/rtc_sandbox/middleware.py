"""What stands between a verified request and a backend: rate limits, then injected faults.

``Guard.admit`` decides; the wire layers render the decision in their cloud's envelope, because a
throttle is ``RequestLimitExceeded`` for Tencent but 206/1102001xx/300000003 for ZEGO.
``DropConnectionMiddleware`` carries out the one fault no envelope can express: it swallows the
response of an action that was performed and closes the TCP connection, so the client sees a
connection error (``RemoteDisconnected``) and cannot know the action happened.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .catalog import Api
from .faults import FaultPlan
from .ratelimit import RateLimiter
from .stats import Stats

BAD_GATEWAY_HTML = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)
_SCOPE_KEY = "rtc_sandbox.connection"


@dataclass(frozen=True)
class Verdict:
    """``proceed``, ``rate_limited`` (the limiter) or a fault kind: throttle/internal/http5xx/latency/drop."""

    kind: str
    latency: float = 0.0

    @property
    def throttled(self) -> bool:
        return self.kind in ("rate_limited", "throttle")


PROCEED = Verdict("proceed")


class Guard:
    """Rate limit first (documented behaviour), then faults (the sandbox's own mischief)."""

    def __init__(self, limiter: RateLimiter, faults: FaultPlan, stats: Stats) -> None:
        self.limiter = limiter
        self.faults = faults
        self.stats = stats

    def admit(self, api: Api, key: str, *, test: bool = False) -> Verdict:
        """``key`` is what ``api``'s limit is counted per (``Api.rate_key``); ``test``: ZEGO IsTest."""
        if not self.limiter.admit(api, key, test=test):
            self.stats.throttled(api.action)
            return Verdict("rate_limited")
        rule = self.faults.draw(api.action)
        if rule is None:
            return PROCEED
        self.stats.fault(api.action, rule.kind)
        if rule.kind == "latency":
            return Verdict("latency", self.faults.latency_for(rule))
        return Verdict(rule.kind)


def mark_drop(scope: Scope) -> None:
    """Ask the middleware to drop this request's connection instead of answering."""
    state = scope.get(_SCOPE_KEY)
    if state is None:
        raise RuntimeError("DropConnectionMiddleware is not installed")
    state["drop"] = True


class DropConnectionMiddleware:
    """Outermost ASGI layer: when a handler marked the request, discard its response and hang up."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state: dict[str, Any] = {"drop": False}
        scope[_SCOPE_KEY] = state

        async def guarded_send(message: Message) -> None:
            if not state["drop"]:
                await send(message)

        await self.app(scope, receive, guarded_send)
        if state["drop"]:
            _hang_up(send)


def _hang_up(send: Send) -> None:
    """Close the server's transport under uvicorn's ``RequestResponseCycle`` (h11 and httptools)."""
    cycle = getattr(send, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is None:
        raise RuntimeError("cannot reach the connection to drop it (not served by uvicorn?)")
    transport.close()
    # uvicorn answers 500 when an app returns without a response unless the client is gone.
    cycle.disconnected = True  # type: ignore[union-attr]
