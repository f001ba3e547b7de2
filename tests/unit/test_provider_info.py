"""Provider metadata: what Airflow's ProvidersManager reads, and that Airflow actually finds the provider."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_rtc import __version__
from airflow_provider_rtc.get_provider_info import get_provider_info


@pytest.fixture(scope="module")
def info() -> dict[str, Any]:
    return get_provider_info()


def test_identity(info) -> None:
    assert info["package-name"] == "airflow-provider-rtc"
    assert info["name"] and info["description"]
    assert info["versions"] == [__version__]


def test_entry_point_is_installed() -> None:
    (ep,) = [
        e for e in entry_points(group="apache_airflow_provider") if e.value.startswith("airflow_provider_rtc")
    ]
    assert ep.load() is get_provider_info


def _listed_modules(info: dict[str, Any]) -> set[str]:
    modules: set[str] = set()
    for section in ("hooks", "operators", "sensors", "triggers", "transfers"):
        for entry in info.get(section, []):
            modules.update(entry.get("python-modules", []))
    return modules


def test_every_listed_module_imports(info) -> None:
    modules = _listed_modules(info)
    assert {
        "airflow_provider_rtc.hooks.tencentcloud",
        "airflow_provider_rtc.hooks.trtc",
        "airflow_provider_rtc.hooks.live",
        "airflow_provider_rtc.hooks.zego",
        "airflow_provider_rtc.operators.trtc",
        "airflow_provider_rtc.operators.live",
        "airflow_provider_rtc.operators.zego",
        "airflow_provider_rtc.operators.usage",
    } <= modules
    for module in sorted(modules):
        importlib.import_module(module)


def test_every_listed_integration_exists(info) -> None:
    names = {i["integration-name"] for i in info["integrations"]}
    for section in ("hooks", "operators", "sensors", "triggers"):
        for entry in info.get(section, []):
            assert entry["integration-name"] in names


@pytest.mark.parametrize(
    ("conn_type", "hook_path", "fields", "relabel"),
    [
        (
            "tencentcloud",
            "airflow_provider_rtc.hooks.tencentcloud.TencentCloudHook",
            {
                "region",
                "sdk_app_id",
                "vod_sub_app_id",
                "endpoint",
                "intl",
                "token",
                "callback_receiver_url",
                "callback_secret",
            }
            | {"rate_limit_backend", "rate_limit_redis_url", "rate_limit_redis_password"},
            {"login": "SecretId", "password": "SecretKey"},
        ),
        (
            "zegocloud",
            "airflow_provider_rtc.hooks.zego.ZegoCloudHook",
            {"endpoint", "is_test", "callback_receiver_url", "callback_secret"}
            | {"rate_limit_backend", "rate_limit_redis_url", "rate_limit_redis_password"},
            {"login": "AppId", "password": "ServerSecret"},
        ),
    ],
)
def test_connection_types(info, conn_type, hook_path, fields, relabel) -> None:
    (entry,) = [c for c in info["connection-types"] if c["connection-type"] == conn_type]
    assert entry["hook-class-name"] == hook_path
    module, _, name = hook_path.rpartition(".")
    hook = getattr(importlib.import_module(module), name)
    assert hook.conn_type == conn_type
    assert entry["hook-name"] == hook.hook_name
    behaviour = entry["ui-field-behaviour"]
    assert {"host", "schema", "port"} <= set(behaviour["hidden-fields"])
    assert behaviour["relabeling"] == relabel
    conn_fields = entry["conn-fields"]
    assert set(conn_fields) == fields
    for spec in conn_fields.values():
        assert spec["label"] and spec["description"]
        assert "type" in spec["schema"]
        json.dumps(spec)


def test_token_field_is_a_password_field(info) -> None:
    (entry,) = [c for c in info["connection-types"] if c["connection-type"] == "tencentcloud"]
    assert entry["conn-fields"]["token"]["schema"]["format"] == "password"
    assert entry["conn-fields"]["callback_secret"]["schema"]["format"] == "password"
    (zego,) = [c for c in info["connection-types"] if c["connection-type"] == "zegocloud"]
    assert zego["conn-fields"]["callback_secret"]["schema"]["format"] == "password"


def _airflow(args: list[str], tmp_path: Path) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW_CONN_")}
    env["AIRFLOW_HOME"] = str(tmp_path)
    env["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
    airflow = Path(sys.executable).with_name("airflow")
    done = subprocess.run(
        [str(airflow), *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.mark.slow  # the `airflow` CLI in a fresh process (about 11 s of CPU)
def test_airflow_providers_list_shows_the_provider(tmp_path) -> None:
    out = _airflow(["providers", "list", "-o", "json"], tmp_path)
    providers = json.loads(out[out.index("[") :])
    (ours,) = [p for p in providers if p["package_name"] == "airflow-provider-rtc"]
    assert ours["version"] == __version__


_REGISTRY_PROBE = """
import json
from airflow.providers_manager import ProvidersManager
pm = ProvidersManager()
hooks = {k: (v.package_name, v.hook_class_name, v.connection_id_attribute_name) for k, v in pm.hooks.items()
         if v and v.package_name == "airflow-provider-rtc"}
