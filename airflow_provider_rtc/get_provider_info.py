"""Provider metadata read by Airflow's ProvidersManager (entry point ``apache_airflow_provider``).

The connection forms (``conn-fields``/``ui-field-behaviour``) are declared once in
:mod:`airflow_provider_rtc.hooks.forms`: Airflow >= 3.2 reads them here without importing the hooks,
3.0 and 3.1 through the hooks' legacy methods built from the same declaration.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_rtc.hooks.forms import BACKEND_HELP as _BACKEND_HELP
from airflow_provider_rtc.hooks.forms import CONNECTION_TYPES
from airflow_provider_rtc.plugins.options import SECTION as _CALLBACKS_SECTION
from airflow_provider_rtc.plugins.options import SECTION_SPEC as _CALLBACKS_SPEC

_TENCENT_DOC = "https://www.tencentcloud.com/document/product/647"
_LIVE_DOC = "https://www.tencentcloud.com/document/product/267"
_ZEGO_DOC = "https://www.zegocloud.com/docs/real-time-video-server/api-reference/server-apis"


#: ``[rtc]`` options (connection extras of the same names win); ``[rtc_callbacks]``: the plugin's
_CONFIG = {
    _CALLBACKS_SECTION: _CALLBACKS_SPEC,
    "rtc": {
        "description": "airflow-provider-rtc: how the client-side rate limits are shared between workers, "
        "and where the audit trail of destructive calls is written.",
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
            "audit_path": {
                "description": "Base URL (an ObjectStoragePath: file://, s3://, gs://...) of the audit "
                "trail: one jsonl file per task try, <base>/<dag_id>/<run_id>/<task_id>.<map_index>."
                "<try_number>.jsonl, a line per destructive call. Empty: no audit trail. An operator's "
                "audit_path argument wins.",
                "version_added": "0.1.0",
                "type": "string",
                "example": "s3://my-bucket/rtc-audit",
                "default": "file://{AIRFLOW_HOME}/rtc/audit",
            },
            "audit_format": {
                "description": "Format of the audit trail's files: jsonl (one JSON object per line) or "
                "parquet (typed columns, ref a struct; needs the parquet extra: pyarrow).",
                "version_added": "0.1.0",
                "type": "string",
                "example": "parquet",
                "default": "jsonl",
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
                    "airflow_provider_rtc.operators.budgets",
                    "airflow_provider_rtc.operators.storage",
                    "airflow_provider_rtc.operators.event",
                    # operators.probe spans all three clouds too (the account probe)
                    "airflow_provider_rtc.operators.probe",
                    # operators.guardrails too (cost caps)
                    "airflow_provider_rtc.operators.guardrails",
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
        "notifications": ["airflow_provider_rtc.notifications.LogNotifier"],
        "config": _CONFIG,
        "extra-links": [
            "airflow_provider_rtc.links.TencentCloudConsoleLink",
            "airflow_provider_rtc.links.ZegoCloudConsoleLink",
        ],
        "connection-types": CONNECTION_TYPES,
    }
