"""An open-loop HTTP/1.1 load client: requests leave at scheduled times, latency counts queueing.

Open loop: request ``i`` of a step at ``rate`` per second is due at ``start + i / rate`` whatever
happened to the earlier ones, and its latency is measured from that due time to the response, so
a receiver that falls behind shows the backlog in its latencies (a closed loop would slow down with
it and hide it). A minimal keep-alive client on raw asyncio streams: httpx costs ~0.5 ms of the
client's CPU per request, which at 2,000/s on a shared 2-core machine would measure the client.
Answers must carry ``Content-Length`` (uvicorn's do); a connection the server closes is replaced.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from benchmarks.load_mix import Callback


@dataclass
class Outcome:
    """One request: its due time (monotonic), latency in seconds, HTTP status (0: no answer)."""

    due: float
    latency: float
    status: int


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in 0..100) of ``values``; 0.0 for none."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), -(-len(ordered) * q // 100)))
    return float(ordered[int(rank) - 1])


@dataclass
class StepResult:
    rate: float
    sent: int
    ok: int
    errors: int
    p50_ms: float
    p99_ms: float
    max_ms: float
    achieved_per_s: float
    statuses: dict[int, int] = field(default_factory=dict)
    #: the receiver's CPU milliseconds per acknowledged callback in this step (0: not measured)
    cpu_ms_per_callback: float = 0.0

    def passed(self, p99_limit_ms: float) -> bool:
        return self.errors == 0 and self.p99_ms < p99_limit_ms

    @classmethod
    def of(cls, rate: float, outcomes: list[Outcome], wall: float) -> StepResult:
        lat = [o.latency * 1000 for o in outcomes]
        statuses: dict[int, int] = {}
        for o in outcomes:
            statuses[o.status] = statuses.get(o.status, 0) + 1
        ok = sum(1 for o in outcomes if 200 <= o.status < 300)
        return cls(
            rate=rate,
            sent=len(outcomes),
            ok=ok,
            errors=len(outcomes) - ok,
            p50_ms=round(percentile(lat, 50), 1),
            p99_ms=round(percentile(lat, 99), 1),
            max_ms=round(max(lat, default=0.0), 1),
            achieved_per_s=round(ok / wall, 1) if wall > 0 else 0.0,
            statuses=statuses,
        )


class Pool:
    """Keep-alive connections to one host, at most ``size`` at once."""

    def __init__(self, base_url: str, size: int = 256, timeout: float = 30.0, *, close: bool = False) -> None:
        #: ``close``: one connection per request (``Connection: close``), as the clouds send callbacks
        self.close_each = close
        parts = urlsplit(base_url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.prefix = parts.path.rstrip("/")
        self.timeout = timeout
        self._idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self._slots = asyncio.Semaphore(size)

    def request_bytes(self, cb: Callback) -> bytes:
        head = [f"POST {self.prefix}{cb.path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        head += [f"{k}: {v}" for k, v in cb.headers.items()]
        head.append(f"Content-Length: {len(cb.body)}")
        if self.close_each:
            head.append("Connection: close")
        return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + cb.body

    async def send(self, raw: bytes) -> int:
        """POST ``raw`` (a whole request); the status, or 0 when no answer came."""
        async with self._slots:
            for attempt in (0, 1):  # a kept-alive connection the server closed: one fresh try
                conn = self._idle.pop() if self._idle else None
                fresh = conn is None
                try:
                    if conn is None:
                        conn = await asyncio.wait_for(
                            asyncio.open_connection(self.host, self.port), self.timeout
                        )
                    reader, writer = conn
                    writer.write(raw)
                    status, keep = await asyncio.wait_for(_answer(reader), self.timeout)
                except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError):
                    if conn is not None:
                        conn[1].close()
                    if fresh or attempt:
                        return 0
                    continue
                if keep and not self.close_each:
                    self._idle.append(conn)
                else:
                    writer.close()
                return status
        return 0

    def close(self) -> None:
        for _, writer in self._idle:
            writer.close()
        self._idle.clear()


async def _answer(reader: asyncio.StreamReader) -> tuple[int, bool]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    length, keep = 0, True
    for line in lines[1:]:
        name, _, value = line.partition(":")
        name = name.strip().lower()
        if name == "content-length":
            length = int(value.strip())
        elif name == "connection" and value.strip().lower() == "close":
            keep = False
    if length:
        await reader.readexactly(length)
    return status, keep


async def run_step(
    pool: Pool, callbacks: Sequence[Callback], rate: float, *, acked: list[Callback] | None = None
) -> StepResult:
    """Send ``callbacks`` open-loop at ``rate`` per second; ``acked`` collects the 2xx-answered ones."""
    raws = [pool.request_bytes(cb) for cb in callbacks]
    loop = asyncio.get_running_loop()
    start = loop.time() + 0.05
    outcomes: list[Outcome] = []

    async def one(i: int, due: float) -> None:
        status = await pool.send(raws[i])
        outcomes.append(Outcome(due, loop.time() - due, status))
        if acked is not None and 200 <= status < 300:
            acked.append(callbacks[i])

    tasks = []
    for i in range(len(raws)):
        due = start + i / rate
        delay = due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(i, due)))
    await asyncio.gather(*tasks)
    wall = loop.time() - start
    return StepResult.of(rate, outcomes, wall)
