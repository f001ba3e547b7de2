"""A local HTTP sandbox that behaves like Tencent Cloud TRTC/Live and ZEGOCLOUD (moto-shaped).

``backends`` hold state and rules, ``wire`` speaks each cloud's protocol, ``middleware`` adds rate
limits and faults, ``server``/``cli`` run it. Nothing here is imported by the provider at runtime;
attributes load lazily so ``import rtc_sandbox`` stays cheap. Typical use::

    with RtcSandbox(scenario="event.toml") as sb:   # a free port; named rooms, lost callbacks...
        sb.url, sb.connections, sb.names
        sb.admin.faults({"rules": [{"action": "DismissRoom", "kind": "drop", "count": 1}]})

or ``rtc-sandbox --port 0 --scenario event.toml`` and read the JSON banner on its first stdout line.
``SandboxServer`` is the lower-level in-process server the tests use. Documentation: docs/sandbox.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from .admin import AdminClient, AdminError
    from .api import RtcSandbox
    from .app import build_app
    from .config import SandboxConfig
    from .core import Sandbox
    from .errors import SandboxError
    from .scenario import load_scenario
    from .server import SandboxServer, seed_event

__all__ = [
    "AdminClient",
    "AdminError",
    "RtcSandbox",
    "Sandbox",
    "SandboxConfig",
    "SandboxError",
    "SandboxServer",
    "build_app",
    "load_scenario",
    "seed_event",
]

_LAZY = {
    "AdminClient": ".admin",
    "AdminError": ".admin",
    "RtcSandbox": ".api",
    "load_scenario": ".scenario",
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
