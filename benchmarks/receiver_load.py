"""Receiver load: signed TRTC, ZEGO and Live callbacks at increasing open-loop rates, and kill cycles.

Targets: the standalone ``rtc-callback-receiver`` and the plugin inside a real ``airflow api-server``
(its own ``AIRFLOW_HOME``, a SQLite metadata database), each pinned to one core (``taskset``) while
this generator runs on the other. A step sends ``rate * seconds`` distinct callbacks
(:mod:`benchmarks.load_mix`) open-loop (:mod:`benchmarks.load_client`); the ladder stops at the first
step with an error or a p99 at or above 200 ms. Metrics:

* ``receiver_callbacks_per_s[_<target>_<store>]``: the highest step that passed.
* ``receiver_p99_ms_at_1000_per_s[...]``: the p99 of the 1,000/s step (sent even after a failure).
* ``receiver_kill_cycles_lost``: acknowledged callbacks missing after ``cycles`` SIGKILLs of the
  standalone receiver mid-burst, each followed by a restart on the same store.

Run alone: ``python -m benchmarks.receiver_load [--quick] [--target standalone|plugin]
[--store sqlite|postgres] [--profile]``; ``make bench`` runs it through benchmarks/run.py.
``--profile`` runs the standalone receiver under cProfile at its bottleneck rate and prints the top
functions (where the time goes).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.load_client import Pool, StepResult, run_step  # noqa: E402
from benchmarks.load_mix import LIVE_APP, TRTC_APP, ZEGO_APP, Callback, Keys, Mix  # noqa: E402

BIN = Path(sys.executable).parent
P99_LIMIT_MS = 200.0
RATES = (100, 250, 500, 1000, 1500, 2000, 2500, 3000, 4000)
#: the receiver's core and the generator's (2-core machine: one each)
SERVER_CPU, CLIENT_CPU = 1, 0


# -- processes ----------------------------------------------------------------------------------
def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _pinned(argv: list[str]) -> list[str]:
    taskset = shutil.which("taskset")
    cpus = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else set()
    if taskset and SERVER_CPU in cpus and len(cpus) > 1:
        return [taskset, "-c", str(SERVER_CPU), *argv]
    return argv


def _wait_healthy(url: str, proc: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{url}: the server exited (code {proc.returncode})")
        with contextlib.suppress(OSError), urllib.request.urlopen(f"{url}/healthz", timeout=2) as resp:
            if resp.status == 200:
                return
        time.sleep(0.2)
    raise RuntimeError(f"{url}: not healthy after {timeout:.0f}s")


def _stop(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


def store_env(store: str, workdir: Path, postgres_url: str | None) -> dict[str, str]:
    """The standalone receiver's store settings: a SQLite file, or the Postgres URL option."""
    if store == "sqlite":
        return {"RTC_CALLBACK_DB": str(workdir / "callbacks.sqlite3")}
    if not postgres_url:
        raise RuntimeError("the postgres store needs a database URL")
    return {"RTC_CALLBACK_STORE_URL": postgres_url}


def start_standalone(
    keys: Keys, env_store: dict[str, str], log: Path, *, profile: Path | None = None
) -> tuple[subprocess.Popen[bytes], str]:
    """``rtc-callback-receiver`` with its defaults (log level info), pinned to one core."""
    port = _free_port()
    argv = [sys.executable]
    if profile is not None:
        argv += ["-m", "cProfile", "-o", str(profile)]
        argv += [str(BIN / "rtc-callback-receiver")]
    else:
        argv += ["-m", "airflow_provider_rtc.callbacks.cli"]
    argv += ["--port", str(port)]
    env = {**os.environ, **keys.env(), **env_store, "PYTHONPATH": str(ROOT)}
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            _pinned(argv), env=env, stdout=out, stderr=out, stdin=subprocess.DEVNULL, start_new_session=True
        )
    url = f"http://127.0.0.1:{port}"
    _wait_healthy(url, proc, 60)
    return proc, url


