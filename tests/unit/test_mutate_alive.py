"""`tools/mutate.py --not-killed`: which mutants a run after new tests, a timeout or an interruption runs."""

from __future__ import annotations

from tools import mutate

RESULTS = """\
    airflow_provider_rtc.errors.x__rebuild__mutmut_1: killed
    airflow_provider_rtc.errors.x__rebuild__mutmut_2: survived
    airflow_provider_rtc.errors.x__rebuild__mutmut_3: timeout
    airflow_provider_rtc.errors.x__rebuild__mutmut_4: caught by type check
    airflow_provider_rtc.errors.x__rebuild__mutmut_5: not checked
    airflow_provider_rtc.errors.x__rebuild__mutmut_6: survived
    airflow_provider_rtc.protocol.http.x_unreadable__mutmut_1: no tests
    airflow_provider_rtc.protocol.http.x_unreadable__mutmut_2: suspicious
"""


def test_not_killed_are_the_unkilled_non_equivalent_mutants_of_the_globs() -> None:
    statuses = mutate.parse_results(RESULTS)
    equivalent = {"airflow_provider_rtc.errors.x__rebuild__mutmut_6": "no effect"}
    assert mutate.not_killed(statuses, equivalent, []) == [
        "airflow_provider_rtc.errors.x__rebuild__mutmut_2",
        "airflow_provider_rtc.errors.x__rebuild__mutmut_3",
        "airflow_provider_rtc.errors.x__rebuild__mutmut_5",
        "airflow_provider_rtc.protocol.http.x_unreadable__mutmut_1",
        "airflow_provider_rtc.protocol.http.x_unreadable__mutmut_2",
    ]
    assert mutate.not_killed(statuses, equivalent, ["airflow_provider_rtc.protocol*"]) == [
        "airflow_provider_rtc.protocol.http.x_unreadable__mutmut_1",
        "airflow_provider_rtc.protocol.http.x_unreadable__mutmut_2",
    ]
    assert mutate.not_killed(statuses, equivalent, ["airflow_provider_rtc.retry*"]) == []
