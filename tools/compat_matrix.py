"""The Airflow compatibility stage (``make compat``): every Airflow minor the package declares.

For each minor, a venv of its own (``.venv-compat/<version>``, reused while the inputs are the same):

1. ``apache-airflow==X.Y.Z`` installed as its users install it: with the dependency versions of its
   release day. Airflow's constraints files (``constraints-X.Y.Z`` branches on GitHub) are what the
   Airflow docs prescribe, but only the package registries are reachable here, so the same effect
   comes from ``pip install --uploaded-prior-to <release day + 1>`` against PyPI (without the
   machine's local wheel folders, which carry no upload dates). Without it 3.0.6 cannot read a
   connection (cryptography 46+ broke its Fernet) nor start a task in ``dag.test()`` (newer
   FastAPI/pydantic answer 422), which its constraints never allowed.
2. This provider (editable) and the ``compat`` dependency group, with ``apache-airflow==X.Y.Z``
   pinned so nothing moves Airflow.
3. The checks: registration and connection forms (``-m compat``) and ``dag.test()`` of every
   example DAG against the sandbox (``-m example_dag``), the same tests ``make test`` runs on the
   current version.

Prints one table row per version; exits 1 if any check failed.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".venv-compat"

#: minor -> (the newest patch release, its upload day on PyPI + 1 day: the dependency cut-off).
#: Upload times from https://pypi.org/simple/apache-airflow/ (PEP 700 ``upload-time``).
VERSIONS: dict[str, tuple[str, str]] = {
    "3.0": ("3.0.6", "2025-08-30T00:00:00Z"),  # uploaded 2025-08-29T15:56Z
    "3.1": ("3.1.8", "2026-03-12T00:00:00Z"),  # uploaded 2026-03-11T19:27Z
    "3.2": ("3.2.2", "2026-05-30T00:00:00Z"),  # uploaded 2026-05-29T05:19Z
}
#: the current minor runs in the project's own venv (``make test`` runs every test on it)
CURRENT = "3.3"
MARKERS = "example_dag or compat"


def _pip_env() -> dict[str, str]:
    """PyPI only: the machine's pip config may add local wheel folders, which have no upload dates."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_") or k == "PIP_CERT"}
    env["PIP_CONFIG_FILE"] = os.devnull
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env["PIP_DEFAULT_TIMEOUT"] = "180"
    return env


def _run(argv: list[str], *, env: dict[str, str] | None = None, log: Path) -> int:
    with log.open("a") as out:
        out.write(f"\n$ {' '.join(argv)}\n")
        out.flush()
        return subprocess.run(argv, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT).returncode


def _stamp() -> str:
    return hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()[:16]


def install(version: str, cutoff: str, log: Path) -> tuple[Path | None, float]:
    """The venv with Airflow ``version`` and this provider, or None if the install failed."""
    venv = CACHE / version
    python = venv / "bin" / "python"
    stamp = venv / f".installed-{_stamp()}"
    started = time.monotonic()
    if stamp.exists():
        return python, 0.0
    env = _pip_env()
    pip = [str(python), "-m", "pip", "install", "-q"]
    airflow = f"apache-airflow=={version}"
    steps = [
        [sys.executable, "-m", "venv", "--clear", str(venv)],
        [*pip, "pip>=26"],  # --uploaded-prior-to needs pip >= 26
        [*pip, "--uploaded-prior-to", cutoff, airflow],
        [*pip, airflow, "-e", ".", "--group", "compat"],
    ]
    sandbox = ROOT / "rtc-sandbox"
    if (sandbox / "pyproject.toml").exists():  # the sandbox as its own distribution
        steps.append([str(python), "-m", "pip", "install", "-q", "-e", str(sandbox)])
    for argv in steps:
        if _run(argv, env=env, log=log) != 0:
            return None, time.monotonic() - started
    stamp.touch()
    return python, time.monotonic() - started


def test_files() -> list[str]:
    """The test files holding compat or example_dag tests (the others need the full dev group)."""
    pattern = re.compile(r"pytest\.mark\.(example_dag|compat)\b")
    return sorted(
        str(p.relative_to(ROOT)) for p in (ROOT / "tests").rglob("test_*.py") if pattern.search(p.read_text())
    )


