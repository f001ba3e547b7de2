"""A local HTTP sandbox that behaves like Tencent Cloud TRTC/Live and ZEGOCLOUD (moto-shaped).

``backends`` hold state and rules, ``wire`` speaks each cloud's protocol, ``middleware`` adds rate
limits and faults, ``server``/``cli`` run it. Nothing here is imported by the provider at runtime;
attributes load lazily so ``import rtc_sandbox`` stays cheap. Typical use::

    with SandboxServer({"timing": {"upload_delay": 0.2}}) as sb:   # port 0: a free port
        ids = sb.seed_event()                # 12 TRTC rooms, 3 Live mixes, 6 ZEGO rooms...
        conns = sb.connections               # Airflow connection dicts pointing at sb.url
        sb.backend.set_faults({"rules": [{"action": "DismissRoom", "kind": "drop", "count": 1}]})

or ``rtc-sandbox --port 0 --seed-event`` and read the JSON banner on its first stdout line.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from .app import build_app
    from .config import SandboxConfig
    from .core import Sandbox
    from .errors import SandboxError
    from .server import SandboxServer, seed_event

__all__ = ["Sandbox", "SandboxConfig", "SandboxError", "SandboxServer", "build_app", "seed_event"]

_LAZY = {
    "Sandbox": ".core",
    "SandboxConfig": ".config",
    "SandboxError": ".errors",
    "SandboxServer": ".server",
    "seed_event": ".server",
    "build_app": ".app",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    return getattr(import_module(module, __name__), name)
