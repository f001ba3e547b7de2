"""Connection forms for Airflow 3.0 and 3.1, built from the one declaration in ``get_provider_info``.

Airflow >= 3.2 reads the forms from the provider info (``conn-fields``/``ui-field-behaviour``) and
never calls these. Airflow 3.0 and 3.1 only know the hook methods ``get_connection_form_widgets()``
and ``get_ui_field_behaviour()``: without them the forms are empty (``widgets []``,
``field_behaviours None``, measured on 3.0.6 and 3.1.8). Their UI service
(``HookMetaService._get_hooks_with_mocked_fab``) patches ``wtforms`` fields with its own and reads
label, description, type, ``any_of`` choices and the password type from them, so the fields are
built from ``wtforms`` names only: no Flask-AppBuilder widget and no ``flask_babel`` (neither is
installed with a plain Airflow 3), hence the ``wtforms`` dependency.
"""

from __future__ import annotations

from typing import Any


def _connection_type(conn_type: str) -> dict[str, Any]:
    from airflow_provider_rtc.get_provider_info import get_provider_info

    for entry in get_provider_info()["connection-types"]:
        if entry["connection-type"] == conn_type:
            return entry
    raise KeyError(conn_type)


def form_widgets(conn_type: str) -> dict[str, Any]:
    """``get_connection_form_widgets()`` for ``conn_type``: one wtforms field per ``conn-fields`` entry."""
    from wtforms import BooleanField, IntegerField, PasswordField, StringField
    from wtforms.validators import Optional, any_of

    widgets: dict[str, Any] = {}
    for name, spec in _connection_type(conn_type).get("conn-fields", {}).items():
        schema = spec["schema"]
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        validators: list[Any] = [Optional()]
        if schema.get("enum"):
            validators.append(any_of([v for v in schema["enum"] if v is not None]))
        if "boolean" in types:
            field: Any = BooleanField
        elif "integer" in types:
            field = IntegerField
        elif schema.get("format") == "password":
            field = PasswordField
        else:
            field = StringField
        widgets[name] = field(spec["label"], validators=validators, description=spec["description"])
    return widgets


def field_behaviour(conn_type: str) -> dict[str, Any]:
    """``get_ui_field_behaviour()`` for ``conn_type``: the declaration with its keys in snake_case."""
    declared = _connection_type(conn_type).get("ui-field-behaviour", {})
    return {key.replace("-", "_"): value for key, value in declared.items()}
