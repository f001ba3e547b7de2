"""No replayable material on exceptions: a ZEGO query carries a signature that authorizes any call
until it expires, a Tencent Authorization header the same for its call. Neither may survive in an
error's text, args, attributes, ``__cause__`` or ``__context__`` (the client's own exception holds
the request), whatever the network did."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from airflow_provider_rtc.exceptions import RtcError
from airflow_provider_rtc.hooks.trtc import TrtcHook
from airflow_provider_rtc.hooks.zego import ZegoRtcHook
from tests.support.wire import SECRET_KEY, ZEGO_SECRET, tencent_conn_json, zego_conn_json


def _chain(err: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    todo = [err]
    while todo:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        todo.extend(e for e in (current.__cause__, current.__context__) if e is not None)


def _texts(err: BaseException) -> list[str]:
    texts = [str(err), repr(err), *(repr(a) for a in err.args)]
    texts += [repr(value) for value in vars(err).values()]
    return texts


def _secrets_of(requests: list[Any]) -> list[str]:
    found = [SECRET_KEY, ZEGO_SECRET]
    for request in requests:
        query = parse_qs(urlsplit(request.target).query)
        found += query.get("Signature", [])
        auth = request.headers.get("authorization")
        if auth:
            found += [auth, auth.split("Signature=")[-1]]
    return [s for s in found if s]


def _assert_clean(err: BaseException, requests: list[Any]) -> None:
    secrets = _secrets_of(requests)
    assert any(len(s) >= 32 for s in secrets), "the test must know what to look for"
    for link in _chain(err):
        for text in _texts(link):
            assert "Signature=" not in text, (type(link), text)
            assert "TC3-HMAC" not in text, (type(link), text)
            for secret in secrets:
                assert secret not in text, (type(link), text)


def _refused_url() -> str:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now
    return f"http://127.0.0.1:{port}"


CALLS: dict[str, Callable[[], Any]] = {
    "zego-sync": lambda: ZegoRtcHook().close_room("room_1"),
    "zego-async": lambda: asyncio.run(ZegoRtcHook().acall("CloseRoom", {"RoomId": "room_1"})),
    "tencent-sync": lambda: TrtcHook().dismiss_room(1234),
}


@pytest.mark.parametrize("step", ["drop", "hang"])
@pytest.mark.parametrize("call", list(CALLS), ids=list(CALLS))
def test_no_signature_on_the_error_chain(raw_server, set_connection, step: str, call: str) -> None:
    server = raw_server(step, step)
    extras = {"retry_limit": 2, "retry_delay": 0.01, "timeout": [1, 0.3]}
    set_connection("zegocloud_default", zego_conn_json(server.url, **extras))
    set_connection("tencentcloud_default", tencent_conn_json(server.url, **extras))
    with pytest.raises(RtcError) as info:
        CALLS[call]()
    assert len(server.requests) == 2  # both attempts were sent (and carried a signature)
    _assert_clean(info.value, server.requests)


@pytest.mark.parametrize("call", list(CALLS), ids=list(CALLS))
def test_no_signature_when_nothing_listens(set_connection, call: str) -> None:
    url = _refused_url()
    extras = {"retry_limit": 1, "timeout": [1, 1]}
    set_connection("zegocloud_default", zego_conn_json(url, **extras))
    set_connection("tencentcloud_default", tencent_conn_json(url, **extras))
    with pytest.raises(RtcError) as info:
        CALLS[call]()
    for link in _chain(info.value):
        for text in _texts(link):
            assert "Signature" not in text and "TC3-HMAC" not in text, (type(link), text)
    assert info.value.__context__ is None and info.value.__cause__ is None


def test_a_code_without_cloud_or_action_has_no_leading_space() -> None:
    from airflow_provider_rtc.errors import RtcError

    assert str(RtcError("boom", code="X")) == "[X]: boom"
    assert str(RtcError("boom", cloud="zego", code="X")) == "zego [X]: boom"
    assert str(RtcError("boom")) == "boom"
