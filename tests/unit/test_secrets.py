"""SecretKey, ServerSecret and STS token never show up: not in logs (any logger, DEBUG), stdout/stderr,
exception texts or tracebacks, operator results, rendered template fields or reprs."""

from __future__ import annotations

import json
import logging
import pickle
import re
import traceback
from typing import Any

import pytest

from airflow_provider_rtc.exceptions import RtcAuthError, RtcError, RtcTransientError
from airflow_provider_rtc.hooks.live import LiveHook
from airflow_provider_rtc.hooks.trtc import TrtcHook
from airflow_provider_rtc.hooks.zego import ZegoCloudRecordHook, ZegoRtcHook
from airflow_provider_rtc.operators.live import CancelCommonMixStreamOperator
from airflow_provider_rtc.operators.trtc import DeleteCloudRecordingOperator, DismissRoomOperator
from airflow_provider_rtc.operators.zego import CloseRoomOperator, KickoutUserOperator, StopRecordOperator
from tests.support.wire import (
    Seen,
    html_502,
    serve,
    tc_err,
    tc_ok,
    tencent_conn_json,
    zego_conn_json,
    zego_err,
    zego_ok,
)

TC_SECRET = "TcSecretKEY-7f3a9c1e5b2d4f6a8c0e"
TC_TOKEN = "StsToken-e4d2c0b8a6f4e2d0c8b6a4"
ZG_SECRET = "ZgServerSecret-91b7d5f3e1c9a7b5"
ZG_APP = 3141592653
SECRETS = (TC_SECRET, TC_TOKEN, ZG_SECRET)


@pytest.fixture
def secret_conns(httpserver, set_connection) -> None:
    url = httpserver.url_for("").rstrip("/")
    set_connection("tencentcloud_default", tencent_conn_json(url, password=TC_SECRET, token=TC_TOKEN))
    set_connection("zegocloud_default", zego_conn_json(url, login=str(ZG_APP), password=ZG_SECRET))


@pytest.fixture
def everything_at_debug(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)
    for name, logger in list(logging.root.manager.loggerDict.items()):
        if isinstance(logger, logging.Logger):
            caplog.set_level(logging.DEBUG, logger=name)
    return caplog


def _no_secret(text: str, where: str) -> None:
    for secret in SECRETS:
        assert secret not in text, f"{where} leaks a secret"


def _error_texts(err: BaseException) -> str:
    parts = [str(err), repr(err), "".join(traceback.format_exception(err))]
    if isinstance(err, RtcError):
        parts.append(repr(vars(err)))
        parts.append(repr(pickle.dumps(err)))
    return "\n".join(parts)


def test_nothing_leaks_across_a_busy_run(
    httpserver, secret_conns, raw_server, set_connection, everything_at_debug, capfd
) -> None:
    results: list[dict[str, Any]] = []
    errors: list[BaseException] = []

    # successes, retries and not-founds on both clouds
    script = serve(
        httpserver,
        tc_err("RequestLimitExceeded"),
        html_502(),
        tc_ok(),
        tc_err("FailedOperation.RoomNotExist"),
        tc_err("AuthFailure.SignatureFailure", "The provided credentials could not be validated."),
        tc_ok(),
        zego_err(206),
        zego_ok(),
        zego_err(50001),
        zego_err(100000005, "signature error"),
        zego_ok(),
    )
    results.append(DismissRoomOperator(task_id="a", room_id=1).execute({}))
    results.append(DismissRoomOperator(task_id="b", room_id=2).execute({}))
    with pytest.raises(RtcAuthError) as auth:
        DeleteCloudRecordingOperator(task_id="c", recording_task_id="r").execute({})
    errors.append(auth.value)
    results.append(CancelCommonMixStreamOperator(task_id="d", mix_stream_session_id="m").execute({}))
    results.append(CloseRoomOperator(task_id="e", room_id="r").execute({}))
    results.append(KickoutUserOperator(task_id="f", room_id="r", user_ids=["u"]).execute({}))
    with pytest.raises(RtcAuthError) as zauth:
        StopRecordOperator(task_id="g", recording_task_id="t").execute({})
    errors.append(zauth.value)
    results.append(StopRecordOperator(task_id="h", recording_task_id="t").execute({}))

    # network failures on a ZEGO URL whose query carries AppId and Signature
    server = raw_server("drop", "drop", "drop")
    set_connection("zegocloud_default", zego_conn_json(server.url, login=str(ZG_APP), password=ZG_SECRET))
    with pytest.raises(RtcTransientError) as net:
        ZegoRtcHook(retry_limit=3).close_room("r")
    errors.append(net.value)

    for result in results:
        _no_secret(json.dumps(result), "an operator result")
    for err in errors:
        _no_secret(_error_texts(err), "an exception")
    out, err_out = capfd.readouterr()
    _no_secret(everything_at_debug.text, "the logs")
    _no_secret(out + err_out, "stdout/stderr")
    for record in everything_at_debug.records:
        _no_secret(repr(record.args), "a log record's args")
    ours = [r for r in everything_at_debug.records if r.name.startswith("airflow_provider_rtc")]
    assert ours, "the provider logged nothing at all"
    # no request signature either (the test server's own access log, werkzeug, aside)
    client_side = "\n".join(r.getMessage() for r in everything_at_debug.records if r.name != "werkzeug")
    sent = [*script.seen, *(Seen.from_raw(r) for r in server.requests)]
    signatures = [
        s.q("Signature") if "Signature" in s.query else s.headers["authorization"][-64:] for s in sent
    ]
    assert len(signatures) == 14
    for signature in signatures:
        assert signature not in client_side
    for record in ours:
        message = record.getMessage()
        assert "Signature=" not in message and "Authorization" not in message
        assert "SignatureNonce" not in message


