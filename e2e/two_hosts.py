"""The `two_api_servers_one_store` scenario: two api-server "hosts", one PostgreSQL callback store.

Two more ``airflow api-server`` processes, each with its own ``AIRFLOW_HOME`` (standing for two
hosts: a SQLite store would be one file per home), both with the RTC plugin on the same store
(``[rtc_callbacks] store_conn_id``: a schema of the deployment's Postgres), behind a round-robin
proxy (:mod:`e2e.proxy`). A burst of signed TRTC, ZEGO and Live callbacks
(:mod:`benchmarks.load_mix`) goes through the proxy, one connection per callback, so both hosts
store them; host A is SIGKILLed mid-burst and restarted, and the callbacks that got no 2xx are sent
again (the clouds' retries). Then, reading through each host with the readers the provider uses:

* the upload wait's read (``fetch_events``) finds every acknowledged recording task through host B;
* the lake watcher's read (``afetch_changed_page``, paged) lists them all through host B;
* discovery's read (``fetch_live``) shows every acknowledged live user and stream through host A;
* nothing acknowledged is missing through either host, before or after the kill.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from .harness import BIN, ROOT, Deployment, Proc, free_port, http_json, wait_for
from .proxy import RoundRobinProxy

BURST = 600
RATE = 150.0
#: host A is killed when this fraction of the burst is due
KILL_AT = 0.4
SCHEMA = "rtc_two_hosts"
STORE_CONN = "rtc_callback_store"
START_TIMEOUT = 240.0


def _check(condition: Any, message: str) -> None:
    if not condition:
        raise AssertionError(message)


@dataclass
class Host:
    """One api-server "host": its own AIRFLOW_HOME and port, the shared store."""

    dep: Deployment
    name: str
    env: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    proc: Proc | None = None

    @property
    def receiver(self) -> str:
        return f"http://127.0.0.1:{self.port}/rtc-callbacks"

    def configure(self, store_uri: str, keys_env: dict[str, str]) -> Host:
        home = self.dep.home.parent / f"airflow-{self.name}"
        home.mkdir(exist_ok=True)
        env = self.dep.airflow_env()
        env.pop("AIRFLOW__RTC_CALLBACKS__DB_PATH", None)  # a host's SQLite default is its own home's
        # this checkout's provider, not whatever copy the venv has installed (an editable install
        # of another checkout would run its receiver, and its store options, in these api-servers)
        path = [str(ROOT), *filter(None, [env.get("PYTHONPATH")])]
        env.update(
            PYTHONPATH=os.pathsep.join(path),
            AIRFLOW_HOME=str(home),
            AIRFLOW__API__PORT=str(self.port),
            AIRFLOW__API__BASE_URL=f"http://127.0.0.1:{self.port}",
            AIRFLOW__RTC_CALLBACKS__STORE_CONN_ID=STORE_CONN,
            AIRFLOW__RTC_CALLBACKS__STORE_SCHEMA=SCHEMA,
            **{f"AIRFLOW_CONN_{STORE_CONN.upper()}": store_uri},
            **keys_env,
        )
        self.env = env
        return self

    def start(self) -> Host:
        argv = [str(BIN / "airflow"), "api-server", "--port", str(self.port)]
        self.proc = self.dep.processes.start(f"api-server-{self.name}", argv, self.env)
        return self

    def wait(self) -> None:
        wait_for(
            f"api-server {self.name}'s receiver",
            lambda: http_json("GET", f"{self.receiver}/healthz", timeout=5),
            START_TIMEOUT,
            1,
        )

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.kill()

    def forget(self) -> None:
        """Stop it and drop it from the deployment's processes (not a crash for ``check_alive``)."""
        for proc in [p for p in self.dep.processes.procs if p.name == f"api-server-{self.name}"]:
            proc.stop()
            self.dep.processes.procs.remove(proc)
        self.proc = None


def store_uri(dep: Deployment) -> str:
    """The deployment's Postgres as an Airflow ``postgres`` connection URI (its own schema)."""
    parts = urlsplit(dep.sql_url)
    return f"postgres://{parts.netloc}{parts.path}"


async def _burst(
    url: str, callbacks: list[Any], rate: float, *, kill_after: float | None, kill: Any
) -> list[Any]:
    from benchmarks.load_client import Pool, run_step

    acked: list[Any] = []
    pool = Pool(url, size=64, timeout=20.0, close=True)
    loop = asyncio.get_running_loop()

    async def killer() -> None:
        if kill_after is not None:
            await asyncio.sleep(kill_after)
            await loop.run_in_executor(None, kill)

    try:
        task = asyncio.create_task(killer())
        step = await run_step(pool, callbacks, rate, acked=acked)
        await task
    finally:
        pool.close()
    print(f"   .. burst at {rate:g}/s: {json.dumps(step.statuses)} (status 0: no answer)", flush=True)
    return acked


