"""The bytes of emulated recording files: deterministic, of their real size, never held in memory.

A file's content is a function of its key (e.g. ``vod/<FileId>/<name>``) and its size: 64 KiB blocks
derived from ``sha256(key)``, each stamped with its index so that no two blocks are equal (a copy
that skipped or repeated a block would not match). A download streams the blocks it needs, so a
1 GiB file costs the server one block of memory.

Served with ``Content-Length``, ``Accept-Ranges: bytes``, ``ETag`` (opaque: the key and size) and
single ``Range: bytes=a-b`` requests (``206``/``416``). Downloads draw from the fault plan under the
action ``Download`` (only rules naming it exactly): ``short`` sends the full ``Content-Length`` but
only the first half of the bytes, then closes the connection (a download cut short); ``drop``
closes it before answering; ``internal``/``http5xx`` answer 500/502; ``throttle`` 503; ``latency``
sleeps first.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from .middleware import BAD_GATEWAY_HTML, mark_drop

if TYPE_CHECKING:
    from .core import Sandbox

BLOCK = 64 * 1024
DOWNLOAD_ACTION = "Download"


def _base_block(key: str) -> bytes:
    seed = hashlib.sha256(key.encode()).digest()
    return (seed * (BLOCK // len(seed) + 1))[:BLOCK]


def block(key: str, index: int, base: bytes | None = None) -> bytes:
    """Block ``index`` of the file ``key`` (the last block of a file is cut to its size by callers)."""
    base = base if base is not None else _base_block(key)
    return index.to_bytes(8, "big") + base[8:]


def content(key: str, start: int, end: int) -> bytes:
    """Bytes ``[start, end)`` of the file ``key`` (tests compare downloads with this)."""
    return b"".join(_Chunks(key, start, end))


class _Chunks:
    """Iterates the bytes ``[start, end)`` of a file block by block."""

    def __init__(self, key: str, start: int, end: int) -> None:
        self.key, self.start, self.end = key, start, end
        self.base = _base_block(key)

    def __iter__(self) -> Iterator[bytes]:
        pos = self.start
        while pos < self.end:
            index, offset = divmod(pos, BLOCK)
            data = block(self.key, index, self.base)[offset : offset + (self.end - pos)]
            yield data
            pos += len(data)


def etag(key: str, size: int) -> str:
    return '"' + hashlib.md5(f"{key}:{size}".encode(), usedforsecurity=False).hexdigest() + '"'


def _parse_range(header: str | None, size: int) -> tuple[int, int] | str | None:
    """``(start, end_exclusive)``, ``None`` without a Range header, ``"invalid"`` when unsatisfiable."""
    if not header:
        return None
    unit, _, spec = header.partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None  # multi-ranges are not supported: answer the whole file, as RFC 9110 allows
    first, _, last = spec.strip().partition("-")
    try:
        if first == "":
            length = int(last)
            start, end = max(0, size - length), size
        else:
            start = int(first)
            end = size if last == "" else min(size, int(last) + 1)
    except ValueError:
        return None
    if start >= size or start >= end:
        return "invalid"
    return start, end


async def serve(request: Request, sb: Sandbox, key: str, size: int, media_type: str) -> Response:
    """Answer a GET/HEAD of the file ``key`` of ``size`` bytes, with ranges and download faults."""
    rule = sb.faults.draw(DOWNLOAD_ACTION, exact=True)
    kind = rule.kind if rule is not None else None
    if rule is not None:
        sb.stats.fault(DOWNLOAD_ACTION, rule.kind)
    if kind == "latency":
        assert rule is not None
        await asyncio.sleep(sb.faults.latency_for(rule))
    elif kind in ("internal", "http5xx", "throttle"):
        status = {"internal": 500, "http5xx": 502, "throttle": 503}[kind]
        return Response(BAD_GATEWAY_HTML, status_code=status, media_type="text/html")
    elif kind == "drop":
        mark_drop(request.scope)
        return Response(b"")
    headers = {"accept-ranges": "bytes", "etag": etag(key, size)}
    wanted = _parse_range(request.headers.get("range"), size)
    if wanted == "invalid":
        return Response(b"", status_code=416, headers={**headers, "content-range": f"bytes */{size}"})
    status = 200
    start, end = 0, size
    if isinstance(wanted, tuple):
        start, end = wanted
        status = 206
        headers["content-range"] = f"bytes {start}-{end - 1}/{size}"
    headers["content-length"] = str(end - start)
    if request.method == "HEAD":
        return Response(b"", status_code=status, headers=headers, media_type=media_type)
    sb.stats.call(DOWNLOAD_ACTION)
    cut_at = start + (end - start) // 2 if kind == "short" else None
    scope = request.scope

    async def body() -> AsyncIterator[bytes]:
        sent = start
        for chunk in _Chunks(key, start, end if cut_at is None else cut_at):
            yield chunk
            sent += len(chunk)
            if sent % (16 * BLOCK) == 0:
                await asyncio.sleep(0)  # let other requests in during a long download
        if cut_at is not None:
            mark_drop(scope)  # swallow the rest, then hang up: the client sees a short body

    return StreamingResponse(body(), status_code=status, headers=headers, media_type=media_type)
