"""The receiver's signed reads at their edges: which paths a reader may have signed (query, mount
prefix, proxy-stripped prefix), the configured skew, the answer's fields, each refusal's status and
warning, and ``/tasks``' since/limit/after rules.

Written for the mutants run 8 of `make mutate` left alive in ``callbacks/app.py``'s ``authorize``,
``_signed_paths``, ``_read_denied``, ``read_events`` and ``read_changes``. HTTP through Starlette's
TestClient; read signatures judged on the clock of ``callbacks.auth.use_clock``.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import Mount

from airflow_provider_rtc.callbacks import auth
from airflow_provider_rtc.callbacks.app import _signed_paths, create_app
from airflow_provider_rtc.callbacks.auth import sign_read
from airflow_provider_rtc.callbacks.config import ReceiverConfig
from airflow_provider_rtc.callbacks.store import CallbackStore
from tests.support.receiver import APP, KEY, NOW, SECRET, TestClient, receiver_client, receiver_config

LOGGER = "airflow_provider_rtc.callbacks.app"
UNKNOWN_CLOUD = "unknown cloud: use trtc or zego"
UNSIGNED = "unsigned request: X-RTC-Timestamp and X-RTC-Signature are required"


@pytest.fixture(autouse=True)
def read_clock() -> Iterator[None]:
    """Read signatures made and judged at NOW, without waiting."""
    previous = auth.use_clock(lambda: NOW)
    yield
    auth.use_clock(previous)


def put(cfg: ReceiverConfig, task_id: str, at: float, cloud: str = "trtc") -> None:
    CallbackStore(cfg.db_path).put(
        cloud=cloud, app_id=APP, task_id=task_id, event_type=305, file_key="", status=0,
        event_ms=int(at * 1000), body={"TaskId": task_id}, now=at,
    )  # fmt: skip


def read(client: TestClient, path: str, key: str = KEY, **kw: Any) -> Any:
    return client.get(path, headers=sign_read(key, path, **kw))


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[str]:
    lines = [r.getMessage() for r in caplog.records if r.name == LOGGER and r.levelno == logging.WARNING]
    return [line for line in lines if not line.startswith("RTC callback receiver")]


def scope(path: str, *, raw: bytes | None, root: str = "", query: bytes = b"") -> Request:
    s: dict[str, Any] = {"type": "http", "method": "GET", "path": path, "root_path": root}
    s.update(query_string=query, headers=[])
    if raw is not None:
        s["raw_path"] = raw
    return Request(s)


# -- which paths a reader may have signed ------------------------------------------------------------


def test_signed_paths_are_the_raw_and_the_decoded_path_each_with_the_query() -> None:
    request = scope("/trtc/1/tasks/a+b/events", raw=b"/trtc/1/tasks/a%2Bb/events", query=b"x=1")
    assert _signed_paths(request) == ["/trtc/1/tasks/a%2Bb/events?x=1", "/trtc/1/tasks/a+b/events?x=1"]


def test_signed_paths_without_a_query_have_no_question_mark() -> None:
    assert _signed_paths(scope("/trtc/1/tasks/t/events", raw=b"/trtc/1/tasks/t/events")) == [
        "/trtc/1/tasks/t/events"
    ]


def test_signed_paths_under_a_mount_also_drop_its_prefix() -> None:
    request = scope("/cb/trtc/1/tasks/t/events", raw=b"/cb/trtc/1/tasks/t/events", root="/cb")
    assert _signed_paths(request) == ["/cb/trtc/1/tasks/t/events", "/trtc/1/tasks/t/events"]


def test_a_raw_path_without_the_mount_prefix_is_taken_as_it_came() -> None:
    """A proxy stripped the prefix from the raw path: nothing is cut from it."""
    request = scope("/cb/trtc/1/tasks/t/events", raw=b"/trtc/1/tasks/t/events", root="/cb")
    assert _signed_paths(request) == ["/trtc/1/tasks/t/events", "/cb/trtc/1/tasks/t/events"]


@pytest.mark.parametrize("raw", [None, b""], ids=["absent", "empty"])
def test_a_server_without_raw_path_leaves_the_decoded_path(raw: bytes | None) -> None:
    assert _signed_paths(scope("/trtc/1/tasks/t/events", raw=raw)) == ["/trtc/1/tasks/t/events"]


def test_a_read_signed_without_the_mount_prefix_is_accepted_under_it(tmp_path: Path) -> None:
    cfg = receiver_config(tmp_path)
    put(cfg, "t4", NOW)
    client = TestClient(Starlette(routes=[Mount("/rtc-callbacks", app=create_app(cfg))]))
    path = f"/trtc/{APP}/tasks/t4/events"
    resp = client.get(f"/rtc-callbacks{path}", headers=sign_read(KEY, path))
    assert resp.status_code == 200 and resp.json()["events"][0]["task_id"] == "t4"


def test_authorize_says_nothing_for_a_good_signature_and_why_otherwise(tmp_path: Path) -> None:
    receiver = create_app(receiver_config(tmp_path)).state.receiver
    path = "/trtc/1/tasks/t/events"
    headers = sign_read(KEY, path)
    s = {"type": "http", "method": "GET", "path": path, "raw_path": path.encode(), "query_string": b""}
    s["headers"] = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    assert receiver.authorize(Request(s), KEY) == ""
    assert receiver.authorize(Request(s), "another-key") == "bad signature"
    assert receiver.authorize(Request({**s, "headers": []}), KEY) == UNSIGNED


def test_the_configured_read_skew_is_the_one_judged(tmp_path: Path) -> None:
    cfg = receiver_config(tmp_path, read_max_skew=30.0)
    put(cfg, "t", NOW)
    client = receiver_client(cfg)
    path = f"/trtc/{APP}/tasks/t/events"
    assert read(client, path, now=NOW - 30).status_code == 200
    late = read(client, path, now=NOW - 31)  # fresh under the default 300 s, not under 30 s
    assert (late.status_code, late.json()["message"]) == (
        401,
        "stale request: X-RTC-Timestamp is more than 30 s from the receiver's clock",
    )


# -- /events ---------------------------------------------------------------------------------------


def test_events_of_an_unknown_cloud_are_404(tmp_path: Path) -> None:
    resp = read(receiver_client(receiver_config(tmp_path)), f"/azure/{APP}/tasks/t/events")
    assert (resp.status_code, resp.json()) == (
        404,
        {"code": 404, "message": "unknown cloud: use trtc or zego"},
    )


def test_an_events_answer_names_what_was_read_and_when(tmp_path: Path) -> None:
    cfg = receiver_config(tmp_path)
    put(cfg, "t", NOW)
    before = time.time()
    data = read(receiver_client(cfg), f"/trtc/{APP}/tasks/t/events").json()
    after = time.time()
    assert set(data) == {"cloud", "app_id", "task_id", "server_time", "events"}
    assert (data["cloud"], data["app_id"], data["task_id"]) == ("trtc", APP, "t")
    assert before <= data["server_time"] <= after  # the receiver's wall clock, for the reader's skew
    assert [e["task_id"] for e in data["events"]] == ["t"]


def test_a_refused_read_warns_with_the_cloud_the_task_cut_to_64_and_the_reason(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger=LOGGER)
    client = receiver_client(receiver_config(tmp_path))
    task = "t" * 70
    resp = client.get(f"/zego/{APP}/tasks/{task}/events")
    assert (resp.status_code, resp.json()) == (401, {"code": 401, "message": UNSIGNED})
    assert warnings_of(caplog) == [f"rejected a read of zego task {task[:64]!r}: {UNSIGNED}"]


# -- /tasks ----------------------------------------------------------------------------------------


def test_changes_of_an_unknown_cloud_are_404(tmp_path: Path) -> None:
    resp = read(receiver_client(receiver_config(tmp_path)), f"/live/{APP}/tasks")
    assert (resp.status_code, resp.json()) == (
        404,
        {"code": 404, "message": "unknown cloud: use trtc or zego"},
    )


@pytest.mark.parametrize(
    ("query", "param"),
    [("since=-1", "since"), ("since=abc", "since"), ("limit=0", "limit"), ("limit=5001", "limit")],
)
def test_changes_with_a_bad_since_or_limit_are_400_naming_it(tmp_path: Path, query: str, param: str) -> None:
    resp = read(receiver_client(receiver_config(tmp_path)), f"/trtc/{APP}/tasks?{query}")
    assert resp.status_code == 400 and resp.json()["message"].startswith(f"invalid {param}: must be")


def test_changes_with_a_cursor_longer_than_a_task_id_are_400(tmp_path: Path) -> None:
    client = receiver_client(receiver_config(tmp_path))
    resp = read(client, f"/trtc/{APP}/tasks?since=1&after={'a' * 1025}")
    assert (resp.status_code, resp.json()) == (
        400,
        {"code": 400, "message": "after: a task id of at most 1024 characters"},
    )
    assert read(client, f"/trtc/{APP}/tasks?since=1&after={'a' * 1024}").status_code == 200


def test_unsigned_changes_are_401_with_a_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger=LOGGER)
    resp = receiver_client(receiver_config(tmp_path)).get(f"/trtc/{APP}/tasks?since=0")
    assert (resp.status_code, resp.json()) == (401, {"code": 401, "message": UNSIGNED})
    assert warnings_of(caplog) == [f"rejected a read of trtc task changes: {UNSIGNED}"]


def test_changes_are_the_tasks_after_since_up_to_limit_in_order(tmp_path: Path) -> None:
    cfg = receiver_config(tmp_path)
    for task, at in (("a", 100.0), ("b", 200.0), ("c", 300.0)):
        put(cfg, task, at)
    client = receiver_client(cfg)
    before = time.time()
    data = read(client, f"/trtc/{APP}/tasks?since=150&limit=1").json()
    assert set(data) == {"cloud", "app_id", "since", "server_time", "tasks"}  # no cursor, no "after"
    assert (data["cloud"], data["app_id"], data["since"]) == ("trtc", APP, 150)
    assert data["tasks"] == [{"task_id": "b", "changed_at": 200.0}]
    assert before <= data["server_time"] <= time.time()
    every = read(client, f"/trtc/{APP}/tasks").json()  # since 0, limit 500 by default
    assert every["since"] == 0 and [t["task_id"] for t in every["tasks"]] == ["a", "b", "c"]
    assert read(client, f"/trtc/{APP}/tasks?limit=5000").status_code == 200


def test_a_cursor_pages_after_since_and_is_echoed(tmp_path: Path) -> None:
    cfg = receiver_config(tmp_path)
    for task in ("a", "b", "c"):
        put(cfg, task, 200.0)
    data = read(receiver_client(cfg), f"/trtc/{APP}/tasks?since=200&after=a&limit=1").json()
    assert (data["after"], data["tasks"]) == ("a", [{"task_id": "b", "changed_at": 200.0}])


def test_changes_read_500_tasks_unless_asked_for_more(tmp_path: Path) -> None:
    cfg = receiver_config(tmp_path)
    CallbackStore(cfg.db_path)  # the schema
    with sqlite3.connect(cfg.db_path) as db:  # 501 tasks in one transaction (put commits each)
        db.executemany(
            "INSERT INTO callback_events VALUES ('trtc', ?, ?, '305', '', 0, 0, ?, ?, 1, ?)",
            [(APP, f"t{i:04d}", 100.0 + i, 100.0 + i, json.dumps({})) for i in range(501)],
        )
    client = receiver_client(cfg)
    assert len(read(client, f"/trtc/{APP}/tasks").json()["tasks"]) == 500
    assert len(read(client, f"/trtc/{APP}/tasks?limit=501").json()["tasks"]) == 501


def test_zego_changes_are_read_with_the_apps_own_key(tmp_path: Path) -> None:
    cfg = ReceiverConfig(
        db_path=str(tmp_path / "cb.sqlite3"), trtc_keys={"*": KEY}, zego_secrets={"*": SECRET, APP: "own"}
    )
    put(cfg, "z", 100.0, cloud="zego")
    client = receiver_client(cfg)
    assert read(client, f"/zego/{APP}/tasks", key=SECRET).status_code == 401  # the default's key
    data = read(client, f"/zego/{APP}/tasks", key="own").json()
    assert (data["cloud"], [t["task_id"] for t in data["tasks"]]) == ("zego", ["z"])
