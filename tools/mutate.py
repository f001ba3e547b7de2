"""`make mutate`: run mutmut over the modules that hold the promises and print the score per module.

mutmut 3 (pinned in the `mutate` dependency group; configured in pyproject ``[tool.mutmut]``) copies
the package and the tests to ``mutants/``, learns which selected test reaches which function, and
runs only those tests against each mutant. This script then reads ``mutmut results --all true``
(one ``name: status`` line per mutant, the tool's stable CLI output) and prints, per module and
overall, the share of non-equivalent mutants the tests kill. It exits 1 under ``--threshold``
(90 by default, issue 24's target) so a drop in test strength fails the target.

Mutants judged equivalent (no test could tell them from the original: the change has no
observable effect) are listed with the reason in ``tools/mutate_equivalent.txt``; they are left
out of the score and printed, so the list stays honest. Outside `make test` and CI: it takes
minutes per module on two cores. docs/testing.md says how to run it and gives the last score.
"""

from __future__ import annotations

import argparse
import fnmatch
import os
import shutil
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EQUIVALENT = ROOT / "tools" / "mutate_equivalent.txt"
#: a mutant the type checker refused counts as killed. A timeout does not: on a loaded machine a
#: mutant whose tests merely ran long times out too, so timeouts are listed with the alive ones for
#: a look (`mutmut show NAME`); one that is a real endless loop can go to the equivalents file.
KILLED = {"killed", "caught by type check"}
#: left out of the score: mutmut did not run them (interrupted, or skipped by configuration)
NOT_RUN = {"not checked", "skipped", "check was interrupted by user"}
#: ``--tests``: the run's test selection, handed to the mutmut process (os.pathsep-separated)
TESTS_ENV = "RTC_MUTATE_TESTS"
#: runs mutmut's CLI with the selection of ``--tests`` (see `mutmut_with_selection`)
_BOOT = "import sys; sys.path.insert(0, 'tools'); import mutate; mutate.mutmut_with_selection()"


def equivalents(path: Path = EQUIVALENT) -> dict[str, str]:
    """``mutant name  # why`` per line; blank lines and lines starting with ``#`` are ignored."""
    found: dict[str, str] = {}
    if not path.exists():
        return found
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, _, why = line.partition("#")
        found[name.strip()] = why.strip()
    return found


def parse_results(text: str) -> dict[str, str]:
    """``name: status`` lines of ``mutmut results --all true`` -> {mutant name: status}."""
    statuses: dict[str, str] = {}
    for line in text.splitlines():
        name, sep, status = line.strip().rpartition(": ")
        if sep and "__mutmut_" in name:
            statuses[name] = status.strip()
    return statuses


def module_of(mutant: str) -> str:
    """``pkg.mod.x_func__mutmut_3`` (or ``pkg.mod.xǁClassǁmethod__mutmut_3``) -> ``pkg.mod``."""
    return mutant.rsplit(".", 1)[0]


def score(statuses: dict[str, str], equivalent: dict[str, str]) -> tuple[list[str], bool, float]:
    """The report lines, whether anything was scored, and the overall score in percent."""
    per: dict[str, Counter[str]] = defaultdict(Counter)
    for name, status in statuses.items():
        if name in equivalent:
            status = "equivalent"
        elif status in KILLED:
            status = "killed"
        per[module_of(name)][status] += 1
    lines = [f"{'module':<48} {'killed':>6} {'alive':>6} {'equiv':>6} {'not run':>7} {'score':>7}"]
    total_killed = total_scored = 0
    for module in sorted(per):
        counts = per[module]
        killed = counts["killed"]
        scored = sum(n for s, n in counts.items() if s not in NOT_RUN | {"equivalent"})
        total_killed, total_scored = total_killed + killed, total_scored + scored
        pct = f"{100 * killed / scored:6.1f}%" if scored else "     - "
        not_run = sum(counts[s] for s in NOT_RUN)
        lines.append(
            f"{module:<48} {killed:>6} {scored - killed:>6} {counts['equivalent']:>6} {not_run:>7} {pct}"
        )
    overall = 100 * total_killed / total_scored if total_scored else 0.0
    alive_total = total_scored - total_killed
    lines.append(f"{'overall':<48} {total_killed:>6} {alive_total:>6} {'':>6} {'':>7} {overall:6.1f}%")
    alive = sorted(
        f"  {status:<10} {name}"
        for name, status in statuses.items()
        if name not in equivalent and status not in KILLED | NOT_RUN
    )
    if alive:
        lines += ["", "alive (survived / no tests / timeout / suspicious):", *alive]
    return lines, bool(total_scored), overall