widgets = sorted(k for k, w in pm.connection_form_widgets.items() if w.package_name == "airflow-provider-rtc")
behaviours = {k: v for k, v in pm.field_behaviours.items() if k in ("tencentcloud", "zegocloud")}
print(json.dumps({"hooks": hooks, "widgets": widgets, "behaviours": behaviours}))
"""


@pytest.mark.slow  # Airflow's ProvidersManager in a fresh process (about 15 s of CPU)
def test_airflow_registers_both_connection_forms(tmp_path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW_CONN_")}
    env["AIRFLOW_HOME"] = str(tmp_path)
    done = subprocess.run(
        [sys.executable, "-c", _REGISTRY_PROBE],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["hooks"] == {
        "tencentcloud": [
            "airflow-provider-rtc",
            "airflow_provider_rtc.hooks.tencentcloud.TencentCloudHook",
            "tencentcloud_conn_id",
        ],
        "zegocloud": [
            "airflow-provider-rtc",
            "airflow_provider_rtc.hooks.zego.ZegoCloudHook",
            "zegocloud_conn_id",
        ],
    }
    # the form's extra fields arrive under the prefixed names, which the hooks also read
    assert found["widgets"] == [
        "extra__tencentcloud__callback_receiver_url",
        "extra__tencentcloud__callback_secret",
        "extra__tencentcloud__endpoint",
        "extra__tencentcloud__intl",
        "extra__tencentcloud__rate_limit_backend",
        "extra__tencentcloud__rate_limit_redis_password",
        "extra__tencentcloud__rate_limit_redis_url",
        "extra__tencentcloud__region",
        "extra__tencentcloud__sdk_app_id",
        "extra__tencentcloud__token",
        "extra__tencentcloud__vod_sub_app_id",
        "extra__zegocloud__callback_receiver_url",
        "extra__zegocloud__callback_secret",
        "extra__zegocloud__endpoint",
        "extra__zegocloud__is_test",
        "extra__zegocloud__rate_limit_backend",
        "extra__zegocloud__rate_limit_redis_password",
        "extra__zegocloud__rate_limit_redis_url",
    ]
    assert found["behaviours"]["tencentcloud"]["relabeling"] == {"login": "SecretId", "password": "SecretKey"}
    assert found["behaviours"]["zegocloud"]["relabeling"] == {"login": "AppId", "password": "ServerSecret"}


def test_provider_info_matches_airflows_schema(info) -> None:
    import airflow
    import jsonschema

    schema = json.loads((Path(airflow.__file__).parent / "provider_info.schema.json").read_text())
    jsonschema.validate(info, schema)


def test_rate_limit_config_is_declared(info) -> None:
    options = info["config"]["rtc"]["options"]
    assert options["rate_limit_backend"]["default"] == "host"
    assert options["rate_limit_redis_url"]["sensitive"] is True
    assert {"rate_limit_backend", "rate_limit_redis_url", "rate_limit_dir"} <= set(options)
    for conn_type in info["connection-types"]:
        assert {"rate_limit_backend", "rate_limit_redis_url"} <= set(conn_type["conn-fields"])
