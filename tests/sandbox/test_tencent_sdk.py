"""Proof of fidelity: the *official* Tencent SDK clients are accepted, and rejected for the right reasons."""

from __future__ import annotations

import time
from types import SimpleNamespace

import pytest
from rtc_sandbox.config import DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY
from tencentcloud.common import abstract_client, credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.live.v20180801 import live_client
from tencentcloud.live.v20180801 import models as live_models
from tencentcloud.trtc.v20190722 import models as trtc_models
from tencentcloud.trtc.v20190722 import trtc_client

from .conftest import TOKEN, TOKEN_SECRET_ID, TOKEN_SECRET_KEY


def _profile(sb, method: str = "POST") -> ClientProfile:
    http = HttpProfile(protocol="http", endpoint=sb.url.split("//", 1)[1], reqMethod=method, reqTimeout=10)
    return ClientProfile(httpProfile=http)


def _trtc(sb, method="POST", secret_id=DEFAULT_SECRET_ID, secret_key=DEFAULT_SECRET_KEY, token=None):
    cred = credential.Credential(secret_id, secret_key, token)
    return trtc_client.TrtcClient(cred, "ap-guangzhou", _profile(sb, method))


def _dismiss(room_id: int) -> trtc_models.DismissRoomRequest:
    req = trtc_models.DismissRoomRequest()
    req.SdkAppId, req.RoomId = 1400000001, room_id
    return req


@pytest.mark.parametrize("method", ["POST", "GET"])
def test_sdk_dismiss_room_of_seeded_room_succeeds(sb, method):
    ids = sb.seed({"trtc": {"rooms": 2, "users_per_room": 3}})
    room = ids["trtc"]["rooms"][0]
    resp = _trtc(sb, method).DismissRoom(_dismiss(room))
    assert len(resp.RequestId) == 36
    assert room not in [r["room_id"] for r in sb.state()["trtc"]["rooms"]]
    with pytest.raises(TencentCloudSDKException) as err:
        _trtc(sb, method).DismissRoom(_dismiss(room))
    assert err.value.get_code() == "FailedOperation.RoomNotExist"


def test_sdk_get_flattens_user_ids(sb):
    ids = sb.seed({"trtc": {"rooms": 1, "users_per_room": 4}})
    room = ids["trtc"]["rooms"][0]
    req = trtc_models.RemoveUserRequest()
    req.SdkAppId, req.RoomId, req.UserIds = 1400000001, room, ids["trtc"]["users"][str(room)][:2]
    _trtc(sb, "GET").RemoveUser(req)
    assert sb.backend.trtc.room_users(1400000001, room) == ids["trtc"]["users"][str(room)][2:]


def test_sdk_recording_lifecycle(sb):
    client = _trtc(sb)
    req = trtc_models.CreateCloudRecordingRequest()
    req.SdkAppId, req.RoomId, req.UserId, req.UserSig = 1400000001, "4242", "recorder_4242", "sig"
    req.RecordParams = trtc_models.RecordParams()
    req.RecordParams.RecordMode = 2
    req.StorageParams = trtc_models.StorageParams()
    req.StorageParams.CloudStorage = trtc_models.CloudStorage()
    cs = req.StorageParams.CloudStorage
    cs.Vendor, cs.Region, cs.Bucket, cs.AccessKey, cs.SecretKey = 0, "ap-guangzhou", "b-125", "ak", "sk"
    task_id = client.CreateCloudRecording(req).TaskId
    describe = trtc_models.DescribeCloudRecordingRequest()
    describe.SdkAppId, describe.TaskId = 1400000001, task_id
    out = client.DescribeCloudRecording(describe)
    assert out.Status == "InProgress"
    assert [f.FileName for f in out.StorageFileList] == ["1400000001_4242.m3u8"]
    delete = trtc_models.DeleteCloudRecordingRequest()
    delete.SdkAppId, delete.TaskId = 1400000001, task_id
    assert client.DeleteCloudRecording(delete).TaskId == task_id


