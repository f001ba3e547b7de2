"""Confirm or correct the callback inventory with each cloud's list and describe APIs.

Every call goes through the hooks, so it is paced at the documented rate and retried like any
other, ZEGO's per-room limits included (DescribeSimpleStreamList 1 call per 10 s, DescribeUserList
1 per s: the catalog's ``per=("app_id", "room")``, kept by the hooks' pacer across passes and
tasks of one process). Each function returns
corrections (``{"kind", "ids", "live", "at_ms", "reason"}``): ``live`` True confirms or finds an item,
False ends it. ``at_ms`` is when the call was *sent*, so a callback about a later moment still wins.

What each cloud offers, and the decisions taken:

* **TRTC**: no free list of live rooms or users. TRTC's only listing APIs (DescribeRoomInfo/
  DescribeUserInfo) are paid monitoring data (billed since 2024-04), documented for history and
  "reconciliation purposes", not real-time logic: discovery calls them only when the user opts in
  (``trtc_monitoring``, :func:`trtc_monitor_users`: they may find users, never end anything), and
  otherwise refuses ``idle_for`` for TRTC (:func:`check_idle_for`): with users' enter callbacks
  lost, a busy room would look idle. Rooms, users and streams therefore come from
  room and media callbacks and from the provider's own DismissRoom/RemoveUser answers (recorded as
  corrections by the end step). Recordings are checked one by one with DescribeCloudRecording
  (an error once the task has exited means "ended").
* **ZEGO**: DescribeRoomList when ZEGO enabled it for the AppId (finds rooms whose callbacks were
  lost, ends rooms that are gone: at once when the whole list fit one page; across pages a room can
  move between page calls, since the list is ordered by user count, so a missing room is ended only
  when DescribeUserNum also says 0 users); otherwise (codes :data:`ROOM_LIST_NOT_ENABLED` only: any
  other error, e.g. an auth failure, surfaces) DescribeUserNum for the known rooms (0 users = the
  room no longer exists: ZEGO rooms exist only while someone is in them). Admin users (UserRole 4:
  recording and moderation robots) are not users.
  Users per live room with DescribeUserList, streams with DescribeSimpleStreamList (ZEGO's docs say
  to keep the stream list from callbacks; the list API backs them up), mixes with GetMixTaskInfo
  per known task (no list API exists), running recordings with DescribeTasks (status 2, the last
  3 days: ZEGO sends no "recording started" callback).
* **Live**: DescribeLiveStreamOnlineList (paged) finds streams whose push callback was lost; because
  the docs say not to rely on it alone, a stream it omits is ended only when DescribeLiveStreamState
  also says ``inactive``. A stream ended only by a stop-push callback (whose signature does not cover
  its body) is confirmed the same way before the end counts: ``active`` brings it back.
  Mix sessions have neither a callback nor a list API: they are not
  discoverable (pass them in an explicit inventory).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from airflow_provider_rtc.callbacks.inventory import zego_admin
from airflow_provider_rtc.catalog.zego import ROOM_LIST_NOT_ENABLED
from airflow_provider_rtc.discovery.selector import Selector
from airflow_provider_rtc.exceptions import RtcError, RtcNotFoundError, RtcValidationError
from airflow_provider_rtc.validation import lenient_int

ZEGO_TASK_WINDOW_S = 3 * 86400 - 60
ZEGO_ROOM_PAGE = 200
#: TRTC monitoring windows (DescribeRoomInfo <= 24 h, DescribeUserInfo <= 4 h), a minute of margin
ROOM_INFO_WINDOW_S = 24 * 3600 - 60
USER_INFO_WINDOW_S = 4 * 3600 - 60
#: a ZEGO ``CreateTime`` above this is milliseconds (1e12 ms is 2001; 1e12 s is the year 33658)
MS_THRESHOLD = 10**12


def now_ms() -> int:
    return int(time.time() * 1000)


def _fix(kind: str, ids: dict[str, Any], live: bool, at: int, reason: str, **extra: Any) -> dict[str, Any]:
    return {"kind": kind, "ids": ids, "live": live, "at_ms": at, "reason": reason, **extra}


def _live(items: Iterable[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [i for i in items if i["kind"] == kind and i["live"]]


def _pool_map(
    fn: Callable[[Any], list[dict[str, Any]]], values: list[Any], workers: int = 8
) -> list[dict[str, Any]]:
    if not values:
        return []
    with ThreadPoolExecutor(max_workers=min(workers, len(values))) as pool:
        return [c for chunk in pool.map(fn, values) for c in chunk]


def check_idle_for(selector: Selector, clouds: Iterable[str], *, trtc_monitoring: bool = False) -> None:
    """Refuse ``idle_for`` when TRTC is in scope, unless the user opted in to ``trtc_monitoring``.

    TRTC has no free API that lists a room's users (DescribeRoomInfo/DescribeUserInfo are paid
    monitoring data, see the module docstring), so a room whose users' enter callbacks (103) were
    lost has no known user and would count as idle while people talk in it. With the opt-in,
    reconciliation asks DescribeUserInfo for every known live room (:func:`trtc_monitor_users`).
    Call before any cloud call (validation).
    """
    if getattr(selector, "idle_for", None) is not None and "trtc" in tuple(clouds) and not trtc_monitoring:
        raise RtcValidationError(
            "selector.idle_for",
            "no idle_for with TRTC in clouds: TRTC has no free API listing a room's users, so a room "
            "whose users' enter callbacks were lost would look idle; opt in with trtc_monitoring=True "
            "(paid monitoring data), select TRTC rooms by room_ids, room_id_prefix or time, or leave "
            "trtc out of clouds",
            selector.idle_for,
        )


def ms_or_s(value: Any) -> int | None:
    """A vendor time as ms: values above :data:`MS_THRESHOLD` are ms already, smaller ones seconds.

    ZEGO DescribeSimpleStreamList ``CreateTime`` states no unit and its example is ms
    (``1642045110123``, docs_all core_products/real-time-voice-video/{zh,en}/server/api-reference/
    room/describe-simple-streamlist.yaml); older answers and the project's sandbox used seconds.
    """
    number = lenient_int(value.strip() if isinstance(value, str) else value)
    if number is None or number <= 0:
        return None
    return number if number > MS_THRESHOLD else number * 1000


# -- TRTC --------------------------------------------------------------------------------------------


def reconcile_trtc(hook: Any, items: list[dict[str, Any]], selector: Selector) -> list[dict[str, Any]]:
    """Recordings one by one; with the hook's ``monitoring_reconcile`` opt-in, users too."""
    found = trtc_monitor_users(hook, items, selector) if getattr(hook, "monitoring_reconcile", False) else []
    return found + _trtc_recordings(hook, items, selector)


