"""The `recordings_to_lake` scenario: the AssetWatcher's trigger in the real triggerer process.

Recordings are seeded and stopped in the sandbox; their upload callbacks go to a receiver started
for this scenario alone (so callbacks stored by earlier scenarios cannot turn into asset events of
recordings that no longer exist). The lake is an S3-compatible store (moto in server
mode on loopback, started for this scenario) reached through an Airflow ``aws`` connection named by
``destination_conn_id`` (the Variable ``rtc_lake_conn_id``), as a COS lake is; the sandbox's file
URLs are on 127.0.0.1, so the Variable ``rtc_lake_allow_private_sources`` lets the copy fetch them.
The scenario asserts on Airflow's REST state (asset events, the
runs they triggered) and on the objects in the bucket, then SIGKILLs the triggerer's process group,
restarts it, uploads more recordings and asserts that no recording got two asset events and none
got none: the cursor really lives in the asset state store, not in the process that died.
"""

from __future__ import annotations

import json
import logging
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from .harness import Deployment, StageError, wait_for
from .receivers import ScenarioReceiver

LAKE_DAG = "recordings_to_lake"
ASSET_NAMES = ("rtc_trtc_recording_uploaded", "rtc_zego_recording_uploaded")
LAKE_VARIABLE = "rtc_lake_destination"
LAKE_CONN = "rtc_lake_s3"
LAKE_BUCKET = "rtc-lake-e2e"
#: the recordings of each phase (TRTC on VOD, whose callbacks carry the file URLs)
PHASES: tuple[dict[str, Any], ...] = (
    {
        "trtc": {"rooms": 4, "users_per_room": 1, "recordings": 4, "recording_storage": "vod"},
        "zego": {"rooms": 3, "users_per_room": 1, "streams_per_room": 1, "recordings": 3},
    },
    {
        "trtc": {"rooms": 3, "users_per_room": 1, "recordings": 3, "recording_storage": "vod"},
        "zego": {"rooms": 2, "users_per_room": 1, "streams_per_room": 1, "recordings": 2},
    },
)
UPLOAD_DELAY = 3.0
#: the trigger commits a recording to its cursor `commit_delay` (10 s) after handing it over; a
#: kill before that may legitimately emit it twice. The scenario waits until the cursor in the asset
#: state store (REST ``/api/v2/assets/{id}/state-store``, Airflow 3.3+) holds the recordings; this
#: fixed wait is only the fallback where that endpoint is missing (it was the only wait, 25 s + 12.5 s
#: of each run, issue 24)
COMMIT_WAIT = 25.0
EVENT_TIMEOUT = 180.0
#: seconds between the scenario's REST/S3 reads (12 recordings: small reads; were 2-3 s)
POLL = 1.0


def _check(condition: Any, message: str) -> None:
    if not condition:
        raise AssertionError(message)


