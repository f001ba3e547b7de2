"""tools/mutate.py's ``--tests``: a run judged by the focused tests only, without losing other verdicts."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("mutate_tool", ROOT / "tools" / "mutate.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_missing_test_path_is_refused_before_mutmut_runs(capsys: pytest.CaptureFixture[str]) -> None:
    tool = _tool()
    assert tool.main(["--tests", "tests/mutation/no_such_file.py", "--", "x.y.*"]) == 2
    assert "no such test path: tests/mutation/no_such_file.py" in capsys.readouterr().err


def test_the_selection_is_swapped_and_the_fingerprint_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("mutmut")
    from mutmut import __main__ as mutmut_main
    from mutmut import configuration

    tool = _tool()
    monkeypatch.chdir(ROOT)
    monkeypatch.setattr(configuration, "_load_config", configuration._load_config)
    pyproject = configuration._load_config()
    monkeypatch.setattr(configuration, "_config", pyproject)  # mutmut loads it at import
    seen: list[list[str]] = []
    monkeypatch.setattr(mutmut_main, "cli", seen.append)
    monkeypatch.setattr(sys, "argv", ["-c", "run", "--max-children", "1", "a.b.*"])
    monkeypatch.setenv(tool.TESTS_ENV, os.pathsep.join(["tests/unit/test_validation.py", "tests/mutation"]))

    tool.mutmut_with_selection()

    assert seen == [["run", "--max-children", "1", "a.b.*"]]
    selected = configuration.config()
    assert selected.pytest_add_cli_args_test_selection == ["tests/unit/test_validation.py", "tests/mutation"]
    assert pyproject.pytest_add_cli_args_test_selection != selected.pytest_add_cli_args_test_selection
    # the cached verdicts of the other modules survive: mutmut sees pyproject's selection hash
    assert selected.config_fingerprint() == pyproject.config_fingerprint()