def check(python: Path, version: str, log: Path) -> dict[str, tuple[int, int]]:
    """Per marker: (passed, total), from a JUnit report of one pytest run."""
    report = log.with_suffix(".xml")
    home = CACHE / f"airflow-home-{version}"
    env = {**os.environ, "AIRFLOW_HOME": str(home)}
    env.pop("VIRTUAL_ENV", None)
    argv = [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", MARKERS]
    argv.append(f"--junitxml={report}")
    _run([*argv, *test_files()], env=env, log=log)
    return _tally(report)


def _tally(report: Path) -> dict[str, tuple[int, int]]:
    import xml.etree.ElementTree as ET

    counts = {"compat": [0, 0], "example_dag": [0, 0]}
    expected = 0
    if not report.exists():
        return {k: (0, -1) for k in counts}
    for case in ET.parse(report).iter("testcase"):  # noqa: S314 (pytest's own report, written just now)
        kind = "compat" if "compat" in case.get("classname", "") else "example_dag"
        counts[kind][1] += 1
        children = list(case)
        if any(c.tag == "skipped" and c.get("type") == "pytest.xfail" for c in children):
            expected += 1  # a documented limit of that Airflow version (strict: a pass would fail)
            counts[kind][0] += 1
        elif not any(c.tag in ("failure", "error", "skipped") for c in children):
            counts[kind][0] += 1
    tally: dict[str, tuple[int, int]] = {k: (v[0], v[1]) for k, v in counts.items()}
    tally["xfail"] = (expected, expected)
    return tally


def main(argv: list[str]) -> int:
    wanted = argv or [*VERSIONS, CURRENT]
    CACHE.mkdir(exist_ok=True)
    rows: list[dict[str, object]] = []
    for minor in wanted:
        log = CACHE / f"log-{minor}.txt"
        log.write_text("")
        if minor == CURRENT:
            python, seconds, version = ROOT / ".venv" / "bin" / "python", 0.0, "current venv"
        elif minor in VERSIONS:
            version, cutoff = VERSIONS[minor]
            print(f"==> Airflow {version}: installing (dependencies as of {cutoff[:10]})", flush=True)
            python_or_none, seconds = install(version, cutoff, log)
            if python_or_none is None:
                rows.append({"minor": minor, "version": version, "install": "FAILED", "log": str(log)})
                continue
            python = python_or_none
        else:
            known = ", ".join([*VERSIONS, CURRENT])
            print(f"unknown Airflow minor {minor!r}; known: {known}", file=sys.stderr)
            return 2
        print(f"==> Airflow {minor}: registration, forms, example DAGs", flush=True)
        tally = check(python, minor, log)
        row: dict[str, object] = {"minor": minor, "version": version, "install": f"{seconds:.0f}s"}
        rows.append({**row, **tally, "log": str(log)})
    failed = _print(rows)
    return 1 if failed else 0


def _print(rows: list[dict[str, object]]) -> bool:
    print(f"\n{'Airflow':<8} {'version':<13} {'install':>8} {'registration+forms':>19} {'example DAGs':>22}")
    failed = False
    for row in rows:
        cells = []
        for key in ("compat", "example_dag"):
            passed, total = row.get(key, (0, -1))  # type: ignore[misc]
            ok = total > 0 and passed == total
            failed |= not ok
            cells.append(f"{passed}/{total} {'ok' if ok else 'FAIL'}" if total >= 0 else "not run")
        xfail = row.get("xfail", (0, 0))[0]  # type: ignore[index]
        if xfail:
            cells[-1] += f" ({xfail} xfail)"
        failed |= row["install"] == "FAILED"
        print(f"{row['minor']:<8} {row['version']!s:<13} {row['install']!s:>8} {cells[0]:>19} {cells[1]:>22}")
    if failed:
        print("\ncompatibility stage FAILED; logs:", json.dumps([r["log"] for r in rows]))
    else:
        print("\ncompatibility stage PASSED")
    return failed


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
