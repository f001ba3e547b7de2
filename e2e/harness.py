"""A real Airflow deployment in temporary directories, for the `make e2e` stage and for benchmarks.

``Deployment`` starts, on free loopback ports: a fresh Postgres cluster (the metadata database),
``rtc-sandbox`` (the cloud) and ``rtc-callback-receiver``, then ``airflow db migrate`` and the four
Airflow components as separate processes (api-server with the RTC callback plugin, scheduler,
dag-processor, triggerer). Every process runs in its own process group, is recorded by PID and is
stopped on exit, failure included. Every wait is bounded.

Benchmarks import it::

    from e2e.harness import Deployment
    with Deployment(executor="LocalExecutor", extra_env={...}) as dep:
        run_id = dep.api.trigger("end_of_event_cleanup", conf)
        state = dep.api.wait_run("end_of_event_cleanup", run_id, timeout=300)

A CeleryExecutor deployment passes ``executor="CeleryExecutor"`` plus ``extra_env`` with the broker
and result backend, and ``extra_components=[["celery", "worker"]]``.
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import secrets
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_DAGS = ROOT / "example_dags"
BIN = Path(sys.executable).parent
PG_VERSIONS = ("17", "16", "15", "14")
#: the four Airflow components, each its own process
COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")


class StageError(RuntimeError):
    """The deployment could not be set up (not a scenario failure)."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(what: str, check: Callable[[], Any], timeout: float, interval: float = 0.5) -> Any:
    """Call ``check`` until it returns something truthy; StageError after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            result = check()
        except Exception as err:  # the thing is not up yet
            last = err
        else:
            if result:
                return result
        time.sleep(interval)
    raise StageError(
        f"timed out after {timeout:.0f}s waiting for {what}" + (f" (last: {last})" if last else "")
    )


def http_json(
    method: str, url: str, body: Any = None, headers: dict[str, str] | None = None, timeout: float = 30
) -> Any:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method)  # noqa: S310 (loopback only)
    req.add_header("Content-Type", "application/json")
    for name, value in (headers or {}).items():
        req.add_header(name, value)
    with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310
        raw = resp.read()
    return json.loads(raw) if raw else None


@dataclass
class Proc:
    """One started process, in its own process group, with its log file."""

    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def stop(self, grace: float = 15.0) -> None:
        """SIGTERM the whole group, then SIGKILL what is left after ``grace`` seconds."""
        if self.popen.poll() is None and grace > 0:
            _signal_group(self.popen.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(grace)
        _signal_group(self.popen.pid, signal.SIGKILL)  # children that outlived their parent
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(5)

    def kill(self) -> None:
        """SIGKILL the whole group at once (a crash, not a shutdown)."""
        _signal_group(self.popen.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(10)


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


class Interrupted(BaseException):
    """SIGTERM/SIGHUP: unwinds like Ctrl-C so the deployment is stopped, not orphaned."""


def _exit_on_signals() -> dict[int, Any]:
    """Make SIGTERM and SIGHUP raise (main thread only), so ``with Deployment()`` cleans up."""
    import threading

    if threading.current_thread() is not threading.main_thread():
        return {}

    def interrupt(signum: int, frame: Any) -> None:
        raise Interrupted(f"signal {signum}")

    return {sig: signal.signal(sig, interrupt) for sig in (signal.SIGTERM, signal.SIGHUP)}


class Processes:
    """Every process the stage starts, recorded by PID (also in ``pids.json``) and stopped in reverse."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.logs = workdir / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.procs: list[Proc] = []

    def start(
        self, name: str, argv: Sequence[str], env: dict[str, str], user: str | None = None, **kw: Any
    ) -> Proc:
        log = self.logs / f"{name}.log"
        with open(log, "ab") as out:
            popen = subprocess.Popen(
                list(argv),
                env=env,
                stdout=kw.pop("stdout", out),
                stderr=out,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # its own process group: killpg stops its children too
                user=user,
                **kw,
            )
        proc = Proc(name, popen, log)
        self.procs.append(proc)
        self._record()
        return proc

    def get(self, name: str) -> Proc:
        return next(p for p in reversed(self.procs) if p.name == name)

    def _record(self) -> None:
        pids = {f"{p.name}#{i}": p.pid for i, p in enumerate(self.procs)}
        (self.workdir / "pids.json").write_text(json.dumps(pids, indent=1))

    def stop_all(self, grace: float = 15.0) -> None:
        """SIGTERM every group at once (newest first), then one shared ``grace`` for all of them, then
        SIGKILL what is left: the components shut down side by side, so the teardown costs the
        slowest one's shutdown, not the sum of them (it was ~25 s of each e2e run, issue 24)."""
        live = [proc for proc in reversed(self.procs) if proc.alive()]
        for proc in live:
            _signal_group(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for proc in live:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.popen.wait(max(0.0, deadline - time.monotonic()))
        for proc in reversed(self.procs):
            proc.stop(grace=0.0)  # SIGKILL to the group (children that outlived their parent)


class Postgres:
    """A throw-away cluster: ``initdb`` into a temp dir, ``pg_ctl start`` on a free port, no service."""

    def __init__(self, workdir: Path, processes: Processes, *, durable: bool = False) -> None:
        #: ``durable``: fsync and synchronous commits on (benchmarks of a store of record); the
        #: e2e stage turns them off, as nothing there outlives the run
        self.durable = durable
        self.dir = workdir / "pg"
        self.data = self.dir / "data"
        self.sock = self.dir / "sock"
        self.port = free_port()
        self.processes = processes
        self.bin = self.find_bin()
        self.user: str | None = None
        self.password = secrets.token_hex(8)

    @staticmethod
    def find_bin() -> Path:
        for version in PG_VERSIONS:
            path = Path(f"/usr/lib/postgresql/{version}/bin")
            if (path / "initdb").exists():
                return path
        if os.geteuid() == 0 and shutil.which("apt-get"):
            print(
                "e2e: initdb not found; installing the OS package: apt-get install -y postgresql", flush=True
            )
            env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
            subprocess.run(["apt-get", "update", "-q"], check=False, env=env, timeout=600)
            subprocess.run(["apt-get", "install", "-y", "-q", "postgresql"], check=True, env=env, timeout=900)
            for version in PG_VERSIONS:
                path = Path(f"/usr/lib/postgresql/{version}/bin")
                if (path / "initdb").exists():
                    return path
        raise StageError(
            "PostgreSQL server binaries (initdb, pg_ctl) not found under /usr/lib/postgresql/<N>/bin: "
            "install them first, e.g. `sudo apt-get install -y postgresql` (Debian/Ubuntu), "
            "then run `make e2e` again"
        )

    def _run(self, argv: list[str], timeout: float = 120) -> None:
        log = self.processes.logs / "postgres-setup.log"
        with open(log, "ab") as out:
            result = subprocess.run(
                argv, stdout=out, stderr=out, stdin=subprocess.DEVNULL, user=self.user, timeout=timeout
            )
        if result.returncode:
            raise StageError(f"{' '.join(argv[:2])} failed (exit {result.returncode}); see {log}")

    def start(self) -> str:
        """Start the cluster; return the SQLAlchemy URL of a fresh ``airflow`` database."""
        self.dir.mkdir(parents=True)
        self.sock.mkdir()
        if os.geteuid() == 0:  # initdb refuses root: run every server binary as the postgres user
            self.user = "postgres"
            try:
                entry = pwd.getpwnam(self.user)
            except KeyError:
                raise StageError("running as root but there is no `postgres` user to run initdb as") from None
            for path in (self.dir.parent, self.dir, self.sock):
                os.chmod(path, 0o755)  # noqa: S103 (postgres must reach its own dir)
            for path in (self.dir, self.sock):
                os.chown(path, entry.pw_uid, entry.pw_gid)
        pwfile = self.dir / "pw"
        pwfile.write_text(self.password)
        if self.user:
            entry = pwd.getpwnam(self.user)
            os.chown(pwfile, entry.pw_uid, entry.pw_gid)
        self._run(
            [
                str(self.bin / "initdb"),
                "-D",
                str(self.data),
                "-U",
                "airflow",
                "--pwfile",
                str(pwfile),
                "-A",
                "scram-sha-256",
                "--no-sync",
                "-E",
                "UTF8",
            ]
        )
        opts = f"-p {self.port} -k {self.sock} -c listen_addresses=127.0.0.1 -c max_connections=200"
        if not self.durable:
            opts += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        self._run(
            [
                str(self.bin / "pg_ctl"),
                "-D",
                str(self.data),
                "-o",
                opts,
                "-l",
                str(self.dir / "server.log"),
                "-w",
                "-t",
                "60",
                "start",
            ]
        )
        env = {**os.environ, "PGPASSWORD": self.password}
        with open(self.processes.logs / "postgres-setup.log", "ab") as out:
            subprocess.run(
                [
                    str(self.bin / "psql"),
                    "-h",
                    "127.0.0.1",
                    "-p",
                    str(self.port),
                    "-U",
                    "airflow",
                    "-d",
                    "postgres",
                    "-v",
                    "ON_ERROR_STOP=1",
                    "-c",
                    "CREATE DATABASE airflow",
                ],
                env=env,
                stdout=out,
                stderr=out,
                check=True,
                timeout=60,
            )
        return f"postgresql+psycopg2://airflow:{self.password}@127.0.0.1:{self.port}/airflow"

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            try:
                self._run(
                    [str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop"], 60
                )
            except (StageError, subprocess.TimeoutExpired) as err:
                print(f"e2e: could not stop postgres cleanly: {err}", file=sys.stderr)


class Api:
    """The Airflow REST API as the simple auth manager's admin (token from ``POST /auth/token``)."""

    def __init__(self, base_url: str) -> None:
        self.base = base_url
        self.token: str | None = None

    def login(self, username: str, password: str) -> None:
        answer = http_json("POST", f"{self.base}/auth/token", {"username": username, "password": password})
        self.token = answer["access_token"]

    def call(self, method: str, path: str, body: Any = None, timeout: float = 60) -> Any:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        return http_json(method, f"{self.base}{path}", body, headers, timeout)

    def get(self, path: str) -> Any:
        return self.call("GET", path)

    def trigger(self, dag_id: str, conf: dict[str, Any] | None = None) -> str:
        run = self.call("POST", f"/api/v2/dags/{dag_id}/dagRuns", {"logical_date": None, "conf": conf or {}})
        return str(run["dag_run_id"])

    def trigger_alone(self, dag_id: str, conf: dict[str, Any] | None = None, timeout: float = 120) -> str:
        """Trigger a run of a SCHEDULED DAG (``max_active_runs=1``) and fail the scheduled runs that
        would go first: unpausing it makes the scheduler create the latest interval's run, which ran
        the whole DAG with its default params before the scenario's run could start (the sweep
        scenario waited ~70 s for it, issue 24). The scheduled run is never asserted on; it is marked
        failed through REST while ours is queued, and once more when ours has started."""
        run_id = self.trigger(dag_id, conf)
        deadline = time.monotonic() + timeout
        while True:
            self._fail_scheduled_runs(dag_id)
            state = self.run(dag_id, run_id)["state"]
            if state != "queued":
                self._fail_scheduled_runs(dag_id)
                return run_id
            if time.monotonic() > deadline:
                raise StageError(f"{dag_id} {run_id} still queued after {timeout:.0f}s")
            time.sleep(0.5)

    def _fail_scheduled_runs(self, dag_id: str) -> None:
        runs = self.get(f"/api/v2/dags/{dag_id}/dagRuns?limit=100&state=queued&state=running")["dag_runs"]
        for run in runs:
            if run.get("run_type") == "scheduled" and run.get("state") in ("queued", "running"):
                self.call(
                    "PATCH", f"/api/v2/dags/{dag_id}/dagRuns/{_q(run['dag_run_id'])}", {"state": "failed"}
                )

    def run(self, dag_id: str, run_id: str) -> dict[str, Any]:
        return dict(self.get(f"/api/v2/dags/{dag_id}/dagRuns/{_q(run_id)}"))

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        tis: list[dict[str, Any]] = []
        while True:
            page = self.get(
                f"/api/v2/dags/{dag_id}/dagRuns/{_q(run_id)}/taskInstances?limit=100&offset={len(tis)}"
            )
            tis.extend(page["task_instances"])
            if not page["task_instances"] or len(tis) >= page["total_entries"]:
                return tis

    def xcom(
        self, dag_id: str, run_id: str, task_id: str, key: str = "return_value", map_index: int = -1
    ) -> Any:
        path = f"/api/v2/dags/{dag_id}/dagRuns/{_q(run_id)}/taskInstances/{task_id}/xcomEntries/{key}"
        try:
            return self.get(f"{path}?map_index={map_index}&deserialize=true")["value"]
        except urllib.error.HTTPError as err:
            if err.code == 404:
                return None
            raise

    def wait_run(
        self,
        dag_id: str,
        run_id: str,
        timeout: float,
        on_poll: Callable[[list[dict[str, Any]]], None] | None = None,
        interval: float = 0.5,
    ) -> str:
        """Poll until the run is finished (``success``/``failed``); StageError after ``timeout``.

        Every 0.5 s (was 2 s: a second lost on average per run waited for, ~30 runs per stage): one
        small REST read of the run, loopback only."""
        deadline = time.monotonic() + timeout
        while True:
            state = self.run(dag_id, run_id)["state"]
            if on_poll is not None:
                on_poll(self.task_instances(dag_id, run_id))
            if state in ("success", "failed"):
                return str(state)
            if time.monotonic() > deadline:
                raise StageError(f"{dag_id} {run_id} still {state} after {timeout:.0f}s")
            time.sleep(interval)


def _q(text: str) -> str:
    return urllib.parse.quote(text, safe="")


@dataclass
class Deployment:
    """A whole deployment; use as a context manager. Options cover what benchmarks vary."""

    executor: str = "LocalExecutor"
    parallelism: int = 8
    dags_folder: Path = EXAMPLE_DAGS
    extra_env: dict[str, str] = field(default_factory=dict)
    #: more Airflow components to run, e.g. [["celery", "worker"]]
    extra_components: list[list[str]] = field(default_factory=list)
    sandbox_args: list[str] = field(default_factory=list)
    workdir: Path | None = None
    keep_workdir: bool = False
    verbose: bool = True
    #: seconds the components get to exit on SIGTERM at teardown before SIGKILL (the e2e stage
    #: gives 5: the triggerer alone took ~10 s to exit, and nothing is asserted after the last
    #: scenario; benchmarks keep 15)
    stop_grace: float = 15.0

    def __post_init__(self) -> None:
        self.callback_key = secrets.token_hex(16)
        self.jwt_secret = secrets.token_hex(24)
        self.api_port = free_port()
        self.api_url = f"http://127.0.0.1:{self.api_port}"
        self.plugin_receiver_url = f"{self.api_url}/rtc-callbacks"
        self.api = Api(self.api_url)
        self.sandbox: dict[str, Any] = {}
        self.sandbox_url = ""
        self.receiver_url = ""
        self.timings: dict[str, float] = {}

    # -- life cycle -------------------------------------------------------------------------------
    def __enter__(self) -> Deployment:
        self._tmp = Path(self.workdir or tempfile.mkdtemp(prefix="rtc-e2e-"))
        self._tmp.mkdir(parents=True, exist_ok=True)
        self.home = self._tmp / "airflow"
        self.home.mkdir(exist_ok=True)
        self.processes = Processes(self._tmp)
        self.postgres = Postgres(self._tmp, self.processes)
        self._old_handlers = _exit_on_signals()
        try:
            self._start()
        except BaseException as exc:
            if isinstance(exc, StageError):
                self.print_log_tails()
            self.__exit__(None, None, None)
            raise
        return self

    def print_log_tails(self, lines: int = 25) -> None:
        """The last lines of every process's log on stderr: a start that failed says why even when its
        work directory is removed (CI keeps only what was printed)."""
        for log in sorted(self.processes.logs.glob("*.log")):
            try:
                tail = log.read_text(errors="replace").splitlines()[-lines:]
            except OSError:
                continue
            print(f"---- {log.name} (last {len(tail)} lines)", file=sys.stderr)
            for line in tail:
                print(f"   {line[:300]}", file=sys.stderr)

    def __exit__(self, *exc: Any) -> None:
        try:
            started = time.monotonic()
            self.processes.stop_all(self.stop_grace)
            self.postgres.stop()
            self._say(f"stopped in {time.monotonic() - started:.1f}s")
            if not self.keep_workdir:
                shutil.rmtree(self._tmp, ignore_errors=True)
        finally:
            for sig, handler in self._old_handlers.items():
                signal.signal(sig, handler)

    @property
    def logs(self) -> Path:
        return self.processes.logs

    @property
    def scheduler_log(self) -> Path:
        """The scheduler's log (every start of it appends here): e2e/hitl.py waits on a line of it."""
        return self.logs / "scheduler.log"

    def _say(self, text: str) -> None:
        if self.verbose:
            print(f"   .. {text}", flush=True)

    def _timed(self, name: str, fn: Callable[[], Any]) -> Any:
        started = time.monotonic()
        result = fn()
        self.timings[name] = round(time.monotonic() - started, 1)
        self._say(f"{name}: {self.timings[name]}s")
        return result

    def _start(self) -> None:
        self.sql_url = self._timed("postgres", self.postgres.start)
        self._timed("sandbox", self._start_sandbox)
        self._timed("receiver", self._start_receiver)
        self.env = self.airflow_env()
        self._timed("db migrate", self._migrate)
        self._timed("airflow components", self._start_airflow)
        self._timed("execution API warm-up", self._warm_execution_api)

    def _start_sandbox(self) -> None:
        argv = [str(BIN / "rtc-sandbox"), "--port", "0", "--seed-event", "--random-seed", "7"]
        argv += ["--trtc-callback-key", self.callback_key, *self.sandbox_args]
        proc = self.processes.start("sandbox", argv, dict(os.environ), stdout=subprocess.PIPE)
        stdout = proc.popen.stdout
        assert stdout is not None
        ready, _, _ = select.select([stdout], [], [], 60)  # bounded: readline alone could block forever
        banner = stdout.readline() if ready else b""
        stdout.close()
        if not banner:
            raise StageError(f"the sandbox printed no banner within 60s; see {proc.log}")
        self.sandbox = json.loads(banner)
        self.sandbox_url = self.sandbox["url"]

    def _start_receiver(self) -> None:
        port = free_port()
        env = {**os.environ, "RTC_TRTC_CALLBACK_KEY": self.callback_key}
        argv = [str(BIN / "rtc-callback-receiver"), "--port", str(port), "--log-level", "warning"]
        argv += ["--db", str(self._tmp / "receiver.sqlite3")]
        self.processes.start("receiver", argv, env)
        self.receiver_url = f"http://127.0.0.1:{port}"
        wait_for(
            "rtc-callback-receiver", lambda: http_json("GET", f"{self.receiver_url}/healthz", timeout=5), 60
        )

    def airflow_env(self) -> dict[str, str]:
        """The settings every Airflow component needs (the ones a real deployment had to set)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW__", "AIRFLOW_CONN_"))}
        env.update(
            AIRFLOW_HOME=str(self.home),
            AIRFLOW__CORE__DAGS_FOLDER=str(self.dags_folder),
            AIRFLOW__CORE__LOAD_EXAMPLES="False",
            AIRFLOW__CORE__EXECUTOR=self.executor,
            AIRFLOW__CORE__PARALLELISM=str(self.parallelism),
            # every DAG starts paused; wait_dags() unpauses only those a run needs (a scheduled
            # example DAG, e.g. usage reports, would otherwise call the sandbox mid-scenario)
            AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION="True",
            AIRFLOW__CORE__TEST_CONNECTION="Enabled",
            AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS="admin:admin",
            AIRFLOW__CORE__EXECUTION_API_SERVER_URL=f"{self.api_url}/execution/",
            AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=self.sql_url,
            AIRFLOW__API__BASE_URL=self.api_url,
            AIRFLOW__API__PORT=str(self.api_port),
            AIRFLOW__API__HOST="127.0.0.1",
            AIRFLOW__API__WORKERS="1",
            AIRFLOW__API_AUTH__JWT_SECRET=self.jwt_secret,
            AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL="10",
            AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK="False",
            # a killed triggerer's triggers move to a live one once its heartbeat is older than this
            # threshold (airflow/models/trigger.py assign_unassigned; defaults 5 s beat, 30 s
            # threshold): the scenarios that SIGKILL the triggerer waited ~35 s for the takeover
            # (issue 24). A beat every 2 s, dead after 10 s (5 beats missed); with one triggerer a
            # late beat only reassigns its own triggers to itself
            AIRFLOW__TRIGGERER__JOB_HEARTBEAT_SEC="2",
            AIRFLOW__TRIGGERER__TRIGGERER_HEALTH_CHECK_THRESHOLD="10",
            AIRFLOW__LOGGING__LOGGING_LEVEL="INFO",
            # the receiver plugin inside the api-server (same key as the standalone receiver)
            AIRFLOW__RTC_CALLBACKS__ENABLED="True",
            AIRFLOW__RTC_CALLBACKS__TRTC_CALLBACK_KEY=self.callback_key,
            AIRFLOW__RTC_CALLBACKS__DB_PATH=str(self._tmp / "plugin-receiver.sqlite3"),
            # the example DAGs' recording waits: poll every 2 s, give up after 10 min
            RTC_RECORDING_POLL_SECONDS="2",
            RTC_RECORDING_WAIT_SECONDS="600",
            # the host rate limiter shared by this deployment's workers and triggerer, and no one else's
            AIRFLOW__RTC__RATE_LIMIT_DIR=str(self._tmp / "rate-limits"),
            # the lake DAG's AssetWatchers poll every 2 s (default 30)
            RTC_LAKE_POLL_SECONDS="2",
            # ... and hold a VOD recording 1 s after its 312 (default 60: TRTC's callback retry window)
            RTC_LAKE_VOD_COMMIT_GRACE_SECONDS="1",
            PYTHONUNBUFFERED="1",
            # this checkout's provider in every component (its plugin: the receiver and the RTC page),
            # not the copy an editable install of another checkout maps (as two_hosts.py does)
            PYTHONPATH=os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]),
        )
        env.update(self.extra_env)
        return env

    def _airflow(self, *args: str, timeout: float = 600) -> None:
        log = self.logs / f"airflow-{args[0]}-{args[1] if len(args) > 1 else ''}.log"
        with open(log, "ab") as out:
            result = subprocess.run(
                [str(BIN / "airflow"), *args], env=self.env, stdout=out, stderr=out, timeout=timeout
            )
        if result.returncode:
            raise StageError(f"airflow {' '.join(args)} failed (exit {result.returncode}); see {log}")

    def _migrate(self) -> None:
        self._airflow("db", "migrate")

    def start_component(self, *args: str) -> Proc:
        return self.processes.start(
            args[0] if len(args) == 1 else "-".join(args), [str(BIN / "airflow"), *args], self.env
        )

    def _start_airflow(self) -> None:
        self.start_component("api-server")
        for component in COMPONENTS[1:]:
            self.start_component(component)
        for argv in self.extra_components:
            self.start_component(*argv)
        wait_for(
            "the api-server",
            lambda: http_json("GET", f"{self.api_url}/api/v2/monitor/health", timeout=5),
            240,
            1,
        )
        passwords = self.home / "simple_auth_manager_passwords.json.generated"
        creds = wait_for(
            "the simple auth manager password file", lambda: json.loads(passwords.read_text()), 60
        )
        self.api.login("admin", creds["admin"])
        self.check_alive()

    def _warm_execution_api(self) -> None:
        """One request to the task execution API, as a deployment that has run any task has made.

        Airflow builds that API's versioned routes (Cadwyn) on its first request, in the api-server's
        event loop: measured 13.3 s at load 8-14, during which the first task's ``ti/run`` call and
        every other request waited. A real deployment pays it once, long before an event ends; here it
        would land on the first scenario's first task (issue 20, event benchmark).
        """
        url = f"{self.api_url}/execution/health"
        wait_for("the execution API", lambda: http_json("GET", url, timeout=120), 240, 1)

    def check_alive(self) -> None:
        """StageError if a long-running process (its latest start) has exited."""
        latest = {proc.name: proc for proc in self.processes.procs}
        dead = [name for name, proc in latest.items() if not proc.alive()]
        if dead:
            raise StageError(f"process(es) exited: {dead}; see {self.logs}")

    def wait_dags(self, dag_ids: Sequence[str], timeout: float = 300) -> None:
        """Bounded wait until the dag-processor has serialized every DAG in ``dag_ids``; unpause them."""

        def parsed() -> bool:
            found = {d["dag_id"] for d in self.api.get("/api/v2/dags?limit=100")["dags"]}
            return set(dag_ids) <= found

        wait_for(f"DAGs {list(dag_ids)} to be parsed", parsed, timeout, 0.5)
        for dag_id in dag_ids:  # created paused: unpause only these
            self.api.call("PATCH", f"/api/v2/dags/{dag_id}", {"is_paused": False})

    def reparse(self, dag_id: str) -> None:
        """Ask the dag-processor to parse ``dag_id``'s file now (``PUT /api/v2/parseDagFile``; it
        reads such requests every loop, about once a second). An AssetWatcher's trigger is added or
        removed only when its DAG's file is parsed unpaused or paused
        (airflow/dag_processing/collection.py ``add_asset_trigger_references``): without this, a
        pause or unpause of the lake DAG took effect up to ``min_file_process_interval`` (30 s)
        later (issue 24: 35 s of the burst scenario)."""
        token = self.api.get(f"/api/v2/dags/{dag_id}")["file_token"]
        self.api.call("PUT", f"/api/v2/parseDagFile/{token}")

    def triggerer_heartbeat(self) -> float:
        """The latest triggerer heartbeat (epoch seconds; 0 if none) from ``/api/v2/monitor/health``."""
        from datetime import datetime

        beat = (self.api.get("/api/v2/monitor/health").get("triggerer") or {}).get(
            "latest_triggerer_heartbeat"
        )
        return datetime.fromisoformat(beat.replace("Z", "+00:00")).timestamp() if beat else 0.0

    def restart(self, name: str, *, kill: bool = False) -> Proc:
        """Stop (or SIGKILL, as a crash) one Airflow component and start it again."""
        proc = self.processes.get(name)
        proc.kill() if kill else proc.stop()
        return self.start_component(name)

    # -- the sandbox ------------------------------------------------------------------------------
    def sandbox_call(self, method: str, path: str, body: Any = None) -> Any:
        return http_json(method, f"{self.sandbox_url}/_sandbox{path}", body, timeout=30)
