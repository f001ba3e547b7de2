"""The connection forms and the provider's registration, as the running Airflow version builds them.

Airflow >= 3.2 builds the forms from ``get_provider_info()`` (``conn-fields``); 3.0 and 3.1 call the
hooks' ``get_connection_form_widgets()``/``get_ui_field_behaviour()`` through the UI's
``HookMetaService``. The compatibility stage (``make compat``) runs this file on every declared
minor; ``make test`` runs it on the current one.
"""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_rtc import __version__
from airflow_provider_rtc.get_provider_info import get_provider_info

pytestmark = pytest.mark.compat

DECLARED = {c["connection-type"]: c for c in get_provider_info()["connection-types"]}


@pytest.fixture(scope="module")
def hook_meta() -> dict[str, Any]:
    from airflow.api_fastapi.core_api.services.ui.connections import HookMetaService

    HookMetaService.hook_meta_data.cache_clear()
    return {m.connection_type: m for m in HookMetaService.hook_meta_data()}


def test_the_provider_is_registered_with_its_version() -> None:
    from airflow.providers_manager import ProvidersManager

    info = ProvidersManager().providers["airflow-provider-rtc"]
    assert info.version == __version__


@pytest.mark.parametrize("conn_type", sorted(DECLARED))
def test_every_declared_field_is_in_the_form(hook_meta: dict[str, Any], conn_type: str) -> None:
    meta = hook_meta[conn_type]
    declared = DECLARED[conn_type]["conn-fields"]
    fields = meta.extra_fields or {}
    assert sorted(fields) == sorted(declared)
    for name, spec in declared.items():
        schema = fields[name]["schema"]
        assert fields[name]["value"] is None
        assert schema.get("title") == spec["label"], name
        # secrets stay hidden while typed, on every version
        assert (schema.get("format") == "password") == (spec["schema"].get("format") == "password"), name
        if "enum" in spec["schema"]:
            assert {v for v in schema["enum"] if v is not None} == {
                v for v in spec["schema"]["enum"] if v is not None
            }


@pytest.mark.parametrize("conn_type", sorted(DECLARED))
def test_standard_fields_are_relabelled_and_hidden(hook_meta: dict[str, Any], conn_type: str) -> None:
    behaviour = DECLARED[conn_type]["ui-field-behaviour"]
    standard = hook_meta[conn_type].standard_fields
    assert standard is not None
    assert standard.login.title == behaviour["relabeling"]["login"]
    assert standard.password.title == behaviour["relabeling"]["password"]
    for hidden in behaviour["hidden-fields"]:
        field = getattr(standard, "url_schema" if hidden == "schema" else hidden)
        assert field is not None and field.hidden, hidden


def test_the_legacy_hook_methods_describe_the_same_form() -> None:
    """What 3.0/3.1 read from the hooks is the one declaration, whatever version runs the test."""
    from airflow_provider_rtc.hooks.tencentcloud import TencentCloudHook
    from airflow_provider_rtc.hooks.zego import ZegoCloudHook

    for hook in (TencentCloudHook, ZegoCloudHook):
        declared = DECLARED[hook.conn_type]
        widgets = hook.get_connection_form_widgets()
        assert sorted(widgets) == sorted(declared["conn-fields"])
        behaviour = hook.get_ui_field_behaviour()
        assert behaviour["hidden_fields"] == declared["ui-field-behaviour"]["hidden-fields"]
        assert behaviour["relabeling"] == declared["ui-field-behaviour"]["relabeling"]
