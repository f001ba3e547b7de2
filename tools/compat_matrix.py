"""The Airflow compatibility stage (``make compat``): every Airflow minor the package declares.

For each minor, a venv of its own (``.venv-compat/<version>``, reused while the inputs are the same),
made and filled by **uv** (``uv venv``, ``uv pip install``: a resolver and installer 10-50x faster than
pip, one download cache shared by every minor and every later run on the machine):

1. ``apache-airflow==X.Y.Z`` installed as its users install it: with the dependency versions of its
   release day. Airflow's constraints files (``constraints-X.Y.Z`` branches on GitHub) are what the
   Airflow docs prescribe, but only the package registries are reachable here, so the same effect
   comes from ``uv pip install --exclude-newer <release day + 1>`` against PyPI (pip's
   ``--uploaded-prior-to``; uv reads no pip config, so the machine's local wheel folders, which carry
   no upload dates, are left out). Without it 3.0.6 cannot read a connection (cryptography 46+ broke
   its Fernet) nor start a task in ``dag.test()`` (newer FastAPI/pydantic answer 422), which its
   constraints never allowed.
2. This provider and the sandbox (editable) and the ``compat`` dependency group, with
   ``apache-airflow==X.Y.Z`` pinned so nothing moves Airflow.
3. The checks: registration and connection forms (``-m compat``) and ``dag.test()`` of every
   example DAG against the sandbox (``-m example_dag``), the same tests ``make test`` runs on the
   current version.

The minors install side by side (network-bound) and their checks run ``COMPAT_JOBS`` at a time
(default 2, one per core: each check is one pytest run with its own AIRFLOW_HOME and sandboxes on
free ports, so they share nothing), each on ``COMPAT_WORKERS`` pytest-xdist workers (default 2: the
example DAGs' runs mostly wait on the sandbox's pacing and idle thresholds, so one process per check
kept the cores half busy; the longest tests go first, see tests/conftest.py). Prints one table row per
version; exits 1 if any check failed.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import cast

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


def _uv_env() -> dict[str, str]:
    """PyPI only, never a downloaded Python; the system CA bundle, as pip used it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env.pop("VIRTUAL_ENV", None)
    env.setdefault("UV_PYTHON_DOWNLOADS", "never")
    env.setdefault("UV_HTTP_TIMEOUT", "180")
    env.setdefault("UV_NO_PROGRESS", "1")
    if Path("/etc/ssl/certs/ca-certificates.crt").exists():
        env.setdefault("SSL_CERT_FILE", "/etc/ssl/certs/ca-certificates.crt")
    return env


def uv_command(log: Path) -> list[str]:
    """How to run uv: the one in this venv (the ``dev`` group has it), else one bootstrapped with pip
    into ``.venv-compat/uv`` (a venv made before the group listed it)."""
    try:
        import uv  # type: ignore[import-not-found]

        return [uv.find_uv_bin()]
    except (ImportError, FileNotFoundError):
        pass
    tool = CACHE / "uv"
    binary = tool / "bin" / "uv"
    if not binary.exists():
        _run([sys.executable, "-m", "venv", "--clear", str(tool)], log=log)
        _run([str(tool / "bin" / "python"), "-m", "pip", "install", "-q", "uv>=0.5"], log=log)
    return [str(binary)]


def _run(argv: list[str], *, env: dict[str, str] | None = None, log: Path) -> int:
    with log.open("a") as out:
        out.write(f"\n$ {' '.join(argv)}\n")
        out.flush()
        return subprocess.run(argv, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT).returncode


def _stamp() -> str:
    return hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()[:16]


def install(version: str, cutoff: str, uv: list[str], log: Path) -> tuple[Path | None, float]:
    """The venv with Airflow ``version`` and this provider, or None if the install failed."""
    venv = CACHE / version
    python = venv / "bin" / "python"
    stamp = venv / f".installed-{_stamp()}"
    started = time.monotonic()
    if stamp.exists():
        return python, 0.0
    env = _uv_env()
    pip = [*uv, "pip", "install", "--python", str(python)]
    airflow = f"apache-airflow=={version}"
    steps = [
        [*uv, "venv", "--clear", "--python", sys.executable, str(venv)],
        [*pip, "--exclude-newer", cutoff, airflow],
        # no cut-off: what step 1 installed stays unless the provider needs more (as pip does)
        [*pip, airflow, "-e", ".", "-e", "./rtc-sandbox", "--group", "compat"],
    ]
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
    workers = int(os.environ.get("COMPAT_WORKERS", "2"))
    if workers > 1:
        argv += ["-n", str(workers), "--maxschedchunk", "1"]
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


