"""`make release-check`: wired into CI, and its artifact check finds a missing LICENSE or NOTICE."""

from __future__ import annotations

import io
import tarfile
import zipfile
from pathlib import Path

from tools import release_check

ROOT = Path(__file__).resolve().parents[2]


def _wheel(path: Path, names: list[str]) -> Path:
    with zipfile.ZipFile(path, "w") as wheel:
        wheel.writestr("airflow_provider_rtc/__init__.py", "")
        for name in names:
            wheel.writestr(f"airflow_provider_rtc-0.1.0.dist-info/licenses/{name}", "text")
    return path


def _sdist(path: Path, names: list[str]) -> Path:
    with tarfile.open(path, "w:gz") as sdist:
        for name in [*names, "airflow_provider_rtc/LICENSE"]:  # a nested one does not count
            data = b"text"
            info = tarfile.TarInfo(f"airflow_provider_rtc-0.1.0/{name}")
            info.size = len(data)
            sdist.addfile(info, io.BytesIO(data))
    return path


def test_legal_files_found_or_named_missing(tmp_path: Path) -> None:
    assert release_check.legal_files_in(_wheel(tmp_path / "a.whl", ["LICENSE", "NOTICE"])) == []
    assert release_check.legal_files_in(_wheel(tmp_path / "b.whl", ["LICENSE"])) == ["NOTICE"]
    assert release_check.legal_files_in(_sdist(tmp_path / "c.tar.gz", ["LICENSE", "NOTICE"])) == []
    assert release_check.legal_files_in(_sdist(tmp_path / "d.tar.gz", ["NOTICE"])) == ["LICENSE"]


def test_the_version_checked_is_the_package_version() -> None:
    import airflow_provider_rtc

    assert release_check.source_version() == airflow_provider_rtc.__version__


def test_ci_runs_the_release_check_after_the_unit_suite() -> None:
    steps = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert steps.index("make release-check") > steps.index("make test-all")  # every test, slow too
    makefile = (ROOT / "Makefile").read_text()
    assert "release-check: $(STAMP)\n\t$(BIN)/python tools/release_check.py" in makefile