class LakeRun:
    """What one `recordings_to_lake` scenario set up, and the REST reads it asserts on."""

    def __init__(self, dep: Deployment) -> None:
        self.dep = dep
        self.prefix = f"lake-{int(time.time())}"
        self.task_ids: dict[str, str] = {}  # task_id -> cloud
        self.receiver = ScenarioReceiver(dep, "lake-receiver")
        self.moto: Any = None
        self.s3: Any = None

    # -- set-up ----------------------------------------------------------------------------------
    def start_store(self) -> None:
        """moto's S3 on a free loopback port, a bucket, and the connection the copy must name."""
        import boto3
        from moto.server import ThreadedMotoServer

        from .harness import free_port
        from .scenarios import put_connection

        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's request lines
        self.moto = ThreadedMotoServer(ip_address="127.0.0.1", port=free_port(), verbose=False)
        self.moto.start()
        host, port = self.moto.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        keys = {"aws_access_key_id": "e2e-lake", "aws_secret_access_key": "e2e-lake-secret"}
        self.s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", **keys)
        self.s3.create_bucket(Bucket=LAKE_BUCKET)
        conn = {
            "conn_type": "aws",
            "login": keys["aws_access_key_id"],
            "password": keys["aws_secret_access_key"],
        }
        put_connection(self.dep, LAKE_CONN, conn, {"endpoint_url": endpoint, "region_name": "us-east-1"})

    def stop_store(self) -> None:
        if self.moto is not None:
            self.moto.stop()

    def set_variable(self, key: str, value: str) -> None:
        body = {"key": key, "value": value}
        try:
            self.dep.api.call("POST", "/api/v2/variables", body)
        except urllib.error.HTTPError as err:
            if err.code != 409:
                raise
            self.dep.api.call("PATCH", f"/api/v2/variables/{key}", body)

    def set_destination(self) -> None:
        self.set_variable(LAKE_VARIABLE, f"s3://{LAKE_BUCKET}/{self.prefix}")
        self.set_variable("rtc_lake_conn_id", LAKE_CONN)
        self.set_variable("rtc_lake_allow_private_sources", "true")  # the sandbox is on 127.0.0.1

    def pause(self, paused: bool) -> None:
        """Pause or unpause the lake DAG; its watchers stop or start once its file is parsed, which
        is requested now."""
        self.dep.api.call("PATCH", f"/api/v2/dags/{LAKE_DAG}", {"is_paused": paused})
        self.dep.reparse(LAKE_DAG)

    def upload(self, spec: dict[str, Any]) -> list[str]:
        """Seed recordings and stop them: their files upload `UPLOAD_DELAY` seconds later."""
        from airflow_provider_rtc.hooks.trtc import TrtcHook
        from airflow_provider_rtc.hooks.zego import ZegoCloudRecordHook

        seeded = self.dep.sandbox_call("POST", "/seed", spec)
        trtc = [r["task_id"] for r in seeded["trtc"]["recordings"]]
        zego = [r["task_id"] for r in seeded["zego"]["recordings"]]
        trtc_hook, zego_hook = TrtcHook(), ZegoCloudRecordHook()
        for task_id in trtc:
            trtc_hook.delete_cloud_recording(task_id)
            self.task_ids[task_id] = "trtc"
        for task_id in zego:
            zego_hook.stop_record(task_id)
            self.task_ids[task_id] = "zego"
        return trtc + zego

    # -- reads -----------------------------------------------------------------------------------
    def asset_ids(self) -> dict[int, str]:
        assets = self.dep.api.get("/api/v2/assets?limit=100")["assets"]
        return {int(a["id"]): a["name"] for a in assets if a["name"] in ASSET_NAMES}

    def events(self) -> list[dict[str, Any]]:
        """Every asset event of the watched assets about one of this scenario's recordings."""
        found: list[dict[str, Any]] = []
        for asset_id in self.asset_ids():
            offset = 0
            while True:
                query = f"asset_id={asset_id}&limit=100&offset={offset}"
                page = self.dep.api.get(f"/api/v2/assets/events?{query}")
                batch = page["asset_events"]
                found += [e for e in batch if _task_id(e) in self.task_ids]
                offset += len(batch)
                if not batch or offset >= page["total_entries"]:
                    break
        return found

    def wait_events(self, task_ids: list[str]) -> list[dict[str, Any]]:
        def all_there() -> list[dict[str, Any]] | None:
            events = self.events()
            return events if set(task_ids) <= {_task_id(e) for e in events} else None

        what = f"asset events for {len(task_ids)} recording(s)"
        return list(wait_for(what, all_there, EVENT_TIMEOUT, POLL))

    def runs(self) -> list[dict[str, Any]]:
        return list(self.dep.api.get(f"/api/v2/dags/{LAKE_DAG}/dagRuns?limit=100")["dag_runs"])

    def wait_runs_finished(self) -> list[dict[str, Any]]:
        def finished() -> list[dict[str, Any]] | None:
            runs = self.runs()
            return runs if runs and all(r["state"] in ("success", "failed") for r in runs) else None

        return list(wait_for("the lake runs to finish", finished, EVENT_TIMEOUT, POLL))

    def objects(self) -> dict[str, int]:
        """key -> size of every object under this scenario's lake prefix."""
        found: dict[str, int] = {}
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=LAKE_BUCKET, Prefix=self.prefix):
            found.update({o["Key"]: int(o["Size"]) for o in page.get("Contents", [])})
        return found

    def lake_files(self, task_id: str) -> dict[str, int]:
        """name -> size of the files copied for one recording (any layout that has the task id)."""
        found: dict[str, int] = {}
        for key, size in self.objects().items():
            parts = key.split("/")
            if task_id in parts[:-1] and not parts[-1].startswith("."):
                found[parts[-1]] = size
        return found

    def committed(self) -> set[str] | None:
        """Task ids in the watchers' committed cursors (the ``emitted`` map each trigger saves in its
        asset's state store, keys ``<cloud>/<app>/<task_id>``); None where Airflow has no such REST
        endpoint (before 3.3)."""
        found: set[str] = set()
        for asset_id in self.asset_ids():
            try:
                page = self.dep.api.get(f"/api/v2/assets/{asset_id}/state-store?limit=100")
            except urllib.error.HTTPError as err:
                if err.code == 404:  # no such endpoint (the asset itself was just listed)
                    return None
                raise
            for entry in page.get("asset_state_store") or []:
                value = entry.get("value")
                if isinstance(value, dict):
                    found |= {str(k).rsplit("/", 1)[-1] for k in value.get("emitted") or {}}
        return found

    def wait_committed(self, task_ids: list[str], fallback: float) -> float:
        """Until every recording of ``task_ids`` is in a watcher's committed cursor: from then on a
        restart cannot emit it again, and a watcher that committed it has polled past it
        (``commit_delay`` / poll interval times). Sleeps ``fallback`` s where the cursor cannot be
        read. Returns the seconds waited."""
        started = time.monotonic()
        if self.committed() is None:
            time.sleep(fallback)
        else:
            wanted = set(task_ids)
            wait_for(
                f"{len(wanted)} recording(s) in the watchers' cursors",
                lambda: wanted <= (self.committed() or set()),
                EVENT_TIMEOUT,
                1,
            )
        return round(time.monotonic() - started, 1)

    def partials(self) -> list[str]:
        return [k for k in self.objects() if k.rsplit("/", 1)[-1].startswith(".") and k.endswith(".partial")]