def not_killed(statuses: dict[str, str], equivalent: dict[str, str], patterns: list[str]) -> list[str]:
    """The mutants matching ``patterns`` (all when empty) that no run has killed yet (alive, timed
    out, or not run), by exact name: mutmut runs a named mutant again whatever its cached result,
    so a glob would run the killed ones again too."""
    return sorted(
        name
        for name, status in statuses.items()
        if status not in KILLED
        and name not in equivalent
        and (not patterns or any(fnmatch.fnmatch(name, p) for p in patterns))
    )


def mutmut_with_selection() -> None:
    """mutmut's CLI with ``pytest_add_cli_args_test_selection`` replaced by the ``--tests`` paths.

    mutmut runs, per mutant, every selected test that reaches its function: for the functions every
    hook test reaches (the limiter's settings, validation's checks) that is 8-15 s per mutant, where
    the focused tests that judge them take well under one. mutmut 3.8 reads its configuration only
    from pyproject, and a changed selection resets every cached verdict (its config fingerprint), so
    the selection is swapped here, in mutmut's own process (its workers are forked from it), and the
    fingerprint keeps pyproject's: the verdicts of other modules stay, and mutmut drops the tests
    outside the selection from its test map and maps any new ones (its incremental stats).
    """
    from mutmut import configuration
    from mutmut.__main__ import cli

    tests = [t for t in os.environ[TESTS_ENV].split(os.pathsep) if t]
    load = configuration._load_config

    def load_selected() -> configuration.Config:
        config = load()
        pyproject = config.config_fingerprint()["test_selection"]
        config.pytest_add_cli_args_test_selection = tests

        def fingerprint() -> dict[str, str]:
            return {**configuration.Config.config_fingerprint(config), "test_selection": pyproject}

        config.config_fingerprint = fingerprint  # type: ignore[method-assign]
        return config

    configuration._load_config = load_selected
    configuration.reset_config()  # mutmut loads its configuration when it is imported
    cli(sys.argv[1:])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threshold", type=float, default=90.0, help="fail under this score (percent)")
    parser.add_argument("--max-children", type=int, default=1, help="mutants run at once (2 shared cores)")
    parser.add_argument("--fresh", action="store_true", help="delete mutants/ first (a run from scratch)")
    parser.add_argument("--report-only", action="store_true", help="score the last run, run nothing")
    parser.add_argument(
        "--not-killed",
        action="store_true",
        help="run only the mutants (of the globs) not killed yet: after new tests, a timeout, a stop",
    )
    parser.add_argument(
        "--tests",
        nargs="+",
        metavar="PATH",
        help="judge this run's mutants with these test paths only, not pyproject's selection",
    )
    parser.add_argument("mutants", nargs="*", help="mutant names or globs to run (default: all)")
    args = parser.parse_args(argv)
    os.chdir(ROOT)
    mutmut = [sys.executable, "-m", "mutmut"]
    listing = [*mutmut, "results", "--all", "true"]
    if args.fresh:
        shutil.rmtree(ROOT / "mutants", ignore_errors=True)
    names = args.mutants
    if args.not_killed:
        last = subprocess.run(listing, capture_output=True, text=True, check=True)
        names = not_killed(parse_results(last.stdout), equivalents(), args.mutants)
        if not names:
            print("every mutant of those globs is killed or equivalent: nothing to run")
            args.report_only = True
    if not args.report_only:
        env = None
        if args.tests:
            missing = [t for t in args.tests if not (ROOT / t.split("::")[0]).exists()]
            if missing:
                print(f"--tests: no such test path: {', '.join(missing)}", file=sys.stderr)
                return 2
            env = {**os.environ, TESTS_ENV: os.pathsep.join(args.tests)}
            mutmut = [sys.executable, "-c", _BOOT]
        run = subprocess.run([*mutmut, "run", "--max-children", str(args.max_children), *names], env=env)
        if run.returncode != 0:
            print(f"mutmut run failed (exit {run.returncode})", file=sys.stderr)
            return run.returncode
    results = subprocess.run(listing, capture_output=True, text=True, check=True)
    equivalent = equivalents()
    lines, any_scored, overall = score(parse_results(results.stdout), equivalent)
    print("\n".join(lines))
    if equivalent:
        print(f"\n{len(equivalent)} mutant(s) judged equivalent (tools/mutate_equivalent.txt)")
    if not any_scored:
        print("no mutant was run: nothing to score", file=sys.stderr)
        return 1
    if overall < args.threshold:
        print(f"mutation score {overall:.1f}% is under the threshold {args.threshold:.0f}%", file=sys.stderr)
        return 1
    print(f"mutation score {overall:.1f}% (threshold {args.threshold:.0f}%)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
