"""The connection forms, declared once (``CONNECTION_TYPES``, which ``get_provider_info`` serves),
and their Airflow 3.0/3.1 form built from that declaration.

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


def _field(label: str, description: str, type_: str | list[str], **schema: Any) -> dict[str, Any]:
    return {"label": label, "description": description, "schema": {"type": type_, **schema}}


def _endpoint(replaces: str) -> dict[str, Any]:
    """The ``endpoint`` extra of every cloud: a base URL in place of the vendor's (the sandbox's)."""
    return _field("Endpoint", f"base URL replacing {replaces}", ["string", "null"])


def _receiver_fields(secret_description: str) -> dict[str, Any]:
    """The callback receiver's URL and the secret signing its reads (a name Airflow masks)."""
    return {
        "callback_receiver_url": _field(
            "Callback receiver URL",
            "where rtc-callback-receiver serves stored callbacks, with its path prefix "
            "if any (the Airflow plugin: http://<airflow>/rtc-callbacks)",
            ["string", "null"],
        ),
        "callback_secret": _field(
            "Callback secret", secret_description, ["string", "null"], format="password"
        ),
    }


BACKEND_HELP = (
    "who shares the documented rate limit: process, host (every process on this machine; default) "
    "or redis (every worker that reaches rate_limit_redis_url)"
)
_RATE_LIMIT_FIELDS = {
    "rate_limit_backend": _field(
        "Rate-limit backend", BACKEND_HELP, ["string", "null"], enum=["process", "host", "redis", None]
    ),
    "rate_limit_redis_url": _field(
        "Rate-limit Redis URL",
        "redis://host:port/db (or rediss://, unix://) for the redis backend; its password goes in "
        "the next field, not here (Airflow masks extras by name only)",
        ["string", "null"],
        format="password",  # still hidden while typed: older connections keep a password in it
    ),
    # a name Airflow masks ("password"): served as *** by the connection API
    "rate_limit_redis_password": _field(
        "Rate-limit Redis password",
        "password of the Redis above, if it needs one",
        ["string", "null"],
        format="password",
    ),
}


def _entry(
    conn_type: str,
    hook_class: str,
    hook_name: str,
    *,
    login: tuple[str, str],
    password: tuple[str, str],
    fields: dict[str, Any],
    receiver_help: str,
) -> dict[str, Any]:
    """One ``connection-types`` entry: every cloud hides host, schema and port, names login and
    password after its credential (``(label, placeholder)``), and takes the rate-limit extras, its
    own ``fields`` and the callback receiver's."""
    return {
        "connection-type": conn_type,
        "hook-class-name": f"airflow_provider_rtc.hooks.{hook_class}",
        "hook-name": hook_name,
        "ui-field-behaviour": {
            "hidden-fields": ["host", "schema", "port"],
            "relabeling": {"login": login[0], "password": password[0]},
            "placeholders": {"login": login[1], "password": password[1]},
        },
        "conn-fields": {**_RATE_LIMIT_FIELDS, **fields, **_receiver_fields(receiver_help)},
    }


#: the ``connection-types`` of ``get_provider_info()``: the one declaration of both forms
CONNECTION_TYPES: list[dict[str, Any]] = [
    _entry(
        "tencentcloud",
        "tencentcloud.TencentCloudHook",
        "Tencent Cloud",
        login=("SecretId", "AKID..."),
        password=("SecretKey", "your SecretKey"),
        fields={
            "region": _field("Region", "e.g. ap-guangzhou; required by TRTC APIs", ["string", "null"]),
            "sdk_app_id": _field("SDKAppID", "default TRTC application", ["integer", "null"], minimum=1),
            "vod_sub_app_id": _field(
                "VOD SubAppId",
                "VOD application; required for VOD accounts opened since 2023-12-25",
                ["integer", "null"],
                minimum=1,
            ),
            "endpoint": _endpoint("https://{service}.tencentcloudapi.com (e.g. the sandbox)"),
            "intl": _field(
                "International site", "use {service}.intl.tencentcloudapi.com", ["boolean", "null"]
            ),
            "token": _field(
                "STS token",
                "session token of temporary credentials",
                ["string", "null"],
                format="password",
            ),
        },
        receiver_help=(
            "TRTC recording-callback key (signs callbacks and reads of the receiver); "
            "replaces the older extra 'callback_key'"
        ),
    ),
    _entry(
        "zegocloud",
        "zego.ZegoCloudHook",
        "ZEGOCLOUD",
        login=("AppId", "1234567890"),
        password=("ServerSecret", "32 hex characters"),
        fields={
            "endpoint": _endpoint("https://rtc-api.zego.im and https://cloudrecord-api.zego.im"),
            "is_test": _field(
                "Test environment",
                "send IsTest=true (projects created before 2021-11-16)",
                ["boolean", "null"],
            ),
        },
        receiver_help="the project's CallbackSecret (signs ZEGO callbacks and reads of the receiver)",
    ),
]


def _connection_type(conn_type: str) -> dict[str, Any]:
    for entry in CONNECTION_TYPES:
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
