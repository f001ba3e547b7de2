"""`make demo`: end a live event through Airflow, on the embedded sandbox, and report at a glance.

Starts `rtc-callback-receiver` and `rtc-sandbox` seeded with an event (TRTC rooms with users and
recordings, Live mix sessions, ZEGO rooms with streams, mixes and recordings) and a few seeded
faults (throttles, internal errors, a 5xx page, a lost answer). Then, with `airflow dags test` in a
local AIRFLOW_HOME: `end_of_event_cleanup` ends the event, and `recording_postprocessing` waits
(deferred) until every recording's files are uploaded - TRTC's upload callbacks travel from the
sandbox to the receiver - and totals the manifests per room. Prints what was cleaned, how many
calls and retries it took, the recording manifests, and what is left in the sandbox. Finally
`rtc-provider probe` runs once against the same sandbox and prints its table, and `enforce_caps`
warns about a room near its cap, ends one past it and shows the audit lines (tools/demo_caps.py).
"""

from __future__ import annotations

import ast
import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from rtc_sandbox.inventory import cleanup_conf, leftovers

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / ".demo"
AIRFLOW_HOME = WORK / "airflow"
LOGS = WORK / "logs"
BIN = Path(sys.executable).parent

#: seeded faults that show the provider riding through a throttling cloud and a lost answer
DEMO_FAULTS = [
    "DismissRoom:throttle:0.15",
    "DismissRoom:drop:0.1",
    "DeleteStream:internal:0.1",
    "CancelCommonMixStream:http5xx:0.2",
]


def _get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as resp:  # noqa: S310 (loopback sandbox)
        return json.loads(resp.read())


def _airflow_env(connections: dict[str, Any]) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        AIRFLOW_HOME=str(AIRFLOW_HOME),
        AIRFLOW__CORE__DAGS_FOLDER=str(ROOT / "example_dags"),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__LOGGING__LOGGING_LEVEL="INFO",
    )
    for conn_id, conn in connections.items():
        env[f"AIRFLOW_CONN_{conn_id.upper()}"] = json.dumps(conn)
    return env


def _step(text: str) -> None:
    print(f"==> {text}", flush=True)


