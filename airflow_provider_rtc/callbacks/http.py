"""The receiver's request kit: bounded body reading, depth-checked JSON, 4xx answers, never a 500.

Both route tables (:mod:`~airflow_provider_rtc.callbacks.app` for recording callbacks and reads,
:mod:`~airflow_provider_rtc.callbacks.inventory_routes` for the lifecycle inventory) import it, so
neither imports the other and the refusal shape ``{"code": status, "message": reason}`` is written
once.
"""

from __future__ import annotations

import json
import logging
import re
import sqlite3
from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any

from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse

log = logging.getLogger("airflow_provider_rtc.callbacks.app")

MAX_JSON_DEPTH = 32
_STRINGS = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKETS = re.compile(rb"[\[\]{}]")

Handler = Callable[[Request], Awaitable[JSONResponse]]


class Malformed(Exception):
    """A request refused with a 4xx status and a reason that holds no secret."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def error(status: int, message: str) -> JSONResponse:
    """The receiver's one refusal shape (the reason never holds a key)."""
    return JSONResponse({"code": status, "message": message}, status_code=status)


def guarded(handler: Handler) -> Handler:
    """Malformed input answers 4xx and a busy store 503 (the clouds retry); never a 500."""

    @wraps(handler)
    async def wrapper(request: Request) -> JSONResponse:
        try:
            return await handler(request)
        except Malformed as err:
            return error(err.status, err.message)
        except sqlite3.Error as err:
            log.error("callback store unavailable: %s", type(err).__name__)
            return error(503, "callback store unavailable; retry later")
        except (ValueError, TypeError, KeyError, AttributeError, OverflowError, RecursionError) as err:
            log.warning("malformed callback request refused (%s)", type(err).__name__)
            return error(400, "malformed request")

    return wrapper


async def read_body(request: Request, limit: int) -> bytes:
    """The body, counted as it streams in (chunked or not): 413 as soon as it passes ``limit``."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not (declared.isascii() and declared.strip().isdigit()):
            raise Malformed(400, "bad Content-Length")
        if int(declared) > limit:
            raise Malformed(413, "callback body too large")
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise Malformed(413, "callback body too large")
            chunks.append(chunk)
    except ClientDisconnect:
        raise Malformed(400, "the client went away before the body was complete") from None
    return b"".join(chunks)


def json_too_deep(raw: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """True when arrays/objects nest deeper than ``limit`` (brackets inside strings do not count)."""
    depth = 0
    for bracket in _BRACKETS.findall(_STRINGS.sub(b'""', raw)):
        depth += 1 if bracket in (b"[", b"{") else -1
        if depth > limit:
            return True
    return False


def parse_json_object(raw: bytes) -> dict[str, Any]:
    """A JSON object from a body already size-limited; depth-checked before ``json.loads``."""
    if json_too_deep(raw):
        raise Malformed(400, f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise Malformed(400, "body is not JSON") from None
    if not isinstance(data, dict):
        raise Malformed(400, "body is not a JSON object")
    return data