def start_api_server(
    keys: Keys, home: Path, store_options: dict[str, str], log: Path
) -> tuple[subprocess.Popen[bytes], str]:
    """A real ``airflow api-server`` (one worker, pinned to one core) with the RTC plugin mounted;
    its own AIRFLOW_HOME and SQLite metadata database (``db migrate`` first)."""
    port = _free_port()
    home.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW__", "AIRFLOW_CONN_"))}
    env.update(
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__CORE__DAGS_FOLDER=str(home / "dags"),
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{home / 'airflow.db'}",
        AIRFLOW__API__PORT=str(port),
        AIRFLOW__API__HOST="127.0.0.1",
        AIRFLOW__API__WORKERS="1",
        AIRFLOW__API_AUTH__JWT_SECRET="bench-jwt-secret-0123456789abcdef",
        PYTHONPATH=str(ROOT),
        **keys.airflow_env(),
        **store_options,
    )
    with open(log, "ab") as out:
        subprocess.run(
            [str(BIN / "airflow"), "db", "migrate"], env=env, stdout=out, stderr=out, check=True, timeout=600
        )
        proc = subprocess.Popen(
            _pinned([str(BIN / "airflow"), "api-server", "--port", str(port)]),
            env=env,
            stdout=out,
            stderr=out,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}/rtc-callbacks"
    _wait_healthy(url, proc, 240)
    return proc, url


# -- reading back what was acknowledged ---------------------------------------------------------
def _signed_get(base: str, path: str, key: str) -> Any:
    from urllib.parse import urlsplit

    from airflow_provider_rtc.callbacks.auth import sign_read

    full = urlsplit(base).path.rstrip("/") + path
    req = urllib.request.Request(base.rstrip("/") + path)
    for name, value in sign_read(key, full).items():
        req.add_header(name, value)
    with urllib.request.urlopen(req, timeout=60) as resp:
        return json.loads(resp.read())


def stored_proofs(base: str, keys: Keys) -> set[tuple[str, ...]]:
    """Every proof the receiver at ``base`` can show: tasks (changes API, all pages) and live items."""
    from urllib.parse import quote

    found: set[tuple[str, ...]] = set()
    for cloud, app, key in (("trtc", TRTC_APP, keys.trtc), ("zego", ZEGO_APP, keys.zego)):
        since, after = 0.0, None
        while True:
            query = f"since={since!r}&limit=5000" + (f"&after={quote(after, safe='')}" if after else "")
            page = _signed_get(base, f"/{cloud}/{app}/tasks?{query}", key)["tasks"]
            found.update(("task", cloud, app, str(t["task_id"])) for t in page)
            if len(page) < 5000:
                break
            since, after = float(page[-1]["changed_at"]), str(page[-1]["task_id"])
    for cloud, app, key in (("trtc", TRTC_APP, keys.trtc), ("zego", ZEGO_APP, keys.zego)):
        for item in _signed_get(base, f"/{cloud}/{app}/live", key)["items"]:
            if item["kind"] == "users" and item["live"]:
                ids = item["ids"]
                found.add(("item", cloud, app, "users", json.dumps([ids["room_id"], ids["user_id"]])))
    for item in _signed_get(base, f"/live/{LIVE_APP}/live", keys.live)["items"]:
        if item["kind"] == "streams" and item["live"]:
            found.add(("item", "live", LIVE_APP, "streams", str(item["ids"]["stream_name"])))
    return found


def missing(base: str, keys: Keys, acked: Sequence[Callback]) -> list[tuple[str, ...]]:
    """The proofs of acknowledged callbacks the receiver cannot show (lost callbacks)."""
    have = stored_proofs(base, keys)
    return [cb.proof for cb in acked if cb.proof is not None and cb.proof not in have]


