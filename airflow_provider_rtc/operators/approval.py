"""A person approves a large destructive plan before it runs (issue 23, item 3).

``PlanApprovalOperator`` takes a dry run's report - :class:`~.event.EndEventOperator`'s
(``{"dry_run": true, "plan": {...}, "inventory": {...}}``) or a caps report
(``{"ended": [item], ...}``, the shared contract of ``EnforceCapsOperator``) - and counts the
resources its destructive calls name (a target's ``refs``; users and streams of a room the plan
closes go with that room's call and are not counted again). At or under ``threshold`` it approves
without a person and logs why; above it, it asks through Airflow's human-in-the-loop
:class:`ApprovalOperator` (standard provider, Airflow >= 3.1), with the plan table as the Markdown
body. "Reject" (or no answer before
``response_timeout``) skips everything downstream.

On Airflow 3.0 (no HITL) a plan above the threshold **fails** the task (``AirflowFailException``,
no retry): a skip would leave a green run that ended nothing while the event stays live, and a
destructive run must never proceed unapproved, so the loud state is the safe one.

Subclass rather than compose: the HITL machinery (detail row, ``awaiting_input`` park on 3.3,
trigger on 3.1/3.2, ``execute_complete`` resume, skip on reject) keys on the task itself, so
composing would mean re-implementing it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from airflow.providers.common.compat.sdk import AirflowFailException, BaseOperator

from airflow_provider_rtc.exceptions import RtcValidationError
from airflow_provider_rtc.validation import integer, positive_int, rendered_literal, switch

try:  # Airflow >= 3.1 with the standard provider; the module itself raises on 3.0
    from airflow.providers.standard.operators.hitl import ApprovalOperator as _Base

    HAS_HITL = True
except Exception:  # ImportError, AirflowOptionalProviderFeatureException
    _Base = BaseOperator  # type: ignore[assignment,misc]
    HAS_HITL = False
try:  # 3.3+: the request parks the task in awaiting_input (no trigger); 3.1/3.2 defer to one
    from airflow.sdk.exceptions import TaskAwaitingInput  # noqa: F401

    AIRFLOW_PARKS_TASKS = HAS_HITL
except ImportError:
    AIRFLOW_PARKS_TASKS = False

#: resources a plan may end without a person (the example DAG's default)
DEFAULT_THRESHOLD = 50
#: how long the request waits for a person. Under EndEventOperator's default max_inventory_age
#: (3600 s from discovery): an approval that comes later would hand over a plan the ending task
#: refuses as stale (rooms are reused), so asking longer would only make people approve in vain.
DEFAULT_RESPONSE_TIMEOUT = timedelta(minutes=45)
#: target labels listed one by one in the request's body (every target is in the XCom)
DEFAULT_LABELS = 20
MAX_PLAN_TEXT = 32 << 20
MAX_PLAN_DEPTH = 12
REJECT = "Reject"


class PlanApprovalOperator(_Base):  # type: ignore[misc,valid-type]
    """Approve a dry run's plan: by itself at or under ``threshold`` resources, else by a person.

    :param plan: a dry run's report (templated): EndEventOperator's with ``dry_run=True`` (e.g.
        ``plan_task.output``) or a caps report (``{"ended": [...]}``); a dict, its JSON or repr.
    :param threshold: resources (rooms, users, streams, mixes, recordings) the plan may end without
        a person; an integer >= 0 (templated, e.g. ``"{{ params.approval_threshold }}"``).
    :param dry_run: the run this gates is itself a dry run (nothing destructive follows): approve
        without asking; ``True``/``False`` or ``"true"``/``"false"`` only (templated).
    :param labels: target labels listed in the request (the first N).
    :param subject: the request's headline (templated).
    :param response_timeout: how long to wait for a person (default 45 min, inside the plan's
        1 h freshness); no answer counts as "Reject".
    :return: the plan report, with ``approval``: ``{"approved", "by" ("threshold", "dry_run" or
        "person"), "targets", "threshold", "responded_by"}``; EndEventOperator takes it as its
        ``inventory`` and ends exactly the approved plan. Rejected, the return holds no inventory,
        so even a downstream task that ran anyway could end nothing from it.
    """

    template_fields: Sequence[str] = ("plan", "threshold", "dry_run_mode", "subject", "body")
    ui_color = "#fde9c8"

    def __init__(
        self,
        *,
        plan: dict[str, Any] | str | Any,
        threshold: int | str = DEFAULT_THRESHOLD,
        dry_run: bool | str = False,
        labels: int = DEFAULT_LABELS,
        subject: str = "Approve ending these live RTC resources?",
        response_timeout: timedelta | None = DEFAULT_RESPONSE_TIMEOUT,
        ignore_downstream_trigger_rules: bool = True,
        **kwargs: Any,
    ) -> None:
        if not isinstance(threshold, str):  # a template is checked once rendered
            integer(threshold, "threshold", minimum=0)
        if response_timeout is not None and (
            not isinstance(response_timeout, timedelta) or response_timeout <= timedelta(0)
        ):
            raise RtcValidationError("response_timeout", "a positive timedelta or None", response_timeout)
        self.labels = positive_int(labels, "labels", maximum=1000)
        if HAS_HITL:
            # "Reject" is the default an unanswered request takes at response_timeout: silence
            # never approves a destructive plan. Downstream is skipped whatever its trigger rule.
            super().__init__(
                subject=subject,
                defaults=REJECT,
                ignore_downstream_trigger_rules=ignore_downstream_trigger_rules,
                **_timeout_kwargs(response_timeout, kwargs),
            )
        else:
            super().__init__(**kwargs)
            self.subject = subject
            self.body: str | None = None
        self.plan = plan
        self.threshold = threshold
        self.dry_run_mode = dry_run

    def _inputs(self) -> tuple[dict[str, Any], int, bool]:
        """Everything validated before anything is asked or approved."""
        threshold = integer(self.threshold, "threshold", minimum=0)
        assert threshold is not None
        return _report(self.plan), threshold, switch(self.dry_run_mode, "dry_run")

    def execute(self, context: Any) -> Any:
        report, threshold, dry_run = self._inputs()
        summary = summarize(report)
        count = summary["resources"]
        self._report = report
        self._count = count
        self._threshold = threshold
        if dry_run:
            self.log.info("approved without a person: the run this gates is a dry run (%d target(s))", count)
            return _approved(report, "dry_run", count, threshold)
        if count <= threshold:
            self.log.info(
                "approved without a person: %d target(s), at or under the threshold of %d", count, threshold
            )
            return _approved(report, "threshold", count, threshold)
        body = render_body(summary, threshold=threshold, labels=self.labels)
        if not HAS_HITL:
            raise AirflowFailException(
                f"{count} target(s) exceed the approval threshold of {threshold}, and this Airflow has "
                "no human-in-the-loop approval (Airflow >= 3.1 with the standard provider): not "
                "ending anything unapproved. Narrow the selection or raise the threshold.\n" + body
            )
        self.body = body
        self.log.info(
            "%d target(s) exceed the threshold of %d: asking a person (Required Actions in the UI, "
            "or the hitlDetails REST endpoint); the plan:\n%s",
            count,
            threshold,
            body,
        )
        return super().execute(context)

    def execute_complete(self, context: Any, event: dict[str, Any]) -> Any:
        report, threshold = self._resume_inputs()
        count = summarize(report)["resources"]
        by = event.get("responded_by_user")
        if "error" not in event and list(event.get("chosen_options") or []) != [self.APPROVE]:
            # said before the base class skips downstream: on Airflow 3 its skip() raises
            # DownstreamTasksSkipped, so nothing after it runs (no log line, no return value)
            self.log.warning(
                "rejected by %s: nothing is ended; the downstream tasks are skipped (%d target(s) stay live)",
                _who(by),
                count,
            )
        answer = super().execute_complete(context=context, event=event)
        if list(answer["chosen_options"]) == [self.APPROVE]:
            self.log.info("approved by %s: ending the %d target(s) of the plan", _who(by), count)
            return _approved(report, "person", count, threshold, responded_by=by)
        # reached where skip() returns (no downstream task): no inventory is handed over
        return {
            "approval": {
                "approved": False,
                "by": "person",
                "targets": count,
                "threshold": threshold,
                "responded_by": by,
            }
        }

    def _resume_inputs(self) -> tuple[dict[str, Any], int]:
        """A resumed task is a fresh instance: read the rendered plan again."""
        report, threshold, _ = self._inputs()
        return report, threshold


def _who(user: Any) -> str:
    if isinstance(user, dict):
        return str(user.get("name") or user.get("id") or "nobody (timeout: Reject)")
    return str(user) if user else "nobody (timeout: Reject)"


def _approved(
    report: dict[str, Any], by: str, count: int, threshold: int, *, responded_by: Any = None
) -> dict[str, Any]:
    approval = {"approved": True, "by": by, "targets": count, "threshold": threshold}
    if responded_by is not None:
        approval["responded_by"] = responded_by
    return {**report, "approval": approval}


def _report(value: Any) -> dict[str, Any]:
    """A dry run's report (EndEventOperator's or a caps report), else RtcValidationError('plan')."""
    rule = "a dry run's report: EndEventOperator(dry_run=True)'s or a caps report ({'ended': [...]})"
    if isinstance(value, str):
        value = rendered_literal(
            value, "plan", rule=rule, opening=("{",), max_chars=MAX_PLAN_TEXT, max_depth=MAX_PLAN_DEPTH
        )
    if not isinstance(value, dict):
        raise RtcValidationError("plan", rule, type(value).__name__)
    if "plan" in value:
        plan = value["plan"]
        if value.get("dry_run") is not True:
            raise RtcValidationError(
                "plan", "the report of a dry run (dry_run=True): this one already ended its targets"
            )
        if not isinstance(plan, dict) or not isinstance(plan.get("targets"), list):
            raise RtcValidationError("plan.plan.targets", "a list of targets (EndEventOperator's plan)")
        return value
    if isinstance(value.get("ended"), list):
        return value
    raise RtcValidationError("plan", rule, sorted(value)[:10])


def _timeout_kwargs(response_timeout: timedelta | None, kwargs: dict[str, Any]) -> dict[str, Any]:
    """``response_timeout`` as the installed HITL operator takes it: the standard provider of
    Airflow 3.1.x names it ``execution_timeout`` (its HITLOperator has no ``response_timeout``; seen
    in ``make compat`` on 3.1.8), later ones ``response_timeout``. An explicit ``execution_timeout``
    of the caller is kept."""
    import inspect

    from airflow.providers.standard.operators.hitl import HITLOperator

    if "response_timeout" in inspect.signature(HITLOperator.__init__).parameters:
        return {**kwargs, "response_timeout": response_timeout}
    if response_timeout is None or "execution_timeout" in kwargs:
        return kwargs
    return {**kwargs, "execution_timeout": response_timeout}


def summarize(report: dict[str, Any]) -> dict[str, Any]:
    """Rows per cloud/kind/action (calls, resources), the labels, the time the rate limits imply."""
    rows: dict[tuple[str, str, str], list[int]] = {}
    labels: list[str] = []
    inner = report.get("result")
    if "ended" in report and isinstance(inner, dict) and isinstance(inner.get("plan"), dict):
        # a caps report carries its dry run's end plan: show the destructive calls it will make
        # (DismissRoom, CloseRoom...), as for an EndEventOperator dry run
        return {**summarize(inner), "discovered_at": report.get("checked_at")}
    if "plan" in report:
        plan = report["plan"]
        for t in plan["targets"]:
            refs = t.get("refs") if isinstance(t, dict) else None
            n = len(refs) if isinstance(refs, list) and refs else 1
            key = (str(t.get("cloud", "?")), str(t.get("kind", "?")), str(t.get("action", "?")))
            row = rows.setdefault(key, [0, 0])
            row[0] += 1
            row[1] += n
            labels.append(str(t.get("label") or key))
        seconds = plan.get("estimated_seconds")
    else:
        for item in report["ended"]:
            ref = item.get("ref") if isinstance(item, dict) else None
            cloud = str(ref.get("cloud", "?")) if isinstance(ref, dict) else "?"
            kind = str(item.get("kind", "?")) if isinstance(item, dict) else "?"
            rule = str(item.get("rule", "cap")) if isinstance(item, dict) else "cap"
            row = rows.setdefault((cloud, kind, f"end ({rule})"), [0, 0])
            row[0] += 1
            row[1] += 1
            labels.append(str(item.get("label") if isinstance(item, dict) else item))
        result = report.get("result")
        inner = result.get("plan") if isinstance(result, dict) else None
        seconds = inner.get("estimated_seconds") if isinstance(inner, dict) else None
    return {
        "rows": sorted((*k, v[0], v[1]) for k, v in rows.items()),
        "resources": sum(v[1] for v in rows.values()),
        "calls": sum(v[0] for v in rows.values()),
        "labels": labels,
        "seconds": seconds if isinstance(seconds, int | float) else None,
        "discovered_at": (report.get("inventory") or {}).get("discovered_at")
        if isinstance(report.get("inventory"), dict)
        else report.get("checked_at"),
    }


def render_body(summary: dict[str, Any], *, threshold: int, labels: int = DEFAULT_LABELS) -> str:
    """The request's Markdown: the counts table, the time at the rate limits, the first labels."""
    lines = [
        f"The plan ends **{summary['resources']}** resource(s) in {summary['calls']} destructive "
        f"call(s), above the approval threshold of {threshold}.",
        "",
        "| cloud | kind | action | calls | resources |",
        "|---|---|---|---:|---:|",
    ]
    lines += [f"| {c} | {k} | {a} | {calls} | {n} |" for c, k, a, calls, n in summary["rows"]]
    seconds = summary["seconds"]
    lines += [
        "",
        f"Time at the documented rate limits: about {seconds:.0f} s."
        if seconds is not None
        else "Time at the documented rate limits: not in this report.",
    ]
    if summary["discovered_at"]:
        lines.append(
            f"Planned from what was live at {summary['discovered_at']}; the ending task re-confirms "
            "each target and refuses the plan once it is older than its max_inventory_age (1 h by default)."
        )
    shown = summary["labels"][:labels]
    lines += ["", f"First {len(shown)} of {len(summary['labels'])} target(s):", ""]
    lines += [f"- `{label}`" for label in shown]
    if len(summary["labels"]) > len(shown):
        lines.append(f"- ... and {len(summary['labels']) - len(shown)} more (all in the plan's XCom)")
    lines += ["", "**Approve** ends exactly these; **Reject** (or no answer) ends nothing."]
    return "\n".join(lines)
