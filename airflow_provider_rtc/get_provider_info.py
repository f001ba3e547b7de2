"""Provider metadata read by Airflow's ProvidersManager (entry point ``apache_airflow_provider``).

The connection forms are declared here (``conn-fields``/``ui-field-behaviour``) so Airflow >= 3.2
builds them without importing the hooks.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_rtc.plugins.options import SECTION as _CALLBACKS_SECTION
from airflow_provider_rtc.plugins.options import SECTION_SPEC as _CALLBACKS_SPEC

_TENCENT_DOC = "https://www.tencentcloud.com/document/product/647"
_LIVE_DOC = "https://www.tencentcloud.com/document/product/267"
_ZEGO_DOC = "https://www.zegocloud.com/docs/real-time-video-server/api-reference/server-apis"


def _field(label: str, description: str, type_: str | list[str], **schema: Any) -> dict[str, Any]:
    return {"label": label, "description": description, "schema": {"type": type_, **schema}}


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


_BACKEND_HELP = (
    "who shares the documented rate limit: process, host (every process on this machine; default) "
    "or redis (every worker that reaches rate_limit_redis_url)"
)
_RATE_LIMIT_FIELDS = {
    "rate_limit_backend": _field(
        "Rate-limit backend", _BACKEND_HELP, ["string", "null"], enum=["process", "host", "redis", None]
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

#: ``[rtc]`` options (connection extras of the same names win); ``[rtc_callbacks]``: the plugin's
_CONFIG = {
    _CALLBACKS_SECTION: _CALLBACKS_SPEC,
    "rtc": {
        "description": "airflow-provider-rtc: how the client-side rate limits are shared between workers.",
        "options": {
            "rate_limit_backend": {
                "description": _BACKEND_HELP + ". LocalExecutor: host; Celery/Kubernetes: redis.",
                "version_added": "0.1.0",
                "type": "string",
                "example": "redis",
                "default": "host",
            },
            "rate_limit_redis_url": {
                "description": "Redis URL of the redis backend (needs airflow-provider-rtc[redis]).",
                "version_added": "0.1.0",
                "type": "string",
                "sensitive": True,
                "example": "redis://redis:6379/1",
                "default": None,
            },
            "rate_limit_redis_password": {
                "description": "Password of that Redis, if it needs one (kept out of the URL).",
                "version_added": "0.2.0",
                "type": "string",
                "sensitive": True,
                "example": None,
                "default": None,
            },
            "rate_limit_dir": {
                "description": "Directory of the host backend's state file, shared by every Airflow "
                "process of the machine (default: airflow-provider-rtc-<uid> under the system temp dir).",
                "version_added": "0.1.0",
                "type": "string",
                "example": "/var/lib/airflow/rtc-rate-limits",
                "default": None,
            },
        },
    },
}


def get_provider_info() -> dict[str, Any]:
    from airflow_provider_rtc import __version__

    return {
        "package-name": "airflow-provider-rtc",
        "name": "RTC clouds (Tencent Cloud TRTC and Live, ZEGOCLOUD)",
        "description": "End live events cleanly and wait for their recordings: Tencent Cloud TRTC, "
        "Tencent Cloud Live and ZEGOCLOUD hooks, operators, sensors and triggers.",
        "versions": [__version__],
        "integrations": [
            {"integration-name": "Tencent Cloud TRTC", "external-doc-url": _TENCENT_DOC, "tags": ["service"]},
            {"integration-name": "Tencent Cloud Live", "external-doc-url": _LIVE_DOC, "tags": ["service"]},
            {"integration-name": "ZEGOCLOUD", "external-doc-url": _ZEGO_DOC, "tags": ["service"]},
        ],
        "hooks": [
            {
                "integration-name": "Tencent Cloud TRTC",
                "python-modules": [
                    "airflow_provider_rtc.hooks.tencentcloud",
                    "airflow_provider_rtc.hooks.trtc",
                    "airflow_provider_rtc.hooks.vod",
                ],
            },
            {"integration-name": "Tencent Cloud Live", "python-modules": ["airflow_provider_rtc.hooks.live"]},
            {"integration-name": "ZEGOCLOUD", "python-modules": ["airflow_provider_rtc.hooks.zego"]},
        ],
        "operators": [
            {
                "integration-name": "Tencent Cloud TRTC",
                # operators.event spans all three clouds (discovery and ending an event)
                "python-modules": [
                    "airflow_provider_rtc.operators.trtc",
                    "airflow_provider_rtc.operators.usage",
                    "airflow_provider_rtc.operators.storage",
                    "airflow_provider_rtc.operators.event",
                    # operators.probe spans all three clouds too (the account probe)
                    "airflow_provider_rtc.operators.probe",
                ],
            },
            {
                "integration-name": "Tencent Cloud Live",
                "python-modules": ["airflow_provider_rtc.operators.live"],
            },
            {"integration-name": "ZEGOCLOUD", "python-modules": ["airflow_provider_rtc.operators.zego"]},
        ],
        "sensors": [
            {
                "integration-name": "Tencent Cloud TRTC",
                "python-modules": ["airflow_provider_rtc.sensors.trtc"],
            },
            {"integration-name": "ZEGOCLOUD", "python-modules": ["airflow_provider_rtc.sensors.zego"]},
        ],
        "triggers": [
            {
                "integration-name": "Tencent Cloud TRTC",
                "python-modules": [
                    "airflow_provider_rtc.triggers.trtc",
                    "airflow_provider_rtc.triggers.uploads",
                ],
            },
            {"integration-name": "ZEGOCLOUD", "python-modules": ["airflow_provider_rtc.triggers.zego"]},
        ],
        # No "plugins" key: the receiver plugin is registered by the ``airflow.plugins`` entry point
        # (pyproject), the one mechanism every supported Airflow (3.0-3.3) always loads. Provider-info
        # plugins are loaded only with ``[core] lazy_discover_providers = False``, and then on top of
        # the entry point: "Plugin 'rtc_callbacks' already registered, skipping" (plugins_manager).
        "config": _CONFIG,
        "extra-links": [
            "airflow_provider_rtc.links.TencentCloudConsoleLink",
            "airflow_provider_rtc.links.ZegoCloudConsoleLink",
        ],
        "connection-types": [
            {
                "connection-type": "tencentcloud",
                "hook-class-name": "airflow_provider_rtc.hooks.tencentcloud.TencentCloudHook",
                "hook-name": "Tencent Cloud",
                "ui-field-behaviour": {
                    "hidden-fields": ["host", "schema", "port"],
                    "relabeling": {"login": "SecretId", "password": "SecretKey"},
                    "placeholders": {"login": "AKID...", "password": "your SecretKey"},
                },
                "conn-fields": {
                    **_RATE_LIMIT_FIELDS,
                    "region": _field(
                        "Region", "e.g. ap-guangzhou; required by TRTC APIs", ["string", "null"]
                    ),
                    "sdk_app_id": _field(
                        "SDKAppID", "default TRTC application", ["integer", "null"], minimum=1
                    ),
                    "vod_sub_app_id": _field(
                        "VOD SubAppId",
                        "VOD application; required for VOD accounts opened since 2023-12-25",
                        ["integer", "null"],
                        minimum=1,
                    ),
                    "endpoint": _field(
                        "Endpoint",
                        "base URL replacing https://{service}.tencentcloudapi.com (e.g. the sandbox)",
                        ["string", "null"],
                    ),
                    "intl": _field(
                        "International site", "use {service}.intl.tencentcloudapi.com", ["boolean", "null"]
                    ),
                    "token": _field(
                        "STS token",
                        "session token of temporary credentials",
                        ["string", "null"],
                        format="password",
                    ),
                    **_receiver_fields(
                        "TRTC recording-callback key (signs callbacks and reads of the receiver); "
                        "replaces the older extra 'callback_key'"
                    ),
                },
            },
            {
                "connection-type": "zegocloud",
                "hook-class-name": "airflow_provider_rtc.hooks.zego.ZegoCloudHook",
                "hook-name": "ZEGOCLOUD",
                "ui-field-behaviour": {
                    "hidden-fields": ["host", "schema", "port"],
                    "relabeling": {"login": "AppId", "password": "ServerSecret"},
                    "placeholders": {"login": "1234567890", "password": "32 hex characters"},
                },
                "conn-fields": {
                    **_RATE_LIMIT_FIELDS,
                    "endpoint": _field(
                        "Endpoint",
                        "base URL replacing https://rtc-api.zego.im and https://cloudrecord-api.zego.im",
                        ["string", "null"],
                    ),
                    "is_test": _field(
                        "Test environment",
                        "send IsTest=true (projects created before 2021-11-16)",
                        ["boolean", "null"],
                    ),
                    **_receiver_fields(
                        "the project's CallbackSecret (signs ZEGO callbacks and reads of the receiver)"
                    ),
                },
            },
        ],
    }
