"""FastAPI's own test suite, run serially with and without ``--runtime-guard=warn``.

What the pytest plugin costs a real suite, and whether it changes any outcome.
The suite is FastAPI's: its pinned sdist (``fetch_corpus.py``) ships ``tests/``
and ``docs_src/``.  A virtualenv under ``benchmarks/.venvs/`` gets FastAPI from
the sdist with its ``all`` extra, the sdist's ``tests`` dependency group, and
this working tree (editable, so the venv follows the tree).  Then, per round,
the suite runs once bare and once guarded, interleaved (the order flips every
round, so a machine's slow phase falls on both), and the script prints:

* the wall time of each run, and the guarded/bare ratio per round and of the medians;
* the outcome counts of both (from JUnit XML) and the tests whose outcome differs:
  there must be none, the guard never fails a test in warn mode;
* the guard's findings by code (``--runtime-guard-jsonl``) and its app-wide findings
  (the terminal summary), with a few examples of each code to judge.

Usage:
    python benchmarks/guarded_test_suite.py                     # 1 round (about 2 x the suite's time)
    python benchmarks/guarded_test_suite.py --rounds 2
    python benchmarks/guarded_test_suite.py --setup-only        # fetch and build the venv only
    python benchmarks/guarded_test_suite.py --tests tests/test_tutorial  # a part of the suite
    python benchmarks/guarded_test_suite.py --guard-tree /path/to/an/older/checkout  # another version's guard

``--guard-tree`` puts another checkout of this project first on the suite's ``PYTHONPATH``
(the venv keeps its editable install of this one), to measure an older version side by side.
Exit status 1 when the outcomes differ or the ratio of the medians is above ``--goal`` (1.3).
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from fetch_corpus import PINNED_VERSION, fetch  # noqa: E402
from local_machine import load_average  # noqa: E402

REPO = HERE.parent
VENVS = HERE / ".venvs"
# FastAPI needs 3.11+; the guard's exception-text watch (and its module scan) needs 3.12+.
MIN_PYTHON = (3, 12)
# pytest-sugar (in FastAPI's test group) rewrites the progress output; the cache would carry
# state from one run to the next.
PYTEST_FLAGS = ("-q", "-p", "no:cacheprovider", "-p", "no:sugar")
EXAMPLES_PER_CODE = 4


@dataclass
class Run:
    variant: str
    seconds: float
    outcomes: dict[str, str]
    """Test id → passed / failed / error / skipped."""
    exit_code: int
    findings: list[dict[str, object]] = field(default_factory=list)
    app_wide: list[str] = field(default_factory=list)

    def counts(self) -> collections.Counter[str]:
        return collections.Counter(self.outcomes.values())


# -- the virtualenv --------------------------------------------------------------


def venv_python(venv: Path) -> Path:
    return venv / "bin" / "python"


def build_venv(corpus: Path, python: str, venv: Path) -> Path:
    """FastAPI (editable, from the sdist, ``all`` extra), its ``tests`` group, and this working tree."""
    marker = venv / ".complete"
    if marker.exists():
        return venv_python(venv)
    subprocess.run([python, "-m", "venv", "--clear", str(venv)], check=True)
    pip = [str(venv_python(venv)), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    # Dependency groups (``--group``) need pip 25.1 or later.
    subprocess.run([*pip, "--upgrade", "pip>=25.1"], check=True)
    subprocess.run(
        [*pip, "-e", f"{corpus}[all]", "--group", f"{corpus / 'pyproject.toml'}:tests", "-e", str(REPO)],
        check=True,
    )
    marker.write_text(f"{corpus.name}\n")
    return venv_python(venv)


# -- one run of the suite --------------------------------------------------------


def junit_outcomes(path: Path) -> dict[str, str]:
    outcomes: dict[str, str] = {}
    for case in ET.parse(path).iter("testcase"):
        test = f"{case.get('classname')}::{case.get('name')}"
        outcome = "passed"
        for child in case:
            if child.tag in ("failure", "error", "skipped"):
                outcome = {"failure": "failed"}.get(child.tag, child.tag)
                break
        outcomes[test] = outcome
    return outcomes


def app_wide_lines(output: str) -> list[str]:
    """The summary's "app-wide findings" block (listed once per session, outside any test's findings)."""
    _, found, rest = output.partition("app-wide findings (listed once, they fail no test):\n")
    if not found:
        return []
    lines = []
    for line in rest.splitlines():
        if not line.startswith("  "):
            break
        lines.append(line.strip())
    return lines


def run_suite(python: Path, corpus: Path, variant: str, tests: list[str], work: Path, guard_tree: str | None) -> Run:
    junit = work / f"{variant}.xml"
    jsonl = work / f"{variant}.jsonl"
    log = work / f"{variant}.log"
    for stale in (junit, jsonl):
        stale.unlink(missing_ok=True)
    command = [str(python), "-m", "pytest", *PYTEST_FLAGS, f"--junitxml={junit}", *tests]
    if variant == "guarded":
        command += ["--runtime-guard=warn", f"--runtime-guard-jsonl={jsonl}"]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RUNTIME_GUARD", "PYTEST_"))}
    if guard_tree:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [guard_tree, env.get("PYTHONPATH")]))
    started = time.perf_counter()
    with log.open("w") as out:
        done = subprocess.run(command, cwd=corpus, env=env, stdout=out, stderr=subprocess.STDOUT)
    seconds = time.perf_counter() - started
    output = log.read_text(errors="replace")
    run = Run(variant, seconds, junit_outcomes(junit) if junit.exists() else {}, done.returncode)
    if jsonl.exists():
        run.findings = [json.loads(line) for line in jsonl.read_text().splitlines() if line.strip()]
    run.app_wide = app_wide_lines(output)
    return run


# -- the report ------------------------------------------------------------------


def describe(run: Run) -> str:
    counts = run.counts()
    parts = ", ".join(f"{counts[k]} {k}" for k in ("passed", "failed", "error", "skipped") if counts[k])
    return f"{run.variant:8} {run.seconds:8.1f} s   {parts}   (exit {run.exit_code})"


def report_findings(run: Run, corpus: Path) -> None:
    by_code: dict[str, list[dict[str, object]]] = collections.defaultdict(list)
    for finding in run.findings:
        by_code[str(finding.get("code"))].append(finding)
    tests_with = {str(dict(f.get("details") or {}).get("test")) for f in run.findings}
    print(f"\nfindings in tests (--runtime-guard-jsonl): {len(run.findings)} in {len(tests_with)} tests")
    for code in sorted(by_code):
        found = by_code[code]
        places = collections.Counter(f"{_relative(str(f.get('filename')), corpus)}:{f.get('line')}" for f in found)
        print(f"  {code}: {len(found)} findings at {len(places)} places")
        for finding in found[:EXAMPLES_PER_CODE]:
            details = dict(finding.get("details") or {})
            where = f"{_relative(str(finding.get('filename')), corpus)}:{finding.get('line')}"
            print(f"    {details.get('test')}\n      {where}: {str(finding.get('message'))[:220]}")
    print(f"app-wide findings (terminal summary): {len(run.app_wide)}")
    for code, count in sorted(collections.Counter(line.split(" ", 1)[0] for line in run.app_wide).items()):
        print(f"  {code}: {count}")
        for line in [line for line in run.app_wide if line.startswith(code + " ")][:EXAMPLES_PER_CODE]:
            print(f"    {line[:220]}")


def _relative(path: str, root: Path) -> str:
    try:
        return str(Path(path).relative_to(root))
    except ValueError:
        return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", default=PINNED_VERSION, help=f"FastAPI release (default {PINNED_VERSION})")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--python", default=sys.executable, help="the interpreter the venv is made from (3.12+)")
    parser.add_argument("--tests", nargs="+", default=["tests"], help="what pytest collects, in the sdist (default: tests)")
    parser.add_argument("--guard-tree", default=None, help="another checkout whose guard to measure (put first on PYTHONPATH)")
    parser.add_argument("--setup-only", action="store_true")
    parser.add_argument("--goal", type=float, default=1.3, help="the highest guarded/bare ratio that passes")
    parser.add_argument("--keep", default=None, help="a directory to keep the logs, JUnit XML and JSON lines in")
    args = parser.parse_args()

    version = subprocess.run([args.python, "-c", "import sys; print(*sys.version_info[:2])"], capture_output=True, text=True, check=True)
    major, minor = (int(part) for part in version.stdout.split())
    if (major, minor) < MIN_PYTHON:
        parser.error(f"--python must be {'.'.join(map(str, MIN_PYTHON))} or later, not {major}.{minor}")
    corpus = fetch(args.version)
    python = build_venv(corpus, args.python, VENVS / f"fastapi-suite-{args.version}-py{major}.{minor}")
    if args.setup_only:
        print(python)
        return 0

    guard_tree = str(Path(args.guard_tree).resolve()) if args.guard_tree else None
    where = subprocess.run(
        [str(python), "-c", "import runtime_guard; print(runtime_guard.__file__)"],
        capture_output=True, text=True, check=True, cwd=corpus,
        env={**os.environ, **({"PYTHONPATH": guard_tree} if guard_tree else {})},
    )  # fmt: skip
    print(f"FastAPI {args.version} suite ({' '.join(args.tests)}), {args.rounds} round(s); guard from {where.stdout.strip()}")
    print(f"load average before: {load_average()}")
    # Once, untimed: byte-compiles the tests and docs_src so the first timed run does not pay for it.
    subprocess.run(
        [str(python), "-m", "pytest", *PYTEST_FLAGS, "--collect-only", *args.tests],
        cwd=corpus, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    runs: dict[str, list[Run]] = {"bare": [], "guarded": []}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(args.keep).resolve() if args.keep else Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        for round_index in range(args.rounds):
            order = ("bare", "guarded") if round_index % 2 == 0 else ("guarded", "bare")
            for variant in order:
                round_dir = work / f"round{round_index + 1}"
                round_dir.mkdir(exist_ok=True)
                run = run_suite(python, corpus, variant, args.tests, round_dir, guard_tree)
                runs[variant].append(run)
                print(f"round {round_index + 1}: {describe(run)}   load {load_average()}", flush=True)
            bare, guarded = runs["bare"][-1], runs["guarded"][-1]
            print(f"round {round_index + 1}: guarded/bare {guarded.seconds / bare.seconds:.2f}", flush=True)

    bare_median = statistics.median(r.seconds for r in runs["bare"])
    guarded_median = statistics.median(r.seconds for r in runs["guarded"])
    ratio = guarded_median / bare_median
    print(f"\nwall time, median of {args.rounds}: bare {bare_median:.1f} s, guarded {guarded_median:.1f} s, ratio {ratio:.2f}")
    print(f"load average after: {load_average()}")

    differing = 0
    for bare, guarded in zip(runs["bare"], runs["guarded"]):
        changed = sorted(t for t in set(bare.outcomes) | set(guarded.outcomes) if bare.outcomes.get(t) != guarded.outcomes.get(t))
        differing += len(changed)
        for test in changed[:20]:
            print(f"  outcome differs: {test}: bare {bare.outcomes.get(test)}, guarded {guarded.outcomes.get(test)}")
    bare_counts, guarded_counts = runs["bare"][-1].counts(), runs["guarded"][-1].counts()
    print(f"outcomes: bare {dict(bare_counts)}, guarded {dict(guarded_counts)}: {'the same' if not differing else f'{differing} differ'}")
    report_findings(runs["guarded"][-1], corpus)
    return 0 if not differing and ratio <= args.goal else 1


if __name__ == "__main__":
    sys.exit(main())