def test_sdk_live_cancel_common_mix_stream(sb):
    ids = sb.seed({"live": {"mix_sessions": 1, "streams": 2}})
    client = live_client.LiveClient(
        credential.Credential(DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY), "", _profile(sb)
    )
    req = live_models.CancelCommonMixStreamRequest()
    req.MixStreamSessionId = ids["live"]["mix_sessions"][0]
    client.CancelCommonMixStream(req)
    with pytest.raises(TencentCloudSDKException) as err:
        client.CancelCommonMixStream(req)
    assert err.value.get_code() == "InvalidParameter.CancelSessionNotExist"
    state = live_models.DescribeLiveStreamStateRequest()
    stream = ids["live"]["streams"][0]
    state.AppName, state.DomainName, state.StreamName = (
        stream["app_name"],
        stream["domain_name"],
        stream["stream_name"],
    )
    assert client.DescribeLiveStreamState(state).StreamState == "active"


@pytest.mark.parametrize("method", ["POST", "GET"])
def test_sdk_wrong_key_is_signature_failure(sb, method):
    sb.seed({"trtc": {"rooms": 1}})
    with pytest.raises(TencentCloudSDKException) as err:
        _trtc(sb, method, secret_key="not-the-key").DismissRoom(_dismiss(1001))
    assert err.value.get_code() == "AuthFailure.SignatureFailure"
    assert sb.state()["trtc"]["counts"]["rooms"] == 1


def test_sdk_unknown_secret_id(sb):
    with pytest.raises(TencentCloudSDKException) as err:
        _trtc(sb, secret_id="AKIDunknown").DismissRoom(_dismiss(1001))
    assert err.value.get_code() == "AuthFailure.SecretIdNotFound"


def test_sdk_stale_clock_is_signature_expire(sb, monkeypatch):
    # Patch only the SDK's view of time: the sandbox shares the process and must keep real time.
    monkeypatch.setattr(abstract_client, "time", SimpleNamespace(time=lambda: time.time() - 400))
    with pytest.raises(TencentCloudSDKException) as err:
        _trtc(sb).DismissRoom(_dismiss(1001))
    assert err.value.get_code() == "AuthFailure.SignatureExpire"


def test_sdk_clock_within_window_is_accepted(sb, monkeypatch):
    monkeypatch.setattr(abstract_client, "time", SimpleNamespace(time=lambda: time.time() - 200))
    with pytest.raises(TencentCloudSDKException) as err:
        _trtc(sb).DismissRoom(_dismiss(1001))
    assert err.value.get_code() == "FailedOperation.RoomNotExist"


def test_sdk_session_token(sb):
    sb.seed({"trtc": {"rooms": 1}})
    with pytest.raises(TencentCloudSDKException) as err:
        _trtc(sb, secret_id=TOKEN_SECRET_ID, secret_key=TOKEN_SECRET_KEY, token="wrong").DismissRoom(
            _dismiss(1001)
        )
    assert err.value.get_code() == "AuthFailure.TokenFailure"
    with pytest.raises(TencentCloudSDKException) as err:
        _trtc(sb, secret_id=TOKEN_SECRET_ID, secret_key=TOKEN_SECRET_KEY).DismissRoom(_dismiss(1001))
    assert err.value.get_code() == "AuthFailure.TokenFailure"
    _trtc(sb, secret_id=TOKEN_SECRET_ID, secret_key=TOKEN_SECRET_KEY, token=TOKEN).DismissRoom(_dismiss(1001))


def test_sdk_describe_dummy_task_tells_key_good_from_bad(sb):
    """The provider's connection test: a dummy TaskId answers a business code iff the key is good."""
    describe = trtc_models.DescribeCloudRecordingRequest()
    describe.SdkAppId, describe.TaskId = 1400000001, "connection-test"
    with pytest.raises(TencentCloudSDKException) as good:
        _trtc(sb).DescribeCloudRecording(describe)
    assert good.value.get_code() == "ResourceNotFound"
    with pytest.raises(TencentCloudSDKException) as bad:
        _trtc(sb, secret_key="bad").DescribeCloudRecording(describe)
    assert bad.value.get_code() == "AuthFailure.SignatureFailure"