def use_client_connections(dep: Deployment) -> None:
    """This process calls the sandbox with the provider's hooks: give them the sandbox's conns."""
    os.environ.setdefault("AIRFLOW_HOME", str(dep.home.parent / "client"))
    for conn_id, conn in dep.sandbox["connections"].items():
        os.environ[f"AIRFLOW_CONN_{conn_id.upper()}"] = json.dumps(conn)


def _task_id(event: dict[str, Any]) -> str:
    payload = (event.get("extra") or {}).get("payload") or {}
    return str(payload.get("task_id") or "")


def _expected_files(event: dict[str, Any]) -> dict[str, int]:
    """name -> size of each file of the event's manifest: the size the sandbox serves it with
    (HEAD), which must match the manifest's where the manifest gives one."""
    manifest = event["extra"]["payload"]["manifest"]
    sizes: dict[str, int] = {}
    for item in manifest["files"]:
        _check(item.get("url"), f"{manifest.get('task_id')}: {item['name']} has no URL")
        req = urllib.request.Request(item["url"], method="HEAD")  # noqa: S310 (the sandbox, loopback)
        with urllib.request.urlopen(req, timeout=30) as resp:  # noqa: S310
            served = int(resp.headers["Content-Length"])
        if item.get("size") is not None:
            _check(int(item["size"]) == served, f"{item['name']}: manifest size {item['size']} != {served}")
        sizes[item["name"]] = served
    return sizes