def slowest(report: Path, n: int = 3) -> str:
    """The ``n`` longest tests of one check, from its JUnit report: where a minor's time goes (the
    end-of-event cleanup DAG's ~64 task instances in dag.test() are about a third of it)."""
    import xml.etree.ElementTree as ET

    if not report.exists():
        return ""
    cases = [
        (float(case.get("time") or 0), str(case.get("name")))
        for case in ET.parse(report).iter("testcase")  # noqa: S314 (pytest's own report)
    ]
    return ", ".join(f"{name[:48]} {took:.0f}s" for took, name in sorted(cases, reverse=True)[:n])


def run_minor(minor: str, uv: list[str], checks: threading.Semaphore) -> dict[str, object]:
    """Install one minor (unless current), then its checks once a check slot is free."""
    log = CACHE / f"log-{minor}.txt"
    log.write_text("")
    if minor == CURRENT:
        python, seconds, version = ROOT / ".venv" / "bin" / "python", 0.0, "current venv"
    else:
        version, cutoff = VERSIONS[minor]
        print(f"==> Airflow {version}: installing (dependencies as of {cutoff[:10]})", flush=True)
        python_or_none, seconds = install(version, cutoff, uv, log)
        if python_or_none is None:
            return {"minor": minor, "version": version, "install": "FAILED", "log": str(log)}
        python = python_or_none
    with checks:
        print(f"==> Airflow {minor}: registration, forms, example DAGs", flush=True)
        started = time.monotonic()
        tally = check(python, minor, log)
        took = time.monotonic() - started
    row: dict[str, object] = {"minor": minor, "version": version, "install": f"{seconds:.0f}s"}
    longest = slowest(log.with_suffix(".xml"))
    return {**row, "checks": f"{took:.0f}s", **tally, "log": str(log), "slowest": longest}


def install_only(wanted: list[str]) -> int:
    """``--install-only``: the venvs, no checks (.ci/run makes them while the test suite runs: the
    installs wait on the network, the tests on the CPU)."""
    CACHE.mkdir(exist_ok=True)
    uv = uv_command(CACHE / "log-uv.txt")
    failed = 0
    for minor in [m for m in wanted if m in VERSIONS]:
        version, cutoff = VERSIONS[minor]
        log = CACHE / f"log-install-{minor}.txt"
        log.write_text("")
        python, seconds = install(version, cutoff, uv, log)
        outcome = "installed" if python else "install FAILED"
        print(f"==> Airflow {version}: {outcome} in {seconds:.0f}s", flush=True)
        failed += python is None
    return 1 if failed else 0


def main(argv: list[str]) -> int:
    if argv[:1] == ["--install-only"]:
        return install_only(argv[1:] or list(VERSIONS))
    wanted = argv or [*VERSIONS, CURRENT]
    unknown = [m for m in wanted if m != CURRENT and m not in VERSIONS]
    if unknown:
        known = ", ".join([*VERSIONS, CURRENT])
        print(f"unknown Airflow minor {unknown[0]!r}; known: {known}", file=sys.stderr)
        return 2
    CACHE.mkdir(exist_ok=True)
    started = time.monotonic()
    uv = uv_command(CACHE / "log-uv.txt")
    jobs = max(1, int(os.environ.get("COMPAT_JOBS", "2")))
    checks = threading.Semaphore(jobs)
    with ThreadPoolExecutor(max_workers=len(wanted)) as pool:
        rows = list(pool.map(lambda minor: run_minor(minor, uv, checks), wanted))
    failed = _print(rows)
    print(f"compatibility stage: {time.monotonic() - started:.0f}s ({jobs} check(s) at a time)")
    return 1 if failed else 0


def _print(rows: list[dict[str, object]]) -> bool:
    head = f"{'Airflow':<8} {'version':<13} {'install':>8} {'checks':>7}"
    print(f"\n{head} {'registration+forms':>19} {'example DAGs':>22}")
    failed = False
    for row in rows:
        cells = []
        for key in ("compat", "example_dag"):
            passed, total = cast("tuple[int, int]", row.get(key, (0, -1)))
            ok = total > 0 and passed == total
            failed |= not ok
            cells.append(f"{passed}/{total} {'ok' if ok else 'FAIL'}" if total >= 0 else "not run")
        xfail = cast("tuple[int, int]", row.get("xfail", (0, 0)))[0]
        if xfail:
            cells[-1] += f" ({xfail} xfail)"
        failed |= row["install"] == "FAILED"
        took = row.get("checks", "-")
        lead = f"{row['minor']:<8} {row['version']!s:<13} {row['install']!s:>8} {took!s:>7}"
        print(f"{lead} {cells[0]:>19} {cells[1]:>22}")
        if row.get("slowest"):
            print(f"{'':<8} slowest: {row['slowest']}")
    if failed:
        print("\ncompatibility stage FAILED; logs:", json.dumps([r["log"] for r in rows]))
    else:
        print("\ncompatibility stage PASSED")
    return failed


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
