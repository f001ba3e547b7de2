"""ZEGOCLOUD server APIs: ``rtc`` (rtc-api.zego.im: rooms, streams, mixing) and ``cloudrecord``.

Sources: ZEGO's server-API pages (see shared reference ``zegocloud-api.md`` and ``vendor-review.md``).
Limits are counted per AppId and per API. DescribeSimpleStreamList and DescribeUserList have two:
"同一个 AppID 下所有房间: 50 次/秒; 单个房间: 1 次/10秒" and "200 次/秒; 单个房间: 1 次/1秒"
(docs_all ``core_products/real-time-voice-video/zh/server/api-reference/room/
describe-simple-streamlist.yaml``, ``describe-user-list.yaml``): the per-room one is the entry's
``qps``, the app-wide one a :class:`Quota` per AppId. Client pacing and the sandbox spend both.
"""

from __future__ import annotations

from airflow_provider_rtc.catalog import Api, Quota, register

#: room codes that mean "room does not exist" (seed 003's "5001" is a typo for 50001)
ROOM_GONE = frozenset({104, 5024, 50001})


def _zego(product: str, action: str, method: str, qps: float, family: str, **kw: object) -> Api:
    return register(
        Api(
            cloud="zego",
            product=product,
            action=action,
            method=method,  # type: ignore[arg-type]
            qps=qps,
            per=kw.pop("per", ("app_id",)),  # type: ignore[arg-type]
            family=family,
            **kw,  # type: ignore[arg-type]
        )
    )


def _per_room(action: str, qps: float, *, app_qps: float) -> Api:
    """A room read with two limits (the module docstring): ``qps`` per room, ``app_qps`` per AppId."""
    app_quota = Quota(app_qps, ("app_id",))
    return _zego("rtc", action, "GET", qps, "room", per=("app_id", "room"), quotas=(app_quota,))


# -- rooms and streams (GET) -----------------------------------------------------------------------
DELETE_STREAM = _zego(
    "rtc", "DeleteStream", "GET", 10.0, "room", gone=ROOM_GONE | {138}, destructive=True, test_qps=1.0
)
# 5018: "room already destroyed or does not exist" on the current CloseRoom page.
CLOSE_ROOM = _zego("rtc", "CloseRoom", "GET", 1.0, "room", gone=ROOM_GONE | {5018}, destructive=True)
# "UserId[] Array<S> Y (max 5)" (ZEGO KickoutUser page, shared reference zegocloud-api.md)
KICKOUT_USER = _zego(
    "rtc",
    "KickoutUser",
    "GET",
    50.0,
    "room",
    gone=ROOM_GONE | {105, 50002, 50003},
    destructive=True,
    batch=5,
)
DESCRIBE_USER_NUM = _zego("rtc", "DescribeUserNum", "GET", 10.0, "room", test_qps=1.0)
DESCRIBE_USERS = _zego("rtc", "DescribeUsers", "GET", 10.0, "room")
DESCRIBE_SIMPLE_STREAM_LIST = _per_room("DescribeSimpleStreamList", 0.1, app_qps=50.0)

# -- stream mixing ---------------------------------------------------------------------------------
START_MIX = _zego("rtc", "StartMix", "POST", 100.0, "mix", throttle_code=110200190)
STOP_MIX = _zego(
    "rtc",
    "StopMix",
    "POST",
    100.0,
    "mix",
    gone=frozenset({110209001}),
    destructive=True,
    throttle_code=110200191,
)
GET_MIX_TASK_INFO = _zego("rtc", "GetMixTaskInfo", "GET", 100.0, "mix", gone=frozenset({110209001}))

# -- cloud recording (POST) ------------------------------------------------------------------------
START_RECORD = _zego("cloudrecord", "StartRecord", "POST", 50.0, "record", idempotent=False)
STOP_RECORD = _zego(
    "cloudrecord",
    "StopRecord",
    "POST",
    50.0,
    "record",
    gone=frozenset({300001000, 300001001}),
    destructive=True,
)
DESCRIBE_RECORD_STATUS = _zego(
    "cloudrecord", "DescribeRecordStatus", "POST", 10.0, "record", gone=frozenset({300001000})
)
DESCRIBE_TASKS = _zego("cloudrecord", "DescribeTasks", "POST", 10.0, "record")

# -- listing what is live (discovery) ---------------------------------------------------------------
# DescribeRoomList must be enabled by ZEGO per AppId (20 QPS; ZEGO's room-list server sample).
# Its "not enabled" answer is undocumented (the API has no page in docs_all): ZEGO's return codes
# (docs_all core_products/real-time-voice-video/zh/server/return-codes.mdx) offer room-family 9
# "no permission for this API" and gateway 100000017 "the App has not enabled this service";
# 100000007 "unsupported Action" is what older sandboxes answered. Exactly these mean "not enabled";
# any other error (an auth failure above all) is an error, never a silent fallback.
ROOM_LIST_NOT_ENABLED = frozenset({9, 100000017, 100000007})
DESCRIBE_ROOM_LIST = _zego("rtc", "DescribeRoomList", "GET", 20.0, "room")
# DescribeUserList: 1/s per room and 200/s per AppId (both paced; the module docstring).
DESCRIBE_USER_LIST = _per_room("DescribeUserList", 1.0, app_qps=200.0)
