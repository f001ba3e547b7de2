"""Durable "this threshold already fired this month" markers, claimed atomically.

Why files and not an Airflow ``Variable``: ``Variable.set`` is an upsert with no compare-and-set, so
two overlapping runs could both read "not fired" and both notify. Creating a file exclusively
(``O_CREAT | O_EXCL`` locally, fsspec's ``"xb"`` mode where the store supports it) lets exactly one
run claim a threshold. Stores without exclusive create fall back to check-then-write (logged): keep
``max_active_runs=1`` on such DAGs.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any


def _local(base: Any) -> Path | None:
    """The local directory ``base`` names, or None for a remote store."""
    if isinstance(base, Path):
        return base
    if isinstance(base, str):
        return (
            Path(base[len("file://") :])
            if base.startswith("file://")
            else (None if "://" in base else Path(base))
        )
    if getattr(base, "protocol", None) in ("file", "local"):
        return Path(str(base.path))
    return None


def claim(base: Any, name: str, payload: dict[str, Any], log: Any = None) -> bool:
    """Create ``base/name`` holding ``payload``; False when it already exists (fired before)."""
    data = json.dumps(payload, sort_keys=True).encode()
    local = _local(base)
    if local is not None:
        path = local / name
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            return False
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        return True
    path = _remote(base) / name
    try:
        with path.open("xb") as handle:
            handle.write(data)
        return True
    except FileExistsError:
        return False
    except (ValueError, NotImplementedError, TypeError):
        if log is not None:
            log.warning("%s cannot be created exclusively; overlapping runs could both fire", path)
        if path.exists():
            return False
        path.write_bytes(data)
        return True


def release(base: Any, name: str) -> None:
    """Remove a claim (its notifier failed: the next run must fire it again)."""
    local = _local(base)
    path: Any = (local / name) if local is not None else (_remote(base) / name)
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


def _remote(base: Any) -> Any:
    from airflow.providers.common.compat.sdk import ObjectStoragePath

    return base if isinstance(base, ObjectStoragePath) else ObjectStoragePath(str(base))
