"""Airflow 3.0/3.1's ProvidersManager takes a hook's connection-form fields only from methods in the
hook class's OWN ``__dict__`` (``"get_connection_form_widgets" in hook_class.__dict__``): inherited
ones are ignored and the form loses its fields. Checked here on every minor, not only on 3.0/3.1."""

from __future__ import annotations

import importlib

import pytest

from airflow_provider_rtc.get_provider_info import get_provider_info

pytestmark = pytest.mark.compat

HOOKS = [entry["hook-class-name"] for entry in get_provider_info()["connection-types"]]


@pytest.mark.parametrize("path", HOOKS)
def test_each_registered_hook_holds_its_form_methods_itself(path: str) -> None:
    module, name = path.rsplit(".", 1)
    hook = getattr(importlib.import_module(module), name)
    for method in ("get_connection_form_widgets", "get_ui_field_behaviour"):
        assert method in hook.__dict__, (path, method)
    assert hook.get_connection_form_widgets() and hook.get_ui_field_behaviour()["hidden_fields"]
