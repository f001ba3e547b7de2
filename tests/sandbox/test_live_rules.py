"""Tencent Cloud Live mix sessions and pushed streams."""

from __future__ import annotations

from .conftest import code_of


def _mix(session="s_1", inputs=("a", "b"), output="out_1", out_type=1, **extra):
    return {
        "MixStreamSessionId": session,
        "InputStreamList": [
            {"InputStreamName": name, "LayoutParams": {"ImageLayer": i + 1}} for i, name in enumerate(inputs)
        ],
        "OutputParams": {"OutputStreamName": output, "OutputStreamType": out_type},
        **extra,
    }


def test_create_update_cancel(sb, tencent):
    assert code_of(tencent("CreateCommonMixStream", _mix())) is None
    assert (
        code_of(tencent("CreateCommonMixStream", _mix(inputs=("a", "b", "c")))) is None
    )  # same session updates
    sessions = sb.state()["live"]["mix_sessions"]
    assert [(s["session_id"], s["inputs"], s["updates"]) for s in sessions] == [("s_1", ["a", "b", "c"], 1)]
    assert code_of(tencent("CreateCommonMixStream", _mix(output="other"))) == (
        "InvalidParameter.SessionOutputStreamChanged"
    )
    assert (
        code_of(tencent("CreateCommonMixStream", _mix(session="s_2")))
        == "InvalidParameter.InvalidOutputStreamID"
    )
    assert code_of(tencent("CancelCommonMixStream", {"MixStreamSessionId": "s_1"})) is None
    assert code_of(tencent("CancelCommonMixStream", {"MixStreamSessionId": "s_1"})) == (
        "InvalidParameter.CancelSessionNotExist"
    )


def test_get_method_with_flattened_nested_params(sb, tencent):
    assert code_of(tencent("CreateCommonMixStream", _mix(), method="GET")) is None
    assert sb.state()["live"]["counts"]["mix_sessions"] == 1


def test_session_id_validation(tencent):
    for bad in ("has-dash", "x" * 81, "space here", "中文"):
        assert code_of(tencent("CreateCommonMixStream", _mix(session=bad))) == "InvalidParameter", bad
        assert code_of(tencent("CancelCommonMixStream", {"MixStreamSessionId": bad})) == "InvalidParameter", (
            bad
        )
    assert code_of(tencent("CreateCommonMixStream", _mix(session="A_" + "9" * 78))) is None
    assert code_of(tencent("CancelCommonMixStream", {})) == "MissingParameter"


def test_layout_and_template_rules(tencent):
    dup = _mix()
    dup["InputStreamList"][1]["LayoutParams"]["ImageLayer"] = 1
    assert code_of(tencent("CreateCommonMixStream", dup)) == "InvalidParameter.InvalidLayerParam"
    many = _mix(inputs=[f"in_{i}" for i in range(17)])
    assert code_of(tencent("CreateCommonMixStream", many)) == "InvalidParameter.InputNumLimitExceeded"
    assert code_of(tencent("CreateCommonMixStream", _mix(MixStreamTemplateId=310))) == (
        "InvalidParameter.TemplateNotMatchInputNum"
    )
    assert code_of(tencent("CreateCommonMixStream", _mix(MixStreamTemplateId=10))) is None
    assert code_of(tencent("CreateCommonMixStream", _mix(session="t", output="a", out_type=1))) == (
        "InvalidParameter.InvalidOutputType"
    )
    assert code_of(tencent("CreateCommonMixStream", _mix(session="t", output="a", out_type=0))) is None


def test_drop_live_stream_is_idempotent(sb, tencent):
    ids = sb.seed({"live": {"streams": 1}})
    s = ids["live"]["streams"][0]
    params = {"AppName": s["app_name"], "DomainName": s["domain_name"], "StreamName": s["stream_name"]}
    assert tencent("DescribeLiveStreamState", params)["StreamState"] == "active"
    assert code_of(tencent("DropLiveStream", params)) is None
    assert tencent("DescribeLiveStreamState", params)["StreamState"] == "inactive"
    assert code_of(tencent("DropLiveStream", params)) is None
    assert code_of(tencent("DropLiveStream", {**params, "StreamName": "never_pushed"})) is None
    assert code_of(tencent("DropLiveStream", {"AppName": "live", "DomainName": "d"})) == "MissingParameter"