# -- the ladder ---------------------------------------------------------------------------------
def group_cpu_seconds(pgid: int) -> float:
    """CPU seconds (user + system, every thread) used so far by the processes of group ``pgid``:
    the receiver's cost per callback, which a shared machine's load does not change."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:  # fields after "(comm)": state ppid pgrp ... utime(11) stime(12)
            total += int(fields[11]) + int(fields[12])
    return total / ticks


def _client_core() -> None:
    with contextlib.suppress(AttributeError, OSError):
        cpus = os.sched_getaffinity(0)
        if CLIENT_CPU in cpus and len(cpus) > 1:
            os.sched_setaffinity(0, {CLIENT_CPU})


async def ladder(
    url: str,
    rates: Sequence[int],
    seconds: float,
    run: str,
    *,
    keys: Keys | None = None,
    pgid: int | None = None,
) -> list[StepResult]:
    """Each rate for ``seconds`` until one fails (and always through 1,000/s for its p99)."""
    keys = keys or Keys()
    mix = Mix(keys, run=run)
    pool = Pool(url, size=512)
    results: list[StepResult] = []
    try:
        for rate in rates:
            cpu = group_cpu_seconds(pgid) if pgid else 0.0
            step = await run_step(pool, mix.take(int(rate * seconds)), rate)
            if pgid and step.ok:
                step.cpu_ms_per_callback = round((group_cpu_seconds(pgid) - cpu) * 1000 / step.ok, 3)
            results.append(step)
            print(f"    {rate:>5}/s: {json.dumps(asdict(step))}", flush=True)
            if not step.passed(P99_LIMIT_MS) and rate >= 1000:
                break
            await asyncio.sleep(1.0)  # let the previous step's tail drain
    finally:
        pool.close()
    return results


def summarize(results: Sequence[StepResult], suffix: str = "") -> dict[str, float]:
    passed = [r.rate for r in results if r.passed(P99_LIMIT_MS)]
    # "sustained": the highest rate below which every step passed too
    best = 0.0
    for r in results:
        if not r.passed(P99_LIMIT_MS):
            break
        best = r.rate
    out = {f"receiver_callbacks_per_s{suffix}": best}
    at_1000 = [r for r in results if r.rate == 1000]
    if at_1000:
        out[f"receiver_p99_ms_at_1000_per_s{suffix}"] = at_1000[0].p99_ms
    out[f"receiver_highest_passing_step{suffix}"] = max(passed, default=0.0)
    # what the receiver delivered at best, whatever the latency (a shared machine's ceiling)
    out[f"receiver_max_achieved_per_s{suffix}"] = max((r.achieved_per_s for r in results), default=0.0)
    costs = [r.cpu_ms_per_callback for r in results if r.cpu_ms_per_callback]
    if costs:
        # the receiver's own CPU per callback (median over the steps), and what one free core allows
        cost = sorted(costs)[len(costs) // 2]
        out[f"receiver_cpu_ms_per_callback{suffix}"] = cost
        out[f"receiver_per_core_capacity{suffix}"] = round(1000.0 / cost, 1)
    return out


def measure(
    target: str, store: str, *, seconds: float, rates: Sequence[int], postgres_url: str | None = None
) -> dict[str, float]:
    keys = Keys()
    workdir = Path(tempfile.mkdtemp(prefix=f"rtc-load-{target}-{store}-"))
    log = workdir / f"{target}.log"
    try:
        if target == "standalone":
            proc, url = start_standalone(keys, store_env(store, workdir, postgres_url), log)
        else:
            proc, url = start_api_server(
                keys, workdir / "airflow", plugin_store(store, workdir, postgres_url), log
            )
        try:
            results = asyncio.run(
                ladder(url, rates, seconds, run=f"{target}-{store}-{int(time.time())}", pgid=proc.pid)
            )
        finally:
            _stop(proc)
    except BaseException:
        with contextlib.suppress(OSError):
            print(log.read_text(errors="replace")[-3000:], file=sys.stderr)
        raise
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return summarize(results, f"_{target}_{store}")


def plugin_store(store: str, workdir: Path, postgres_url: str | None) -> dict[str, str]:
    """The plugin's ``[rtc_callbacks]`` store options."""
    if store == "sqlite":
        return {"AIRFLOW__RTC_CALLBACKS__DB_PATH": str(workdir / "plugin.sqlite3")}
    if not postgres_url:
        raise RuntimeError("the postgres store needs a database URL")
    return {
        "AIRFLOW_CONN_RTC_CALLBACK_STORE": postgres_url,
        "AIRFLOW__RTC_CALLBACKS__STORE_CONN_ID": "rtc_callback_store",
    }