def _read_all(hosts: dict[str, Host], keys: Any, proofs: set[tuple[str, ...]]) -> dict[str, int]:
    """The provider's own readers, through the host each item did not necessarily go to."""
    import httpx

    from airflow_provider_rtc.callbacks.client import ReceiverTarget, afetch_changed_page, fetch_events
    from airflow_provider_rtc.discovery.receiver import fetch_live
    from benchmarks.load_mix import LIVE_APP, TRTC_APP, ZEGO_APP

    key_of = {"trtc": keys.trtc, "zego": keys.zego, "live": keys.live}
    app_of = {"trtc": TRTC_APP, "zego": ZEGO_APP, "live": LIVE_APP}
    tasks = sorted(p for p in proofs if p[0] == "task")
    items = sorted(p for p in proofs if p[0] == "item")
    b, a = hosts["b"].receiver, hosts["a"].receiver

    # the upload wait: each task's events, through host B
    no_events = [p[3] for p in tasks if not fetch_events(ReceiverTarget(b, key_of[p[1]]), p[1], p[2], p[3])]
    _check(not no_events, f"the upload wait's read through host B found no events for {no_events[:5]}")

    # the lake watcher: every changed task, page by page, through host B
    async def changed(cloud: str) -> set[str]:
        found: set[str] = set()
        since, after = 0.0, None
        async with httpx.AsyncClient(timeout=30) as client:
            while True:
                target = ReceiverTarget(b, key_of[cloud])
                page = await afetch_changed_page(
                    target, cloud, app_of[cloud], since, client=client, limit=100, after=after
                )
                found.update(str(t["task_id"]) for t in page.tasks)
                if len(page.tasks) < 100:
                    return found
                since, after = float(page.tasks[-1]["changed_at"]), str(page.tasks[-1]["task_id"])

    listed = {cloud: asyncio.run(changed(cloud)) for cloud in ("trtc", "zego")}
    unlisted = [p[3] for p in tasks if p[3] not in listed[p[1]]]
    _check(not unlisted, f"the lake watcher's read through host B did not list {unlisted[:5]}")

    # discovery: the live users and streams, through host A (restarted)
    live: set[tuple[str, ...]] = set()
    for cloud in ("trtc", "zego", "live"):
        for item in fetch_live(ReceiverTarget(a, key_of[cloud]), cloud, app_of[cloud])["items"]:
            if not item["live"]:
                continue
            ids = item["ids"]
            if item["kind"] == "users":
                live.add(
                    ("item", cloud, app_of[cloud], "users", json.dumps([ids["room_id"], ids["user_id"]]))
                )
            elif item["kind"] == "streams" and cloud == "live":
                live.add(("item", cloud, app_of[cloud], "streams", str(ids["stream_name"])))
    unseen = [p for p in items if p not in live]
    _check(not unseen, f"discovery's read through host A does not show {unseen[:5]}")
    return {"wait_tasks": len(tasks), "watcher_tasks": len(tasks), "discovery_items": len(items)}


def two_api_servers_scenario(dep: Deployment) -> dict[str, Any]:
    from benchmarks.load_mix import Keys, Mix
    from benchmarks.receiver_load import missing

    keys = Keys()
    uri = store_uri(dep)
    hosts = {name: Host(dep, name).configure(uri, keys.airflow_env()) for name in ("a", "b")}
    started = time.monotonic()
    for host in hosts.values():
        host.start()
    try:
        for host in hosts.values():
            host.wait()
        figures: dict[str, Any] = {"hosts_up_s": round(time.monotonic() - started, 1)}
        backends = [("127.0.0.1", h.port) for h in hosts.values()]
        with RoundRobinProxy(backends) as proxy:
            mix = Mix(keys, run=f"two-hosts-{int(time.time())}", rooms=20)
            callbacks = mix.take(BURST)
            url = f"{proxy.url}/rtc-callbacks"  # the plugin's mount on every host
            acked = asyncio.run(
                _burst(url, callbacks, RATE, kill_after=KILL_AT * BURST / RATE, kill=hosts["a"].kill)
            )
            _check(len(acked) >= BURST * KILL_AT / 2, f"only {len(acked)} of {BURST} acknowledged")
            spread = list(proxy.connections)
            _check(all(n > 0 for n in spread), f"the proxy did not spread the burst: {spread}")
            _check(proxy.refused[0] > 0, "host A was killed mid-burst but never refused a connection")
            acked_before_restart = list(acked)
            lost = missing(hosts["b"].receiver, keys, acked_before_restart)
            hosts["a"].start()
            hosts["a"].wait()
            if lost:  # which host cannot show them tells a split store from a lost write
                through_a = missing(hosts["a"].receiver, keys, acked_before_restart)
                raise AssertionError(
                    f"{len(lost)} acknowledged callback(s) not readable through host B while host A was "
                    f"down ({len(through_a)} not readable through the restarted host A): {lost[:3]}"
                )
            # the clouds retry what got no 2xx: each is stored once (or answered as a duplicate)
            ids = {id(cb) for cb in acked}
            retries = [cb for cb in callbacks if id(cb) not in ids]
            again = asyncio.run(_burst(url, retries, 50.0, kill_after=None, kill=None))
            _check(len(again) == len(retries), f"{len(retries) - len(again)} retried callback(s) refused")
            acked += again
            figures.update(
                spread=spread,
                refused_by_a=proxy.refused[0],
                acked_before_restart=len(acked_before_restart),
                retried=len(retries),
            )
        for name, host in hosts.items():
            lost = missing(host.receiver, keys, acked)
            _check(not lost, f"host {name} cannot show {len(lost)} acknowledged callback(s): {lost[:5]}")
        proofs = {cb.proof for cb in acked if cb.proof is not None}
        figures.update(_read_all(hosts, keys, proofs))
        figures["lost"] = 0
        return figures
    finally:
        for host in hosts.values():
            with contextlib.suppress(Exception):
                host.forget()
