"""`make release-check`: what a user installing the release gets, checked before it is published.

1. ``python -m build``: the sdist and the wheel (the wheel built from the sdist) into ``dist/``;
2. ``twine check --strict``: their metadata (README as the PyPI description) renders;
3. LICENSE and NOTICE are inside both;
4. the wheel ALONE installed into a fresh venv (its dependencies, Airflow among them, from the
   package index; pip's cache is reused, so a second run takes seconds), then
5. ``airflow providers list`` there, in a temporary AIRFLOW_HOME and outside the checkout (so
   nothing is imported from the source tree), shows the provider with its version;
6. the sandbox, its own distribution (``rtc-sandbox/``): built, checked and its wheel installed
   alone into a second fresh venv, where ``import rtc_sandbox.app`` loads no Airflow module and the
   ``rtc-sandbox`` command answers ``--help`` (the provider's wheel carries no sandbox: step 1).

Prints one PASS/FAIL line per step and a summary; exits non-zero on any failure.
Run with the dev group's Python (it has ``build`` and ``twine``): ``python tools/release_check.py``.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NAME = "airflow-provider-rtc"
SANDBOX = ROOT / "rtc-sandbox"
SANDBOX_NAME = "rtc-sandbox"
LEGAL = ("LICENSE", "NOTICE")
#: run in the sandbox's venv: how many Airflow modules importing the sandbox's app loads (must be 0)
AIRFLOW_MODULES = (
    "import sys, rtc_sandbox.app; "
    "print(sum(m.split('.')[0] == 'airflow' or m.startswith('airflow_provider_rtc') for m in sys.modules))"
)


def source_version(init: Path | None = None) -> str:
    """``__version__`` as written in the package (read, not imported)."""
    init = init or ROOT / "airflow_provider_rtc" / "__init__.py"
    match = re.search(r'^__version__ = "([^"]+)"', init.read_text(), re.M)
    if not match:
        raise SystemExit(f"no __version__ in {init}")
    return match.group(1)


def sandbox_version() -> str:
    return source_version(SANDBOX / "src" / "rtc_sandbox" / "__init__.py")


def sandbox_in_wheel(wheel: Path) -> list[str]:
    """The provider wheel's files that belong to the sandbox distribution (there must be none)."""
    with zipfile.ZipFile(wheel) as archive:
        return [
            name
            for name in archive.namelist()
            if name.startswith("rtc_sandbox/") or name.startswith("airflow_provider_rtc/sandbox/")
        ]


def run(cmd: list[str], **kwargs: object) -> str:
    """Run ``cmd``; its output on failure (the last 3000 characters) as the error."""
    done = subprocess.run(cmd, capture_output=True, text=True, **kwargs)  # type: ignore[call-overload]
    if done.returncode != 0:
        tail = (done.stdout + done.stderr)[-3000:]
        raise RuntimeError(f"{' '.join(map(str, cmd))} exited {done.returncode}:\n{tail}")
    return done.stdout


def legal_files_in(dist: Path) -> list[str]:
    """What of LICENSE and NOTICE ``dist`` (a wheel or an sdist) misses."""
    if dist.suffix == ".whl":
        with zipfile.ZipFile(dist) as wheel:
            names = {Path(name).name for name in wheel.namelist() if ".dist-info/" in name}
    else:
        with tarfile.open(dist) as sdist:
            names = {Path(member.name).name for member in sdist.getmembers() if member.name.count("/") == 1}
    return [name for name in LEGAL if name not in names]


