"""A small client of the sandbox's control API (``/_sandbox/...``), for tests and scripts.

``AdminClient(url)`` works against any running sandbox (``rtc-sandbox`` in another process, a
container); ``RtcSandbox(...).admin`` is one bound to the sandbox it started. Each method is one
HTTP call with a timeout; a refused document raises :class:`AdminError` with the sandbox's message.
"""

from __future__ import annotations

from typing import Any

import httpx


class AdminError(RuntimeError):
    """The sandbox refused an admin call (HTTP 4xx): ``status`` and the sandbox's ``message``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"sandbox admin call refused ({status}): {message}")
        self.status = status
        self.message = message


class AdminClient:
    def __init__(self, url: str, *, timeout: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None, **params: Any) -> Any:
        response = httpx.request(
            method,
            f"{self.url}/_sandbox{path}",
            json=body,
            params={k: v for k, v in params.items() if v is not None},
            timeout=self.timeout,
        )
        if response.status_code >= 400:
            try:
                message = response.json().get("error", response.text)
            except ValueError:
                message = response.text
            raise AdminError(response.status_code, str(message))
        return response.json()

    # -- resources -----------------------------------------------------------------------------

    def seed(self, spec: dict[str, Any] | None = None) -> dict[str, Any]:
        """Counting or named seed, or a scenario with ``callbacks``/``faults``; None: the standard event."""
        return self._call("POST", "/seed", spec or {})

    def reset(self, *, seed: dict[str, Any] | None = None, seed_event: bool = False) -> dict[str, Any]:
        """Back to the start-up settings, empty (then ``seed`` or the standard event, when given)."""
        body: dict[str, Any] = {"seed_event": seed_event}
        if seed:
            body["seed"] = seed
        return self._call("POST", "/reset", body)

    def state(self) -> dict[str, Any]:
        return self._call("GET", "/state")

    def add_users(self, cloud: str, room_id: int | str, users: list[str], **extra: Any) -> dict[str, Any]:
        """Users enter a TRTC room (numeric or string id) or log into a ZEGO room (``streams=[...]``)."""
        if cloud not in ("trtc", "zego"):
            raise ValueError("cloud must be 'trtc' or 'zego'")
        return self._call("POST", f"/{cloud}/users", {"room_id": room_id, "users": users, **extra})

    def remove_users(self, cloud: str, room_id: int | str, users: list[str], **extra: Any) -> dict[str, Any]:
        """Users leave on their own (TRTC exit, ZEGO logout): callbacks follow, nothing is called."""
        path = {"trtc": "/trtc/exit", "zego": "/zego/logout"}.get(cloud)
        if path is None:
            raise ValueError("cloud must be 'trtc' or 'zego'")
        return self._call("POST", path, {"room_id": room_id, "users": users, **extra})

    def push_stream(self, stream_name: str, domain_name: str, app_name: str = "live") -> dict[str, Any]:
        return self._call(
            "POST",
            "/live/streams",
            {"stream_name": stream_name, "domain_name": domain_name, "app_name": app_name},
        )

    # -- policy --------------------------------------------------------------------------------

    def faults(self, doc: dict[str, Any] | None = None, *, append: bool = False) -> dict[str, Any]:
        """The fault document (faults.py); with ``doc``, replace it (or add its rules: ``append``)."""
        if doc is None:
            return self._call("GET", "/faults")
        return self._call("PUT", "/faults", doc, append="true" if append else None)

    def limits(self, *, enabled: bool | None = None, qps: dict[str, float] | None = None) -> dict[str, Any]:
        body = {k: v for k, v in {"enabled": enabled, "qps": qps}.items() if v is not None}
        return self._call("PUT", "/limits", body) if body else self._call("GET", "/limits")

    def timing(self, **changes: float) -> dict[str, Any]:
        return self._call("PUT", "/timing", changes) if changes else self._call("GET", "/timing")

    def clock(self, **change: Any) -> dict[str, Any]:
        """The sandbox's clock; ``clock(now=...)`` or ``clock(offset_seconds=...)`` moves it."""
        return self._call("PUT", "/clock", change) if change else self._call("GET", "/clock")

    # -- observation ---------------------------------------------------------------------------

    def callbacks(self, **settings: Any) -> dict[str, Any]:
        """Callback settings and the delivery log (each callback's fate); with ``settings``, change them."""
        return self._call("PUT", "/callbacks", settings) if settings else self._call("GET", "/callbacks")

    def stats(self) -> dict[str, Any]:
        """Calls, throttles and faults per action."""
        return self._call("GET", "/stats")

    def connections(self) -> dict[str, Any]:
        return self._call("GET", "/connections")