def test_zego_network_failure_names_the_host_not_the_url(raw_server, set_connection) -> None:
    server = raw_server("drop")
    set_connection("zegocloud_default", zego_conn_json(server.url, login=str(ZG_APP), password=ZG_SECRET))
    with pytest.raises(RtcTransientError) as info:
        ZegoCloudRecordHook(retry_limit=1).stop_record("task-1")
    text = _error_texts(info.value)
    host = server.url.removeprefix("http://")
    assert host in str(info.value)
    for leak in ("Signature", "SignatureNonce", "AppId", str(ZG_APP), "Action=", "?", ZG_SECRET):
        assert leak not in text, leak
    sent = Seen.from_raw(server.requests[0])
    assert sent.q("Signature") not in text


def test_zego_refused_connection_text(set_connection, raw_server) -> None:
    server = raw_server()
    url = server.url
    server.close()
    set_connection(
        "zegocloud_default", zego_conn_json(url, login=str(ZG_APP), password=ZG_SECRET, retry_limit=1)
    )
    with pytest.raises(RtcTransientError) as info:
        ZegoRtcHook().kickout_user("room", ["u1"])
    text = _error_texts(info.value)
    assert "could not connect" in str(info.value)
    assert not re.search(r"Signature|AppId|UserId|" + str(ZG_APP), text)


def test_tencent_auth_failure_text(httpserver, secret_conns) -> None:
    serve(
        httpserver, tc_err("AuthFailure.SignatureFailure", "The provided credentials could not be validated.")
    )
    with pytest.raises(RtcAuthError) as info:
        TrtcHook().dismiss_room(5)
    text = _error_texts(info.value)
    _no_secret(text, "the auth error")
    assert "Authorization" not in text and "TC3-HMAC-SHA256" not in text
    assert "AuthFailure.SignatureFailure" in str(info.value)


def test_settings_reprs_hide_credentials(secret_conns) -> None:
    for hook in (TrtcHook(), LiveHook(), ZegoRtcHook(), ZegoCloudRecordHook()):
        settings = hook.settings
        for text in (repr(settings), str(settings), repr(settings.credentials), repr(hook), repr(vars(hook))):
            _no_secret(text, f"repr of {type(hook).__name__}")
    assert "ZgServerSecret" not in repr(ZegoRtcHook().settings)


def test_secrets_are_never_template_fields_and_do_not_render(httpserver, secret_conns) -> None:
    serve(httpserver, tc_ok(), zego_ok())
    operators = [
        DismissRoomOperator(task_id="a", room_id="{{ params.room }}"),
        CloseRoomOperator(task_id="b", room_id="{{ params.zroom }}", custom_reason="{{ params.reason }}"),
    ]
    for op in operators:
        assert not {"password", "secret_key", "server_secret", "token", "hook"} & set(op.template_fields)
        op.render_template_fields({"params": {"room": 7, "zroom": "z", "reason": "done"}})
        op.execute({})
        rendered = {name: getattr(op, name) for name in op.template_fields}
        _no_secret(repr(rendered), f"rendered fields of {op.task_id}")


