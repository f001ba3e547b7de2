"""Cost caps: a policy of how long each kind of live resource may run, and the classification of a
discovered inventory against it (warn, end, unproven). The operator is
:class:`~airflow_provider_rtc.operators.guardrails.EnforceCapsOperator`."""