# -- kill cycles --------------------------------------------------------------------------------
async def _burst_and_kill(
    url: str, callbacks: list[Callback], rate: float, kill_after: float | None, pid: int
) -> list[Callback]:
    """Send ``callbacks`` open-loop, SIGKILL the receiver's group after ``kill_after`` seconds
    (``None``: no kill); the acknowledged ones."""
    acked: list[Callback] = []
    pool = Pool(url, size=256, timeout=5.0)

    async def killer() -> None:
        if kill_after is None:
            return
        await asyncio.sleep(kill_after)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)

    try:
        kill = asyncio.create_task(killer())
        await run_step(pool, callbacks, rate, acked=acked)
        await kill
    finally:
        pool.close()
    return acked


def kill_cycles(
    cycles: int,
    *,
    store: str = "sqlite",
    rate: float = 200,
    burst: int = 600,
    postgres_url: str | None = None,
) -> dict[str, float]:
    """``cycles`` times: a burst to the standalone receiver, SIGKILL at a varying moment of it, a
    restart on the same store; at the end every acknowledged callback's proof must be readable."""
    import random

    keys = Keys()
    workdir = Path(tempfile.mkdtemp(prefix=f"rtc-kill-{store}-"))
    env_store = store_env(store, workdir, postgres_url)
    mix = Mix(keys, run=f"kill-{store}-{int(time.time())}")
    rng = random.Random(21)
    acked: list[Callback] = []
    sent = retried = refused = first = 0
    log = workdir / "receiver.log"
    proc, url = start_standalone(keys, env_store, log)
    try:
        for _ in range(cycles):
            # anywhere from early in the burst to near its end (a rate the receiver keeps up with,
            # so the kill lands among committed, in-flight and not yet sent callbacks)
            kill_after = rng.uniform(0.15, 0.85) * burst / rate
            callbacks = mix.take(burst)
            got = asyncio.run(_burst_and_kill(url, callbacks, rate, kill_after, proc.pid))
            sent += burst
            proc.wait(10)
            proc, url = start_standalone(keys, env_store, log)
            # the clouds retry what got no 2xx (within ZEGO's 300 s window): each is accepted once
            # more, a duplicate of what the killed receiver had committed without answering
            answered = {id(cb) for cb in got}
            again = [cb for cb in callbacks if id(cb) not in answered]
            resent = asyncio.run(_burst_and_kill(url, again, rate, None, proc.pid))
            retried += len(again)
            refused += len(again) - len(resent)
            acked += got + resent
            first += len(got)
        lost = missing(url, keys, acked)
    finally:
        _stop(proc)
        shutil.rmtree(workdir, ignore_errors=True)
    with_proof = sum(1 for cb in acked if cb.proof is not None)
    print(
        f"    kill cycles ({store}): {cycles} SIGKILLs mid-burst, {sent} sent, {first} acknowledged before "
        f"the kills, {retried} unanswered sent again after each restart ({refused} refused), "
        f"{len(acked)} acknowledged in all ({with_proof} with a readable proof), "
        f"{len(lost)} acknowledged lost",
        flush=True,
    )
    if lost:
        print(f"    lost, first 5: {lost[:5]}", flush=True)
    return {
        f"receiver_kill_cycles_lost_{store}": float(len(lost)),
        f"receiver_kill_cycles_retries_refused_{store}": float(refused),
        f"receiver_kill_cycles_acked_{store}": float(len(acked)),
        f"receiver_kill_cycles_acked_before_kill_{store}": float(first),
        f"receiver_kill_cycles_{store}": float(cycles),
    }


# -- profile ------------------------------------------------------------------------------------
def profile(rate: int, seconds: float, top: int = 30) -> None:
    """The standalone receiver (SQLite) under cProfile at ``rate``; prints the top functions."""
    import pstats

    keys = Keys()
    workdir = Path(tempfile.mkdtemp(prefix="rtc-load-profile-"))
    out = workdir / "receiver.prof"
    proc, url = start_standalone(keys, store_env("sqlite", workdir, None), workdir / "log", profile=out)
    try:
        results = asyncio.run(ladder(url, [rate], seconds, run=f"profile-{int(time.time())}"))
        print(json.dumps([asdict(r) for r in results]))
    finally:
        _stop(proc, signal.SIGINT)  # cProfile writes its file on a clean exit
    stats = pstats.Stats(str(out))
    stats.sort_stats("cumulative").print_stats(top)
    stats.sort_stats("tottime").print_stats(top)
    shutil.rmtree(workdir, ignore_errors=True)


