"""The catalog is the one place an API's facts live: every hook method, operator and sandbox handler
must name an API it holds, and every API it holds must have a sandbox handler.

Introspection, not lists: hook methods are read for the catalog entry they pass to ``_call``/``_acall``,
operators for the hook methods they call and the action names they report, the sandbox for its
registered handlers. Adding an API without its entry (or an entry without its handler) fails here.
"""

from __future__ import annotations

import ast
import inspect
import re
import textwrap
from pathlib import Path

import pytest
from rtc_sandbox import app as _sandbox_app  # noqa: F401  (imports the wire handlers)
from rtc_sandbox.routes import HANDLERS

import airflow_provider_rtc
from airflow_provider_rtc import catalog
from airflow_provider_rtc.catalog import CATALOG, Api
from airflow_provider_rtc.hooks.live import LiveHook
from airflow_provider_rtc.hooks.trtc import TrtcHook
from airflow_provider_rtc.hooks.vod import VodHook
from airflow_provider_rtc.hooks.zego import ZegoCloudRecordHook, ZegoRtcHook
from airflow_provider_rtc.protocol.codes import Kind, classify_tencent, classify_zego

PACKAGE = Path(airflow_provider_rtc.__file__).parent
HOOKS = (TrtcHook, LiveHook, VodHook, ZegoRtcHook, ZegoCloudRecordHook)
ACTIONS = {api.action for api in CATALOG.values()}


def snake(action: str) -> str:
    """``DismissRoom`` -> ``dismiss_room``; an acronym stays one word (``StopAITranscription`` ->
    ``stop_ai_transcription``)."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", action).lower()


def _catalog_calls(fn: object) -> list[tuple[str, str]]:
    """(``_call``/``_acall``/``call``/``acall``, what it passes first) for each call in ``fn``'s body."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))  # type: ignore[arg-type]
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        name = node.func.attr
        if name not in ("_call", "_acall", "call", "acall") or not node.args:
            continue
        first = node.args[0]
        if (
            isinstance(first, ast.Attribute)
            and isinstance(first.value, ast.Name)
            and first.value.id == "catalog"
        ):
            found.append((name, f"catalog.{first.attr}"))
        elif isinstance(first, ast.Constant):
            found.append((name, repr(first.value)))
        else:
            found.append((name, ast.unparse(first)))
    return found


def hook_api_methods() -> dict[str, Api]:
    """Every hook method that calls an API, with the entry it passes (own methods of each hook class)."""
    methods: dict[str, Api] = {}
    for hook in HOOKS:
        for name, fn in vars(hook).items():
            if not inspect.isfunction(fn) or name.startswith("_"):
                continue
            for kind, target in _catalog_calls(fn):
                assert kind in ("_call", "_acall"), (
                    f"{hook.__name__}.{name} calls {kind}({target}), not the catalog"
                )
                assert target.startswith("catalog."), f"{hook.__name__}.{name} passes {target}, not an entry"
                api = getattr(catalog, target.removeprefix("catalog."), None)
                assert isinstance(api, Api), f"{hook.__name__}.{name}: {target} is not in the catalog"
                methods[f"{hook.__name__}.{name}"] = api
    return methods


def test_every_hook_method_calls_a_catalog_entry_and_is_named_after_it() -> None:
    methods = hook_api_methods()
    assert len(methods) >= len(CATALOG)
    for qualified, api in methods.items():
        name = qualified.split(".", 1)[1]
        assert name in (snake(api.action), "a" + snake(api.action)), f"{qualified} calls {api.action}"
        assert CATALOG[api.key] is api


def test_every_catalog_entry_has_a_sandbox_handler_and_no_handler_is_extra() -> None:
    assert set(CATALOG) - set(HANDLERS) == set(), "catalog entries the sandbox does not implement"
    assert set(HANDLERS) - set(CATALOG) == set(), "sandbox handlers for APIs the catalog lacks"


def _operator_sources() -> list[Path]:
    return sorted((PACKAGE / "operators").glob("*.py")) + sorted((PACKAGE / "sensors").glob("*.py"))


def _strings_named_action(tree: ast.AST) -> list[str]:
    """Action names an operator reports: ``action = "X"``, ``action, call = "X", ...`` and the
    second argument of ``self.cleanup(what, "X", ...)``."""
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                pairs: list[tuple[ast.expr, ast.expr]] = []
                if isinstance(target, ast.Name):
                    pairs = [(target, node.value)]
                elif isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple):
                    pairs = list(zip(target.elts, node.value.elts, strict=False))
                for t, value in pairs:
                    if (
                        isinstance(t, ast.Name)
                        and t.id == "action"
                        and isinstance(value, ast.Constant)
                        and value.value
                    ):
                        names.append(value.value)
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "cleanup"
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
        ):
            names.append(node.args[1].value)
    return names