def verify_phase(run: LakeRun, task_ids: list[str], events: list[dict[str, Any]]) -> tuple[int, int]:
    """Each recording's files reach the lake with the manifest's sizes (and, for TRTC, the
    sandbox's own) and every lake run succeeds. Returns (files, bytes)."""
    by_task = {_task_id(e): e for e in events}
    want: dict[str, dict[str, int]] = {}
    for task_id in task_ids:
        event = by_task[task_id]
        _check(event["extra"].get("from_trigger") is True, f"{task_id}: the asset event is not a trigger's")
        want[task_id] = _expected_files(event)
        _check(want[task_id], f"{task_id}: the manifest lists no file")
        if run.task_ids[task_id] == "trtc":
            listing = run.dep.sandbox_call("GET", f"/storage/trtc/{task_id}")
            in_sandbox = {f["name"]: int(f["size"]) for f in listing["files"]}
            _check(
                want[task_id] == in_sandbox, f"{task_id}: manifest {want[task_id]} != sandbox {in_sandbox}"
            )

    def all_copied() -> bool:
        return all(run.lake_files(t) == want[t] for t in task_ids)

    try:
        wait_for("every recording's files in the lake", all_copied, EVENT_TIMEOUT, POLL)
    except StageError:
        got = {t: run.lake_files(t) for t in task_ids if run.lake_files(t) != want[t]}
        raise AssertionError(f"not in the lake (or wrong sizes): {got}") from None
    runs = run.wait_runs_finished()
    bad = [r["dag_run_id"] for r in runs if r["state"] != "success"]
    _check(not bad, f"lake runs not successful: {bad}")
    return sum(len(w) for w in want.values()), sum(sum(w.values()) for w in want.values())


def recordings_to_lake_scenario(dep: Deployment) -> dict[str, Any]:
    from .scenarios import fresh_event, use_receiver

    started = time.monotonic()
    fresh_event(dep)
    run = LakeRun(dep)
    run.receiver.start()
    try:
        run.start_store()
        use_receiver(dep, run.receiver.url)
        dep.sandbox_call("PUT", "/timing", {"upload_delay": UPLOAD_DELAY})
        run.set_destination()
        use_client_connections(dep)
        dep.wait_dags([LAKE_DAG])  # parsed, then unpaused: only now do its watchers run
        dep.reparse(LAKE_DAG)  # at the next parse, requested now

        first = run.upload(PHASES[0])
        events_1 = run.wait_events(first)
        files_1, bytes_1 = verify_phase(run, first, events_1)

        # the cursor holds the phase-1 recordings (committed `commit_delay` after their events)
        commit_1 = run.wait_committed(first, COMMIT_WAIT)
        killed_at = time.time()
        dep.restart("triggerer", kill=True)  # SIGKILL to its whole process group, then a fresh one
        second = run.upload(PHASES[1])
        events_2 = [e for e in run.wait_events(second) if _task_id(e) in second]
        files_2, bytes_2 = verify_phase(run, second, events_2)

        # give a re-emission a chance to show up before counting: the restarted watcher re-reads
        # from the phase-1 cursor on its first poll, before it emits phase 2; once phase 2 is
        # committed too, that poll lies `commit_delay` (10 s, 5 polls) behind and its events are
        # stored (the triggerer stores an event in about a second)
        commit_2 = run.wait_committed(second, COMMIT_WAIT / 2)
        events = run.events()
        per_recording: dict[str, int] = {}
        for event in events:
            per_recording[_task_id(event)] = per_recording.get(_task_id(event), 0) + 1
        twice = {k: n for k, n in per_recording.items() if n > 1}
        missing = sorted(set(run.task_ids) - set(per_recording))
        _check(not twice, f"recordings with more than one asset event: {twice}")
        _check(not missing, f"recordings without an asset event: {missing}")
        late = [_task_id(e) for e in events_2 if _parse_ts(e["timestamp"]) < killed_at]
        _check(not late, f"phase-2 events stored before the triggerer was killed: {late}")
        _check(not run.partials(), f"partial files left in the lake: {run.partials()}")
        objects = run.objects()
        return {
            "lake": f"s3://{LAKE_BUCKET}/{run.prefix} (moto, connection {LAKE_CONN})",
            "objects": len(objects),
            "recordings": len(run.task_ids),
            "lake_runs": len(run.runs()),
            "events": len(events),
            "files": files_1 + files_2,
            "bytes": bytes_1 + bytes_2,
            "triggerer_killed": True,
            "commit_wait_s": f"{commit_1}+{commit_2}",
            "seconds": round(time.monotonic() - started, 1),
        }
    finally:
        run.pause(True)
        use_receiver(dep, dep.receiver_url)
        run.receiver.stop()
        run.stop_store()


def _parse_ts(text: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