def migrate(env: dict[str, str]) -> None:
    _step(f"preparing AIRFLOW_HOME at {AIRFLOW_HOME.relative_to(ROOT)} (airflow db migrate)")
    AIRFLOW_HOME.mkdir(parents=True, exist_ok=True)
    with open(LOGS / "db-migrate.log", "w") as log:
        subprocess.run([str(BIN / "airflow"), "db", "migrate"], env=env, stdout=log, stderr=log, check=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_receiver(key: str) -> tuple[subprocess.Popen[str], str]:
    _step("starting rtc-callback-receiver (verifies and stores TRTC recording callbacks)")
    port = _free_port()
    db = WORK / "callbacks.sqlite3"
    db.unlink(missing_ok=True)
    env = {**os.environ, "RTC_TRTC_CALLBACK_KEY": key}
    log = open(LOGS / "receiver.log", "w")  # noqa: SIM115 (lives as long as the receiver)
    proc = subprocess.Popen(
        [str(BIN / "rtc-callback-receiver"), "--port", str(port), "--db", str(db), "--log-level", "warning"],
        env=env,
        stdout=log,
        stderr=log,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    # up to 60 s: on 2 busy cores its imports alone took 9 s (10 s was the old limit)
    for _ in range(600):
        try:
            _get(f"{url}/healthz")
            return proc, url
        except OSError:
            time.sleep(0.1)
    proc.terminate()
    raise SystemExit(f"callback receiver did not start; see {LOGS / 'receiver.log'}")


def start_sandbox(receiver_url: str, key: str) -> tuple[subprocess.Popen[str], dict[str, Any]]:
    _step("starting the sandbox with a live event and seeded faults")
    args = [sys.executable, "-m", "rtc_sandbox", "--port", "0", "--seed-event"]
    args += ["--random-seed", "7", "--upload-delay", "3"]
    args += ["--trtc-callback-url", f"{receiver_url}/trtc/callback", "--trtc-callback-key", key]
    for fault in DEMO_FAULTS:
        args += ["--fault", fault]
    err = open(LOGS / "sandbox.log", "w")  # noqa: SIM115 (lives as long as the sandbox)
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=err, text=True)
    assert proc.stdout is not None
    first = proc.stdout.readline()
    if not first:
        proc.wait(5)
        raise SystemExit(f"sandbox did not start; see {LOGS / 'sandbox.log'}")
    return proc, json.loads(first)


def recording_conf(state: dict[str, Any]) -> dict[str, Any]:
    """Every recording of the event, running or not: the post-processing DAG waits for all uploads."""
    return {
        "trtc_recordings": [r["task_id"] for r in state["trtc"]["recordings"]],
        "zego_recordings": [r["task_id"] for r in state["zego"]["recordings"]],
    }


def run_dag(dag_id: str, conf: dict[str, Any], env: dict[str, str]) -> tuple[bool, float]:
    _step(f"airflow dags test {dag_id}")
    started = time.monotonic()
    log_path = LOGS / f"{dag_id}.log"
    with open(log_path, "w") as log:
        proc = subprocess.run(
            [str(BIN / "airflow"), "dags", "test", dag_id, "-c", json.dumps(conf)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    elapsed = time.monotonic() - started
    text = log_path.read_text()
    ok = proc.returncode == 0 and "state=success" in text.replace(" ", "").lower().replace("dagrunstate.", "")
    print(f"    {'success' if ok else 'FAILED'} in {elapsed:.1f}s (log: {log_path.relative_to(ROOT)})")
    return ok, elapsed


def dag_summary(dag_id: str) -> dict[str, dict[str, int]]:
    """The per-step outcome counts the cleanup DAG's last task printed."""
    marker = "End-of-event summary: "
    for line in (LOGS / f"{dag_id}.log").read_text().splitlines():
        if marker in line:
            return ast.literal_eval(line.split(marker, 1)[1].strip())
    return {}


def recording_summary() -> dict[str, Any]:
    """The per-room totals the post-processing DAG's last task printed (it also wrote them as JSON)."""
    marker = "Recording summary: "
    for line in (LOGS / "recording_postprocessing.log").read_text().splitlines():
        if marker in line:
            return json.loads(line.split(marker, 1)[1].strip())
    return {}


def main() -> int:
    LOGS.mkdir(parents=True, exist_ok=True)
    env = _airflow_env({})
    migrate(env)
    key = secrets.token_hex(16)  # the TRTC callback key shared by the sandbox and the receiver
    receiver, receiver_url = start_receiver(key)
    sandbox, info = start_sandbox(receiver_url, key)
    try:
        url = info["url"]
        conns = info["connections"]
        conns["tencentcloud_default"]["extra"].update(callback_receiver_url=receiver_url, callback_secret=key)
        env = _airflow_env(conns)
        env.update(RTC_RECORDING_POLL_SECONDS="2", RTC_RECORDING_WAIT_SECONDS="300")
        before = _get(f"{url}/_sandbox/state")
        conf = cleanup_conf(before)
        ok, elapsed = run_dag("end_of_event_cleanup", conf, env)
        rec_ok, rec_elapsed = run_dag("recording_postprocessing", recording_conf(before), env)
        lake_ok = copy_to_lake(url, env) if rec_ok else False
        usage_ok, usage_text = usage_section(env)
        after = _get(f"{url}/_sandbox/state")
        stats = _get(f"{url}/_sandbox/stats")
        probe_ok, probe_text = probe_section(url, env, before)
        caps_ok, caps_text = caps_section(url, env)
    finally:
        for proc in (sandbox, receiver):
            proc.terminate()
            proc.wait(10)
    print()
    print(report(conf, dag_summary("end_of_event_cleanup"), after, stats, elapsed))
    print()
    print(recording_report(recording_summary(), rec_elapsed))
    print()
    print(lake_report(lake_summary()))
    print()
    print(usage_text)
    print()
    print(probe_text)
    print()
    print(caps_text)
    print()
    sys.path.insert(0, str(ROOT / "tools"))
    from demo_discovery import run as run_discovery

    _step("discovery: seed an event, lose a fifth of its callbacks, discover, dry-run, end, verify")
    disc_ok, disc_report = run_discovery(str(LOGS / "discovery.log"))
    print(disc_report)
    done = ok and rec_ok and usage_ok and lake_ok and disc_ok and probe_ok and caps_ok
    return 0 if done and not any(leftovers(after).values()) else 1


def caps_section(url: str, env: dict[str, str]) -> tuple[bool, str]:
    """Cost caps: a warning near a cap, a room ended past it, the run's audit lines (demo_caps)."""
    sys.path.insert(0, str(ROOT / "tools"))
    from demo_caps import run as run_caps

    _step("cost caps: rooms seeded 3 h, 1 h 55 min and 30 min ago; enforce_caps with a 2 h cap")
    return run_caps(url, env, AIRFLOW_HOME, LOGS, run_dag, _get)


def usage_section(env: dict[str, str]) -> tuple[bool, str]:
    """`usage_reports` for yesterday (Beijing), then the files it wrote: rows and totals per metric."""
    from airflow_provider_rtc.reports import files
    from airflow_provider_rtc.reports.specs import totals

    destination = WORK / "usage"
    today = time.strftime("%Y-%m-%d", time.gmtime(time.time() + 8 * 3600))  # Beijing date
    yesterday = time.strftime("%Y-%m-%d", time.gmtime(time.time() + 8 * 3600 - 86400))
    _step("airflow dags test usage_reports (yesterday, Beijing time)")
    started = time.monotonic()
    log_path = LOGS / "usage_reports.log"
    command = [str(BIN / "airflow"), "dags", "test", "usage_reports", f"{today}T00:00:00+08:00"]
    with open(log_path, "w") as log:
        proc = subprocess.run(
            [*command, "-c", json.dumps({"destination": str(destination)})],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    elapsed = time.monotonic() - started
    lines = [f"Usage reports (sandbox, Beijing date {yesterday})", "=" * 45]
    paths = sorted(destination.glob(f"*/*_{yesterday}_{yesterday}.csv"))
    for path in paths:
        rows = files.read_rows(path.read_bytes(), "csv")
        summary = ", ".join(f"{k} {v:,.1f}" for k, v in totals(rows).items())
        lines.append(f"  {path.parent.name:<21} {len(rows):>4} rows  {summary}")
    ok = proc.returncode == 0 and len(paths) == 7
    lines.append(
        f"  {len(paths)} file(s) under {destination.relative_to(ROOT)}; DAG wall time {elapsed:.1f}s"
    )
    if not ok:
        lines.append(f"  FAILED: see {log_path.relative_to(ROOT)}")
    return ok, "\n".join(lines)


def probe_section(url: str, env: dict[str, str], state: dict[str, Any]) -> tuple[bool, str]:
    """`rtc-provider probe` once against the sandbox: each cataloged API called in a way that cannot
    change anything, its answer next to the catalog's assumption; the sandbox must be unchanged."""
    from rtc_sandbox.inventory import live_resources

    _step("rtc-provider probe (each cataloged API once, on ids that cannot exist)")
    # a push domain of the event, as a user would pass theirs; the stream name is random
    domain = next((s["domain_name"] for s in state["live"]["streams"]), "push.example.com")
    command = [sys.executable, "-m", "airflow_provider_rtc.cli", "probe", "--conn-id", "tencentcloud_default"]
    command += ["--zego-conn-id", "zegocloud_default", "--live-domain", domain]
    before = live_resources(_get(f"{url}/_sandbox/state"))
    started = time.monotonic()
    proc = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True)
    elapsed = time.monotonic() - started
    unchanged = live_resources(_get(f"{url}/_sandbox/state")) == before
    (LOGS / "probe.log").write_text(proc.stdout + proc.stderr)
    lines = ["Account probe (rtc-provider probe, against the sandbox)", "=" * 55]
    lines += ["  " + line if line else "" for line in proc.stdout.rstrip().splitlines()]
    verdict = "yes" if unchanged else "NO"
    lines.append(f"  wall time {elapsed:.1f}s; sandbox unchanged by the probe: {verdict}")
    if proc.returncode != 0:
        lines.append(f"  FAILED (exit code {proc.returncode}): see {(LOGS / 'probe.log').relative_to(ROOT)}")
    return proc.returncode == 0 and unchanged, "\n".join(lines)


# -- the recordings in the lake (recordings_to_lake) ---------------------------------------------

LAKE = WORK / "lake"


def copy_to_lake(sandbox_url: str, env: dict[str, str]) -> bool:
    """Copy the uploaded recordings' files into a local lake, as the event-driven DAG does for each
    recording (here in one manual run, with the manifests the post-processing DAG wrote)."""
    import shutil

    shutil.rmtree(LAKE, ignore_errors=True)  # a fresh lake, so the report shows this run's copies
    manifests = json.loads(Path(recording_summary()["manifest_path"]).read_text())
    conf = {
        "manifests": manifests,
        "destination": f"file://{LAKE}",
        # the sandbox serves the recordings on 127.0.0.1, which the copy refuses unless allowed
        "allow_private_sources": True,
        # TRTC COS files carry no URL in the manifest: the sandbox serves its emulated bucket here
        "source_url_template": f"{sandbox_url}/_sandbox/storage/trtc/{{task_id}}/{{name}}",
    }
    ok, _ = run_dag("recordings_to_lake", conf, env)
    return ok


def lake_summary() -> dict[str, Any]:
    marker = "Lake summary: "
    path = LOGS / "recordings_to_lake.log"
    for line in path.read_text().splitlines() if path.exists() else []:
        if marker in line:
            return json.loads(line.split(marker, 1)[1].strip())
    return {}


def lake_report(summary: dict[str, Any]) -> str:
    lines = ["Recordings copied to the lake", "=" * 29]
    if not summary:
        return "\n".join([*lines, "  no summary: see .demo/logs/recordings_to_lake.log"])
    on_disk = [p for p in LAKE.rglob("*") if p.is_file() and not p.name.startswith(".")]
    lines += [
        f"  recordings: {summary['recordings']}, files: {summary['files']}, "
        f"bytes: {summary['bytes']:,} ({summary['bytes'] / 1e6:.1f} MB)",
        f"  destination: {summary['destination']}",
        f"  on disk: {len(on_disk)} files, {sum(p.stat().st_size for p in on_disk):,} bytes",
    ]
    return "\n".join(lines)


def recording_report(summary: dict[str, Any], elapsed: float) -> str:
    lines = ["Recordings uploaded (manifests)", "=" * 31]
    if not summary:
        return "\n".join([*lines, "  no summary: see .demo/logs/recording_postprocessing.log"])
    lines.append(
        f"  {'room':<22} {'recordings':>10} {'files':>6} {'MB':>9} {'minutes':>8} {'not uploaded':>13}"
    )
    for room, totals in summary["rooms"].items():
        megabytes, minutes = totals["size_bytes"] / 1e6, totals["duration_ms"] / 60000
        lines.append(
            f"  {room:<22} {totals['recordings']:>10} {totals['files']:>6} "
            f"{megabytes:>9.1f} {minutes:>8.1f} {totals['not_uploaded']:>13}"
        )
    lines.append(f"  {summary['recordings']} recording(s); manifests written to {summary['manifest_path']}")
    lines.append(
        f"  post-processing DAG wall time (stop, wait deferred until uploaded, total): {elapsed:.1f}s"
    )
    if summary["not_uploaded"]:
        lines.append(f"  NOT uploaded: {summary['not_uploaded']}")
    return "\n".join(lines)


def report(
    conf: dict[str, Any],
    summary: dict[str, dict[str, int]],
    after: dict[str, Any],
    stats: dict[str, Any],
    elapsed: float,
) -> str:
    lines = [
        "End-of-event report (sandbox)",
        "=" * 29,
        f"  {'cloud':<5} {'step':<24} {'targets':>7}  outcome",
    ]
    rows = [
        ("TRTC", "recordings stopped", "trtc_recordings", "stop_trtc_recording"),
        ("TRTC", "rooms dismissed", "trtc_rooms", "dismiss_trtc_room"),
        ("Live", "mix sessions cancelled", "live_mix_sessions", "cancel_live_mix"),
        ("Live", "pushed streams dropped", "live_streams", "drop_live_stream"),
        ("ZEGO", "mix tasks stopped", "zego_mixes", "stop_zego_mix"),
        ("ZEGO", "recordings stopped", "zego_recordings", "stop_zego_recording"),
        ("ZEGO", "streams deleted", "zego_streams", "delete_zego_stream"),
        ("ZEGO", "users kicked (calls)", "zego_kicks", "kick_zego_users"),
        ("ZEGO", "rooms closed", "zego_rooms", "close_zego_room"),
    ]
    for cloud, what, key, step in rows:
        outcome = ", ".join(f"{n} {status}" for status, n in sorted(summary.get(step, {}).items())) or "-"
        lines.append(f"  {cloud:<5} {what:<24} {len(conf[key]):>7}  {outcome}")
    totals = stats["totals"]
    faults = sum(totals["faults"].values())
    lines += [
        "",
        f"  API calls received by the sandbox: {totals['calls']}",
        f"  retries forced: {totals['throttled']} rate-limit answers + {faults} injected faults "
        f"{dict(sorted(totals['faults'].items()))}; every one retried, none surfaced",
        f"  cleanup DAG wall time: {elapsed:.1f}s",
    ]
    left = {k: v for k, v in leftovers(after).items() if v}
    lines.append(f"  left in the sandbox: {left if left else 'nothing'}")
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
