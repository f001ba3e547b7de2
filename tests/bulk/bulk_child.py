"""A bulk task in its own process, stopped the way Airflow's task runner stops one.

Run by ``test_bulk_stop.py`` as ``python bulk_child.py MODE ROOMS_JSON OUT_FILE``:

* ``sigterm``: installs the handler the Task SDK's ``task_runner.run`` installs (SIGTERM calls
  the operator's ``on_kill()`` and returns) and runs ``execute()``;
* ``timeout``: runs ``execute()`` inside the Task SDK's own ``execution_timeout`` guard
  (``airflow.sdk.execution_time.timeout.timeout``: SIGALRM raising ``AirflowTaskTimeout``).

The XCom the operator pushes and how ``execute()`` ended are written to ``OUT_FILE`` as JSON.
"""

from __future__ import annotations

import json
import signal
import sys
from typing import Any

from airflow_provider_rtc.operators.zego import BulkCloseRoomsOperator


class RecordingTi:
    def __init__(self) -> None:
        self.xcom: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.xcom[key] = value


def main(mode: str, rooms: str, out: str) -> int:
    op = BulkCloseRoomsOperator(task_id="close_rooms", room_ids=rooms, max_concurrency=4)
    ti = RecordingTi()
    outcome: dict[str, Any] = {}
    try:
        if mode == "sigterm":
            signal.signal(signal.SIGTERM, lambda signum, frame: op.on_kill())
            print("ready", flush=True)
            op.execute({"ti": ti})
        else:
            from airflow.sdk.execution_time.timeout import timeout

            print("ready", flush=True)
            with timeout(float(mode.split("=")[1])):
                op.execute({"ti": ti})
        outcome["ended"] = "returned"
    except BaseException as exc:  # what the task runner would see
        outcome["ended"] = type(exc).__name__
        outcome["message"] = str(exc)
    outcome["xcom"] = ti.xcom
    with open(out, "w") as handle:
        json.dump(outcome, handle)
    return 0 if outcome["ended"] == "returned" else 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