class Check:
    def __init__(self) -> None:
        self.results: list[tuple[str, bool, str]] = []

    def step(self, name: str, body: Callable[[], str]) -> bool:
        start = time.monotonic()
        try:
            detail = body()
            ok = True
        except Exception as err:
            detail, ok = str(err), False
        seconds = time.monotonic() - start
        line = f"{'PASS' if ok else 'FAIL'}  {name} ({seconds:.1f} s){': ' + detail if detail else ''}"
        print(line, flush=True)
        self.results.append((name, ok, detail))
        return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dist", default=str(ROOT / "dist"), help="where the sdist and wheel go")
    parser.add_argument("--keep", action="store_true", help="keep the fresh venv (its path is printed)")
    args = parser.parse_args(argv)
    dist = Path(args.dist)
    version = source_version()
    work = Path(tempfile.mkdtemp(prefix="rtc-release-check-"))
    check = Check()
    built: list[Path] = []

    def build() -> str:
        shutil.rmtree(dist, ignore_errors=True)
        run([sys.executable, "-m", "build", "--sdist", "--wheel", "--outdir", str(dist), str(ROOT)])
        run([sys.executable, "-m", "build", "--sdist", "--wheel", "--outdir", str(dist), str(SANDBOX)])
        built.extend(sorted(dist.iterdir()))
        names = [path.name for path in built]
        sv = sandbox_version()
        want = {
            f"airflow_provider_rtc-{version}.tar.gz",
            f"airflow_provider_rtc-{version}-py3-none-any.whl",
            f"rtc_sandbox-{sv}.tar.gz",
            f"rtc_sandbox-{sv}-py3-none-any.whl",
        }
        if set(names) != want:
            raise RuntimeError(f"expected {sorted(want)}, built {names}")
        leaked = sandbox_in_wheel(dist / f"airflow_provider_rtc-{version}-py3-none-any.whl")
        if leaked:
            raise RuntimeError(f"the provider wheel carries the sandbox: {leaked[:5]}")
        return ", ".join(names)

    def twine() -> str:
        run([sys.executable, "-m", "twine", "check", "--strict", *map(str, built)])
        return "metadata and README render"

    def legal() -> str:
        missing = {path.name: legal_files_in(path) for path in built}
        missing = {name: files for name, files in missing.items() if files}
        if missing:
            raise RuntimeError(f"missing {missing}")
        return "LICENSE and NOTICE in the sdist and the wheel"

    venv = work / "venv"

    def install() -> str:
        wheel = [path for path in built if path.suffix == ".whl" and path.name.startswith("airflow_provider")]
        run([sys.executable, "-m", "venv", str(venv)])
        # only the wheel: every dependency comes from the index, as for a user (pip's cache reused)
        run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", str(wheel[0])], cwd=work)
        return f"{wheel[0].name} alone into {venv if args.keep else 'a fresh venv'}"

    def providers_list() -> str:
        home = work / "airflow-home"
        home.mkdir()
        env = {"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "AIRFLOW_HOME": str(home), "HOME": str(work)}
        out = run([str(venv / "bin" / "airflow"), "providers", "list", "-o", "plain"], cwd=work, env=env)
        rows = [line.split() for line in out.splitlines() if line.split()[:1] == [NAME]]
        if not rows:
            raise RuntimeError(f"{NAME} not in `airflow providers list`:\n{out[-2000:]}")
        if version not in rows[0]:
            raise RuntimeError(f"{NAME} listed as {' '.join(rows[0])}, expected version {version}")
        return f"{NAME} {version} listed"

    sandbox_venv = work / "sandbox-venv"

    def install_sandbox() -> str:
        wheel = [path for path in built if path.suffix == ".whl" and path.name.startswith("rtc_sandbox")]
        run([sys.executable, "-m", "venv", str(sandbox_venv)])
        run([str(sandbox_venv / "bin" / "python"), "-m", "pip", "install", "-q", str(wheel[0])], cwd=work)
        return f"{wheel[0].name} alone"

    def sandbox_without_airflow() -> str:
        env = {"PATH": f"{sandbox_venv / 'bin'}:/usr/bin:/bin", "HOME": str(work)}
        python = str(sandbox_venv / "bin" / "python")
        loaded = run([python, "-c", AIRFLOW_MODULES], cwd=work, env=env).strip()
        if loaded != "0":
            raise RuntimeError(f"import rtc_sandbox.app loaded {loaded} Airflow/provider modules")
        if (
            run(
                [python, "-c", "import importlib.util as u; print(u.find_spec('airflow'))"], cwd=work, env=env
            ).strip()
            != "None"
        ):
            raise RuntimeError("installing rtc-sandbox pulled in Airflow")
        run([str(sandbox_venv / "bin" / SANDBOX_NAME), "--help"], cwd=work, env=env)
        return "import rtc_sandbox.app loads 0 Airflow modules; Airflow not installed; rtc-sandbox --help"

    try:
        steps = [
            ("build sdist + wheel", build),
            ("twine check --strict", twine),
            ("LICENSE and NOTICE inside", legal),
            ("install the wheel alone into a fresh venv", install),
            ("airflow providers list", providers_list),
            ("install the rtc-sandbox wheel alone into a fresh venv", install_sandbox),
            ("rtc-sandbox without Airflow", sandbox_without_airflow),
        ]
        for name, body in steps:
            if not check.step(name, body):
                break
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    failed = [name for name, ok, _ in check.results if not ok]
    skipped = len(steps) - len(check.results)
    if failed:
        print(f"release check FAILED: {failed[0]}" + (f" ({skipped} later steps not run)" if skipped else ""))
        return 1
    print(f"release check PASSED: {NAME} {version}, {len(check.results)} steps")
    return 0


if __name__ == "__main__":
    sys.exit(main())
