"""Which handler answers which catalog entry: the wire layers route by the catalog.

A handler is registered against its entry (``@handles("trtc", "DismissRoom")``); the service, version,
HTTP method, regions, code family and rate limit all come from that entry, so the sandbox and the
provider cannot disagree about an API. ``tests/unit/test_catalog.py`` fails when an entry has no
handler here or a handler answers an action the catalog lacks.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from . import catalog
from .catalog import Api

F = TypeVar("F", bound=Callable[..., Any])

#: handler by catalog key (product, action), filled as the wire modules are imported
HANDLERS: dict[tuple[str, str], Callable[..., Any]] = {}


def handles(product: str, action: str) -> Callable[[F], F]:
    """Register the decorated function as the sandbox's implementation of the catalog's entry
    ``(product, action)``; an entry missing from the data file fails at import, naming it."""
    api = catalog.entry(product, action)

    def register(fn: F) -> F:
        if HANDLERS.get(api.key, fn) is not fn:
            raise ValueError(f"two sandbox handlers for {api.key}")
        HANDLERS[api.key] = fn
        return fn

    return register


def route(
    cloud: catalog.Cloud, action: str, product: str | None = None
) -> tuple[Api, Callable[..., Any]] | None:
    """The entry and handler for ``action`` (in ``product``, when the wire names one), or None."""
    api = catalog.lookup(product, action) if product else catalog.by_action(cloud, action)
    if api is None or api.cloud != cloud or api.key not in HANDLERS:
        return None
    return api, HANDLERS[api.key]


def services(cloud: catalog.Cloud) -> dict[str, str]:
    """Each product of ``cloud`` the sandbox serves, with its API version."""
    return {
        api.product: api.version
        for api in catalog.CATALOG.values()
        if api.cloud == cloud and api.key in HANDLERS
    }
