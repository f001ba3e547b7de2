"""`make mutate`'s scorer (tools/mutate.py): what counts as killed, what is left out, the threshold."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools import mutate

RESULTS = """\
    airflow_provider_rtc.retry.x_delay__mutmut_1: killed
    airflow_provider_rtc.retry.x_delay__mutmut_2: survived
    airflow_provider_rtc.retry.x_delay__mutmut_3: timeout
    airflow_provider_rtc.retry.xǁPolicyǁnext__mutmut_1: no tests
    airflow_provider_rtc.signing.tc3.x_sign__mutmut_1: killed
    airflow_provider_rtc.signing.tc3.x_sign__mutmut_2: survived
    airflow_provider_rtc.signing.tc3.x_sign__mutmut_3: not checked
"""


def test_results_lines_are_read_per_mutant_and_module() -> None:
    statuses = mutate.parse_results(RESULTS + "some other line\n")
    assert len(statuses) == 7
    assert statuses["airflow_provider_rtc.retry.xǁPolicyǁnext__mutmut_1"] == "no tests"
    assert (
        mutate.module_of("airflow_provider_rtc.retry.xǁPolicyǁnext__mutmut_1") == "airflow_provider_rtc.retry"
    )


def test_the_score_leaves_out_equivalents_and_unrun_and_counts_timeouts_as_alive() -> None:
    statuses = mutate.parse_results(RESULTS)
    equivalent = {"airflow_provider_rtc.signing.tc3.x_sign__mutmut_2": "no effect"}
    lines, scored, overall = mutate.score(statuses, equivalent)
    # retry: killed 1 of 4 (a timeout may be tests that merely ran long); tc3: 1 of 1 (one
    # equivalent, one not run)
    assert scored and overall == pytest.approx(100 * 2 / 5)
    table = "\n".join(lines)
    assert "airflow_provider_rtc.retry" in table and " 25.0%" in table and "100.0%" in table
    assert "timeout    airflow_provider_rtc.retry.x_delay__mutmut_3" in table
    assert "survived   airflow_provider_rtc.retry.x_delay__mutmut_2" in table
    assert "x_sign__mutmut_2" not in table  # equivalent: neither scored nor listed alive


def test_nothing_run_is_nothing_scored() -> None:
    assert mutate.score({"a.b.x_f__mutmut_1": "not checked"}, {})[1:] == (False, 0.0)


def test_equivalents_file_keeps_the_reason(tmp_path: Path) -> None:
    path = tmp_path / "eq.txt"
    path.write_text("# comment\n\na.b.x_f__mutmut_1  # why it cannot be seen\n")
    assert mutate.equivalents(path) == {"a.b.x_f__mutmut_1": "why it cannot be seen"}


def test_every_listed_equivalent_says_why() -> None:
    listed = mutate.equivalents()
    assert listed and all(why for why in listed.values()), listed