def _signatures_sent(seen: list[Seen]) -> list[str]:
    return [s.q("Signature") for s in seen]


def test_zego_signature_is_never_logged_sync(httpserver, secret_conns, everything_at_debug, capfd) -> None:
    """The signature covers neither Action nor parameters, so for its 10-minute validity a logged one is a
    bearer credential for the whole AppId. urllib3 logs request URLs at DEBUG."""
    script = serve(httpserver, zego_err(206), zego_ok())
    ZegoRtcHook().close_room("r")
    signatures = _signatures_sent(script.seen)
    assert len(signatures) == 2
    provider_logs = "\n".join(
        r.getMessage() for r in everything_at_debug.records if not r.name.startswith("werkzeug")
    )
    assert "127.0.0.1" in provider_logs  # urllib3 did log the requests
    for signature in signatures:
        assert signature not in provider_logs


async def test_zego_signature_is_never_logged_async(httpserver, secret_conns, everything_at_debug) -> None:
    """httpx logs every request URL at INFO, the level triggerers run at."""
    script = serve(httpserver, zego_err(110200194), zego_ok({"TaskInfo": {}}))
    await ZegoRtcHook().aget_mix_task_info("mix-1")
    signatures = _signatures_sent(script.seen)
    assert len(signatures) == 2
    client_logs = "\n".join(
        r.getMessage() for r in everything_at_debug.records if not r.name.startswith("werkzeug")
    )
    assert "HTTP Request" in client_logs
    for signature in signatures:
        assert signature not in client_logs


async def test_zego_signature_is_not_logged_with_a_callers_client(
    httpserver, secret_conns, everything_at_debug, monkeypatch
) -> None:
    import httpx

    monkeypatch.setattr(logging.getLogger("httpx"), "filters", [])  # as after a logging reconfiguration
    script = serve(httpserver, zego_ok({"TaskInfo": {}}))
    async with httpx.AsyncClient() as client:
        await ZegoRtcHook().aget_mix_task_info("mix-1", client=client)
    logs = "\n".join(r.getMessage() for r in everything_at_debug.records if r.name == "httpx")
    assert "HTTP Request" in logs
    assert script.seen[0].q("Signature") not in logs
    assert "Signature=***" in logs


def _chain(err: BaseException | None) -> list[BaseException]:
    seen: list[BaseException] = []
    while err is not None and err not in seen:
        seen.append(err)
        err = err.__cause__ or err.__context__
    return seen


@pytest.mark.parametrize(
    ("cloud", "field", "param"),
    [
        ("tencent", "password", "password (SecretKey)"),
        ("tencent", "token", "token"),
        ("zego", "password", "password (ServerSecret)"),
    ],
)
@pytest.mark.parametrize("control", ["\x07", "\n", "\x00", "\u2028"], ids=["bel", "lf", "nul", "ls"])
def test_a_secret_with_a_control_character_is_refused_without_echoing_it(
    httpserver, set_connection, everything_at_debug, capfd, cloud: str, field: str, param: str, control: str
) -> None:
    """Only a whitespace-only key was tested, so the control-character error could print the key
    (one character off from the real one, so most of the real secret) without any test noticing."""
    head, tail = "SecretHead-4b1d9e7a", "SecretTail-c3f5a8e2"
    url = httpserver.url_for("").rstrip("/")
    set_connection(
        "tencentcloud_default",
        tencent_conn_json(url, **({field: head + control + tail} if cloud == "tencent" else {})),
    )
    set_connection(
        "zegocloud_default",
        zego_conn_json(url, **({field: head + control + tail} if cloud == "zego" else {})),
    )
    with pytest.raises(RtcError) as caught:
        if cloud == "tencent":
            TrtcHook().dismiss_room(1)
        else:
            ZegoRtcHook().close_room("r")
    assert getattr(caught.value, "param", None) == param, str(caught.value)
    assert "control character" in str(caught.value)
    assert len(httpserver.log) == 0
    texts = "\n".join(_error_texts(err) for err in _chain(caught.value))
    out, err_out = capfd.readouterr()
    for where, text in [
        ("the error or its chain", texts),
        ("the logs", everything_at_debug.text),
        ("stdout/stderr", out + err_out),
    ]:
        for part in (head, tail, repr(control)[1:-1] + tail):
            assert part not in text, f"{where} echoes the secret ({part!r})"
