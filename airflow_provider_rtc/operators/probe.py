"""``ProbeCloudAccountOperator``: the account probe (``rtc-provider probe``) as an Airflow task."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow.providers.common.compat.sdk import AirflowException, BaseOperator

from airflow_provider_rtc.exceptions import RtcValidationError
from airflow_provider_rtc.hooks.settings import check_hook_params


class ProbeCloudAccountOperator(BaseOperator):
    """Call each cataloged API once, in a way that cannot change anything, and compare the answers
    with the catalog's assumptions (see the README, "Probe your account").

    :param tencentcloud_conn_id: tencentcloud connection (TRTC, Live, VOD); None = skip them.
    :param zegocloud_conn_id: zegocloud connection; None = skip ZEGO.
    :param clouds: subset of ``trtc``, ``live``, ``vod``, ``zego`` (list or comma-separated text);
        default every cloud with a connection.
    :param include_billed: also call APIs that cost money per call.
    :param live_domain: a Live push domain of the account (enables the per-stream Live probes).
    :param ended_trtc_task: a TRTC recording TaskId known to have ended: one more read-only row
        shows the code an ended task answers (undocumented by Tencent).
    :param fail_on_difference: fail the task when an answer differs from the catalog (default;
        templated).
    :param fail_on_error: fail the task when a call could not tell (auth, throttle, network).
    :returns: the table's rows, one dict per API (XCom).
    """

    template_fields: Sequence[str] = (
        "tencentcloud_conn_id",
        "zegocloud_conn_id",
        "clouds",
        "include_billed",
        "live_domain",
        "ended_trtc_task",
        "fail_on_difference",
    )
    ui_color = "#f4efe1"

    def __init__(
        self,
        *,
        tencentcloud_conn_id: str | None = "tencentcloud_default",
        zegocloud_conn_id: str | None = None,
        clouds: Sequence[str] | str | None = None,
        include_billed: bool | str = False,
        live_domain: str | None = None,
        ended_trtc_task: str | None = None,
        fail_on_difference: bool | str = True,
        fail_on_error: bool = True,
        hook_params: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.tencentcloud_conn_id = tencentcloud_conn_id
        self.zegocloud_conn_id = zegocloud_conn_id
        self.clouds = clouds
        self.include_billed = include_billed
        self.live_domain = live_domain
        self.ended_trtc_task = ended_trtc_task
        self.fail_on_difference = fail_on_difference
        self.fail_on_error = fail_on_error
        self.hook_params = check_hook_params(hook_params)

    def execute(self, context: Any) -> list[dict[str, str]]:
        from airflow_provider_rtc import validation as v
        from airflow_provider_rtc.probe import DIFFERS, ERROR, ProbeConfigError, run_probe
        from airflow_provider_rtc.probe.table import render_table

        include_billed = bool(v.boolean(self.include_billed, "include_billed"))
        fail_on_difference = v.boolean(self.fail_on_difference, "fail_on_difference") is not False
        try:
            result = run_probe(
                tencentcloud_conn_id=self.tencentcloud_conn_id or None,
                zegocloud_conn_id=self.zegocloud_conn_id or None,
                clouds=self.clouds,
                include_billed=include_billed,
                live_domain=self.live_domain or None,
                ended_trtc_task=self.ended_trtc_task or None,
                hook_params=self.hook_params,
            )
        except ProbeConfigError as err:
            raise RtcValidationError("connections", str(err)) from None
        self.log.info("Account probe:\n%s\n%s", render_table(result.rows), result.summary())
        rows = [r.as_dict() for r in result.rows]
        if fail_on_difference and result.count(DIFFERS):
            names = [r.api for r in result.rows if r.verdict == DIFFERS]
            raise AirflowException(f"the account differs from the catalog for: {', '.join(names)}")
        if self.fail_on_error and result.count(ERROR):
            names = [r.api for r in result.rows if r.verdict == ERROR]
            raise AirflowException(f"the probe could not tell for: {', '.join(names)} (see the table)")
        return rows