@contextlib.contextmanager
def durable_postgres() -> Iterator[str]:
    """A throw-away PostgreSQL cluster with fsync and synchronous commits on (e2e.harness.Postgres)."""
    from e2e.harness import Postgres, Processes

    workdir = Path(tempfile.mkdtemp(prefix="rtc-load-pg-"))
    pg = Postgres(workdir, Processes(workdir), durable=True)
    try:
        yield pg.start().replace("postgresql+psycopg2://", "postgresql://")
    finally:
        pg.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def run(quick: bool = False, *, full: bool = False) -> dict[str, float]:
    """For benchmarks/run.py. Quick: the standalone receiver on SQLite and 2 kill cycles. Full: both
    targets on SQLite and on a durable PostgreSQL, 20 kill cycles on each store."""
    if full:
        with durable_postgres() as url:
            return _run(quick, postgres_url=url, plugin=True)
    return _run(quick, postgres_url=None, plugin=False)


def _run(quick: bool, *, postgres_url: str | None, plugin: bool) -> dict[str, float]:
    _client_core()
    seconds = 0.5 if quick else 5.0
    rates = (250, 1000) if quick else RATES
    metrics: dict[str, float] = {"receiver_load_avg_1m_at_start": os.getloadavg()[0]}
    stores = ["sqlite"] + (["postgres"] if postgres_url else [])
    targets = ["standalone"] + (["plugin"] if plugin else [])
    for target in targets:
        for store in stores:
            print(f"  receiver load: {target} on {store}", flush=True)
            metrics.update(measure(target, store, seconds=seconds, rates=rates, postgres_url=postgres_url))
    # the headline metrics: the standalone receiver on SQLite (one core, zero setup)
    metrics["receiver_callbacks_per_s"] = metrics["receiver_callbacks_per_s_standalone_sqlite"]
    metrics["receiver_p99_ms_at_1000_per_s"] = metrics["receiver_p99_ms_at_1000_per_s_standalone_sqlite"]
    cycles = 1 if quick else 20
    for store in stores:
        metrics.update(
            kill_cycles(cycles, store=store, burst=200 if quick else 600, postgres_url=postgres_url)
        )
    metrics["receiver_kill_cycles_lost"] = sum(
        v
        for k, v in metrics.items()
        if k.startswith(("receiver_kill_cycles_lost_", "receiver_kill_cycles_retries_refused_"))
    )
    return metrics


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--target", choices=["standalone", "plugin"], action="append")
    parser.add_argument("--store", choices=["sqlite", "postgres"], action="append")
    parser.add_argument("--postgres-url", default=os.environ.get("RTC_BENCH_POSTGRES_URL"))
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rates", default=",".join(map(str, RATES)))
    parser.add_argument("--kill-cycles", type=int, default=0)
    parser.add_argument("--profile", type=int, default=0, metavar="RATE", help="profile at this rate")
    args = parser.parse_args(argv)
    _client_core()
    if args.profile:
        profile(args.profile, args.seconds)
        return 0
    stores = args.store or ["sqlite"]
    if "postgres" in stores and not args.postgres_url:
        with durable_postgres() as url:  # a throw-away cluster, fsync and synchronous commits on
            return _main(args, stores, url)
    return _main(args, stores, args.postgres_url)


def _main(args: argparse.Namespace, stores: list[str], postgres_url: str | None) -> int:
    rates = [int(r) for r in args.rates.split(",")]
    metrics: dict[str, float] = {"receiver_load_avg_1m_at_start": os.getloadavg()[0]}
    for target in args.target or ["standalone"]:
        for store in stores:
            print(f"  receiver load: {target} on {store}", flush=True)
            metrics.update(
                measure(target, store, seconds=args.seconds, rates=rates, postgres_url=postgres_url)
            )
    for store in stores:
        if args.kill_cycles:
            metrics.update(kill_cycles(args.kill_cycles, store=store, postgres_url=postgres_url))
    print(json.dumps(metrics, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