def test_operators_and_sensors_name_only_catalog_apis() -> None:
    hook_methods = {q.split(".", 1)[1] for q in hook_api_methods()}
    all_hook_attrs = {n for hook in HOOKS for n in dir(hook)}
    seen_actions, seen_methods = [], []
    for path in _operator_sources():
        tree = ast.parse(path.read_text())
        for action in _strings_named_action(tree):
            seen_actions.append(action)
            assert action in ACTIONS, f"{path.name} reports action {action!r}, which the catalog lacks"
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Attribute)
                and node.func.value.attr in ("hook", "record_hook")
            ):
                method = node.func.attr
                seen_methods.append(method)
                assert method in all_hook_attrs, f"{path.name} calls hook.{method}, which no hook has"
                if method in ("call", "acall"):
                    pytest.fail(f"{path.name} calls hook.{method} directly instead of a catalog API method")
                if not method.startswith(("asettings", "settings", "test_connection", "close")):
                    assert method in hook_methods, f"{path.name}: hook.{method} calls no catalog API"
    # the scan sees them (DismissRoom's and the stop-by-TaskId operators' hook methods now come from
    # the ender table, not an operator literal)
    assert "StopPublishCdnStream" in seen_actions and "stop_mix" in seen_methods


def test_the_scan_catches_an_api_missing_from_the_catalog() -> None:
    class RogueHook(TrtcHook):
        def stop_mcu_mix_transcode(self, task_id: str) -> dict:
            return self.call("StopMCUMixTranscode", {"TaskId": task_id})

    assert _catalog_calls(RogueHook.stop_mcu_mix_transcode) == [("call", "'StopMCUMixTranscode'")]
    tree = ast.parse('class Op:\n    action = "StopMCUMixTranscode"\n')
    assert _strings_named_action(tree) == ["StopMCUMixTranscode"]
    assert "StopMCUMixTranscode" not in ACTIONS


def test_entries_are_consistent() -> None:
    for api in CATALOG.values():
        assert api.qps is None or api.qps > 0
        assert api.version if api.cloud == "tencent" else api.family in ("room", "mix", "record", "media")
        assert set(api.per) <= {"secret_id", "region", "app_id", "room"}
        assert not (api.gone & api.transient), api.action  # type: ignore[operator]
        if api.cloud == "tencent":
            assert api.per[0] == "secret_id", (
                f"Tencent limits are per SecretId, not per SDKAppID: {api.action}"
            )
        else:
            assert api.per[0] == "app_id"
    assert catalog.by_action("zego", "CloseRoom") is catalog.CLOSE_ROOM
    assert catalog.lookup("trtc", "DismissRoom") is catalog.DISMISS_ROOM


def test_two_entries_for_one_api_are_refused() -> None:
    with pytest.raises(ValueError, match="two catalog entries"):
        catalog.register(Api(cloud="tencent", product="trtc", action="DismissRoom", version="2019-07-22"))
    with pytest.raises(ValueError, match=r"two .*products"):
        catalog.register(Api(cloud="zego", product="cloudrecord", action="CloseRoom", family="record"))


def test_classification_follows_the_entry() -> None:
    for api in CATALOG.values():
        classify = classify_tencent if api.cloud == "tencent" else classify_zego
        for code in api.gone:
            assert classify(api.action, code) is Kind.NOT_FOUND  # type: ignore[arg-type]
        for code in api.transient:
            assert classify(api.action, code) is Kind.TRANSIENT  # type: ignore[arg-type]


def test_rate_keys() -> None:
    scope = {"secret_id": "AKID", "region": "ap-singapore", "app_id": 7, "room": "r"}
    assert catalog.DISMISS_ROOM.rate_key(**scope) == "AKID|ap-singapore"
    assert catalog.DROP_LIVE_STREAM.rate_key(**scope) == "AKID"
    assert catalog.CLOSE_ROOM.rate_key(**scope) == "7"
    assert catalog.DESCRIBE_SIMPLE_STREAM_LIST.rate_key(**scope) == "7|r"
    assert catalog.DELETE_STREAM.rate(test=True) == 1 and catalog.DELETE_STREAM.rate() == 10