def trtc_monitor_users(hook: Any, items: list[dict[str, Any]], selector: Selector) -> list[dict[str, Any]]:
    """Users TRTC's monitoring data says are in known live rooms (the opt-in, ``trtc_monitoring``).

    DescribeRoomInfo over the last 24 h (its longest window; paged by 100) gives each unfinished
    room's CommId and creation time, DescribeUserInfo over the last 4 h (its longest window) the users
    still in it (``Finished`` false). Only FINDS: nothing is ever ended because it is absent here
    (the data is monitoring data, its delay is not documented). Only rooms the inventory knows are
    looked at: ``RoomString`` does not say whether a room is numeric or a string, the inventory does.
    Rooms created more than 24 h ago are not listed by that window, so their users stay unknown.
    """
    known: dict[str, list[dict[str, Any]]] = {}
    for room in _live(items, "rooms"):
        if selector.room_name_matches(room["ids"]["room_id"]):
            known.setdefault(str(room["ids"]["room_id"]), []).append(room["ids"])
    if not known:
        return []
    now_s = int(time.time())
    calls: list[tuple[str, int, dict[str, Any]]] = []
    page = 0
    while True:
        data = hook.describe_room_info(now_s - ROOM_INFO_WINDOW_S, now_s, page_number=page, page_size=100)
        rooms = data.get("RoomList") or []
        for state in rooms:
            name = str(state.get("RoomString") or "")
            if state.get("IsFinished") or name not in known or not state.get("CommId"):
                continue
            created = ms_or_s(state.get("CreateTime")) or now_s * 1000
            calls += [(str(state["CommId"]), created, ids) for ids in known[name]]
        if (page + 1) * 100 >= int(data.get("Total") or 0) or not rooms:
            break
        page += 1

    def users_of(call: tuple[str, int, dict[str, Any]]) -> list[dict[str, Any]]:
        comm_id, created_ms, room_ids = call
        at = now_ms()
        fixes = [_fix("rooms", room_ids, True, at, "DescribeRoomInfo: not finished", started_ms=created_ms)]
        start = max(now_s - USER_INFO_WINDOW_S, created_ms // 1000 - 1)
        page = 0
        while True:
            data = hook.describe_user_info(comm_id, start, int(time.time()), page_number=page, page_size=100)
            users = data.get("UserList") or []
            for user in users:
                if user.get("Finished") or not user.get("UserId"):
                    continue
                ids = {"room_id": room_ids["room_id"], "user_id": str(user["UserId"])}
                joined = ms_or_s(user.get("JoinTs"))
                fixes.append(_fix("users", ids, True, at, "DescribeUserInfo: in the room", started_ms=joined))
            if (page + 1) * 100 >= int(data.get("Total") or 0) or not users:
                return fixes
            page += 1

    return _pool_map(users_of, calls, workers=4)


def _trtc_recordings(hook: Any, items: list[dict[str, Any]], selector: Selector) -> list[dict[str, Any]]:
    def check(item: dict[str, Any]) -> list[dict[str, Any]]:
        at = now_ms()
        try:
            answer = hook.describe_cloud_recording(item["ids"]["task_id"])
        except RtcNotFoundError as err:
            return [
                _fix("recordings", item["ids"], False, at, f"DescribeCloudRecording: {err.code} (task ended)")
            ]
        return [_fix("recordings", item["ids"], True, at, f"DescribeCloudRecording: {answer.get('Status')}")]

    recordings = [
        r for r in _live(items, "recordings") if selector.room_name_matches(r["ids"].get("room_id"))
    ]
    return _pool_map(check, recordings)


# -- ZEGO --------------------------------------------------------------------------------------------


def _zego_room_list(hook: Any) -> tuple[dict[str, int], bool] | None:
    """({room: users}, whether it fit one page) from DescribeRoomList, or None when ZEGO has not
    enabled it for this AppId (:data:`ROOM_LIST_NOT_ENABLED`); every other error is raised."""
    rooms: dict[str, int] = {}
    page = 1
    while True:
        try:
            data = hook.describe_room_list(page_index=page, page_size=ZEGO_ROOM_PAGE).get("Data") or {}
        except RtcError as err:
            if page == 1 and str(err.code) in {str(c) for c in ROOM_LIST_NOT_ENABLED}:
                return None
            raise
        for entry in data.get("RoomList") or []:
            rooms[str(entry.get("RoomId"))] = int(entry.get("UserCount") or 0)
        if page * ZEGO_ROOM_PAGE >= int(data.get("TotalCount") or 0) or not data.get("RoomList"):
            return rooms, page == 1
        page += 1


def _zego_user_counts(rtc: Any, rooms: list[str]) -> dict[str, tuple[int, int]]:
    """{room: (occupants, call time)} from DescribeUserNum, 10 rooms a call (a missing room is 0).

    Occupants are ``UserCount``, which "includes AdminUserCount", the role-4 users (cloud recording,
    stream moderation robots; docs_all core_products/real-time-voice-video/en/server/api-reference/
    room/describe-user-num.yaml): a room only a robot keeps open is still live (and billing), but
    robots are no users here (``per_room`` skips them), so such a room is idle, not gone.
    """
    out: dict[str, tuple[int, int]] = {}
    for start in range(0, len(rooms), 10):
        at = now_ms()
        counts = rtc.describe_user_num(rooms[start : start + 10]).get("Data") or {}
        for entry in counts.get("UserCountList") or []:
            out[str(entry.get("RoomId"))] = (max(int(entry.get("UserCount") or 0), 0), at)
    return out


def reconcile_zego(
    rtc: Any, record: Any, items: list[dict[str, Any]], selector: Selector, notes: list[str]
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    known_rooms = {
        str(r["ids"]["room_id"]): r
        for r in _live(items, "rooms")
        if selector.room_name_matches(r["ids"]["room_id"])
    }
    at = now_ms()
    answer = _zego_room_list(rtc)
    live_rooms: set[str] = set()
    to_count: list[str] = []
    if answer is not None:
        listed, one_page = answer
        for room, users in listed.items():
            if not selector.room_name_matches(room) or users <= 0:
                continue
            live_rooms.add(room)
            out.append(_fix("rooms", {"room_id": room}, True, at, "DescribeRoomList: listed"))
        missing = sorted(set(known_rooms) - live_rooms)
        if one_page:
            out += [_fix("rooms", {"room_id": r}, False, at, "DescribeRoomList: not listed") for r in missing]
        else:  # several pages: a room may have moved to a page already read; ask for its users
            to_count = missing
    else:
        notes.append(
            "zego: DescribeRoomList is not enabled for this AppId; rooms checked with DescribeUserNum"
        )
        to_count = sorted(known_rooms)
    for room, (users, at) in _zego_user_counts(rtc, to_count).items():
        if users > 0:
            live_rooms.add(room)
            out.append(_fix("rooms", {"room_id": room}, True, at, "DescribeUserNum: users present"))
        else:
            out.append(_fix("rooms", {"room_id": room}, False, at, "DescribeUserNum: 0 users"))

    users_by_room: dict[str, dict[str, dict[str, Any]]] = {}
    for u in _live(items, "users"):
        users_by_room.setdefault(str(u["ids"]["room_id"]), {})[str(u["ids"]["user_id"])] = u
    streams_by_room: dict[str, dict[str, dict[str, Any]]] = {}
    for s in _live(items, "streams"):
        streams_by_room.setdefault(str(s["ids"]["room_id"]), {})[str(s["ids"]["stream_id"])] = s

    def per_room(room: str) -> list[dict[str, Any]]:
        fixes: list[dict[str, Any]] = []
        at = now_ms()
        seen: set[str] = set()
        marker = None
        while True:
            data = rtc.describe_user_list(room, marker=marker).get("Data") or {}
            seen.update(
                str(u.get("UserId"))
                for u in data.get("UserList") or []
                if not zego_admin(u.get("UserRole"))  # robots are no users to count or kick
            )
            marker = data.get("Marker")
            if not marker:
                break
        known = users_by_room.get(room, {})
        fixes += [_fix("users", {"room_id": room, "user_id": u}, True, at, "DescribeUserList") for u in seen]
        fixes += [
            _fix("users", {"room_id": room, "user_id": u}, False, at, "DescribeUserList: not in room")
            for u in set(known) - seen
        ]
        at = now_ms()
        streams = (rtc.describe_simple_stream_list(room).get("Data") or {}).get("StreamList") or []
        listed_ids = set()
        for s in streams:
            ids = {"room_id": room, "user_id": str(s.get("UserId")), "stream_id": str(s.get("StreamId"))}
            listed_ids.add(ids["stream_id"])
            fixes.append(
                _fix(
                    "streams",
                    ids,
                    True,
                    at,
                    "DescribeSimpleStreamList",
                    started_ms=ms_or_s(s.get("CreateTime")),
                )
            )
        for sid, item in streams_by_room.get(room, {}).items():
            if sid not in listed_ids:
                fixes.append(_fix("streams", item["ids"], False, at, "DescribeSimpleStreamList: not listed"))
        return fixes

    out += _pool_map(per_room, sorted(live_rooms))
    # users and streams of rooms found gone end with their room (the store cascades); nothing to call

    if not selector.by_room:
        for mix in _live(items, "mixes"):
            at = now_ms()
            try:
                rtc.get_mix_task_info(mix["ids"]["task_id"])
            except RtcNotFoundError as err:
                out.append(_fix("mixes", mix["ids"], False, at, f"GetMixTaskInfo: {err.code} (task gone)"))
            else:
                out.append(_fix("mixes", mix["ids"], True, at, "GetMixTaskInfo: running"))

    at = now_ms()
    running: dict[str, dict[str, Any]] = {}
    page = 1
    while True:
        data = (
            record.describe_tasks(2, at - ZEGO_TASK_WINDOW_S * 1000, at, page_offset=page, page_size=50).get(
                "Data"
            )
            or {}
        )
        tasks = zego_task_list(data)
        for task in tasks:
            running[str(task.get("TaskId"))] = task
        if page * 50 >= int(data.get("TotalCount") or 0) or not tasks:
            break
        page += 1
    for task_id, task in running.items():
        room = str(task.get("RoomId") or "")
        if selector.room_name_matches(room):
            begin = task.get("RecordBeginTimestamp")
            out.append(
                _fix(
                    "recordings",
                    {"room_id": room, "task_id": task_id},
                    True,
                    at,
                    "DescribeTasks: recording",
                    started_ms=int(begin) if begin else None,
                )
            )
    for rec in _live(items, "recordings"):
        if rec["ids"]["task_id"] not in running and selector.room_name_matches(rec["ids"].get("room_id")):
            out.append(_fix("recordings", rec["ids"], False, at, "DescribeTasks: not recording"))
    return out


def zego_task_list(data: dict[str, Any]) -> list[dict[str, Any]]:
    """DescribeTasks' tasks: ``TaskidList`` as the schema and examples name it (docs_all
    extended_services/cloud_recording/{zh,en}/server/describe-tasks.yaml: ``RecordTaskListData:
    TaskidList: type: array``), ``TaskList`` as an older table did."""
    for name in ("TaskidList", "TaskList"):
        tasks = data.get(name)
        if isinstance(tasks, list):
            return [t for t in tasks if isinstance(t, dict)]
    return []


# -- Live --------------------------------------------------------------------------------------------


def reconcile_live(
    hook: Any, items: list[dict[str, Any]], selector: Selector, notes: list[str]
) -> list[dict[str, Any]]:
    lister = getattr(hook, "describe_live_stream_online_list", None)
    if lister is None:
        notes.append(
            "live: DescribeLiveStreamOnlineList is not available in this provider version; callbacks only"
        )
        return []
    at = now_ms()
    online: dict[tuple[str, str, str], dict[str, Any]] = {}
    page = 1
    while True:
        data = lister(page_num=page, page_size=100)
        for info in data.get("OnlineInfo") or []:
            key = (str(info.get("DomainName")), str(info.get("AppName")), str(info.get("StreamName")))
            online[key] = info
        if page >= int(data.get("TotalPage") or 1) or not data.get("OnlineInfo"):
            break
        page += 1
    out = []
    for (domain, app, name), info in online.items():
        if not selector.room_name_matches(name):
            continue
        times = [p.get("PublishTime") for p in info.get("PublishTimeList") or [] if p.get("PublishTime")]
        started = _iso_ms(times[0]) if times else None
        ids = {"stream_name": name, "domain_name": domain, "app_name": app}
        out.append(_fix("streams", ids, True, at, "DescribeLiveStreamOnlineList", started_ms=started))
    for ids, at, state in _states_off_list(hook, _live(items, "streams"), online, selector):
        if state.get("StreamState") == "inactive":
            out.append(_fix("streams", ids, False, at, "not online and DescribeLiveStreamState: inactive"))
    # ends that rest only on a stop-push callback (its MD5(key + t) signature covers no body): the
    # state API decides; an online-listed stream was already brought back above
    unconfirmed = [i for i in items if i["kind"] == "streams" and not i["live"] and i.get("end_unconfirmed")]
    for ids, at, state in _states_off_list(hook, unconfirmed, online, selector):
        if state.get("StreamState") == "active":
            why = "stop-push callback not confirmed: DescribeLiveStreamState: active"
            out.append(_fix("streams", ids, True, at, why))
        else:
            why = f"stop-push confirmed: DescribeLiveStreamState: {state.get('StreamState')}"
            out.append(_fix("streams", ids, False, at, why))
    return out


def _states_off_list(
    hook: Any, items: Iterable[dict[str, Any]], online: Mapping[Any, Any], selector: Selector
) -> Iterator[tuple[dict[str, Any], int, dict[str, Any]]]:
    """``(ids, when asked, DescribeLiveStreamState answer)`` for each selected stream item missing from
    the online list, asked one at a time as the caller reads them."""
    for item in items:
        ids = item["ids"]
        key = (ids["domain_name"], ids["app_name"], ids["stream_name"])
        if key in online or not selector.room_name_matches(ids["stream_name"]):
            continue
        at = now_ms()
        yield (
            ids,
            at,
            hook.describe_live_stream_state(ids["stream_name"], ids["domain_name"], ids["app_name"]),
        )


def _iso_ms(text: str) -> int | None:
    import datetime as dt

    try:
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return int(parsed.timestamp() * 1000)
