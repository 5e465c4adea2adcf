"""``faa check`` against ``flake8 --select FAA`` (same findings?) and against ruff (how fast?).

Builds one virtualenv (``benchmarks/.venvs/check``, gitignored) holding flake8, this working tree
with the ``check`` extra's pathspec, and ruff from the package index, then:

a) on every project of the real-app corpus (real_apps.py: the same pinned sources and kept
   files), runs ``flake8 --isolated --select FAA --extend-select FAA205,FAA403`` exactly as
   real_apps.py does and ``faa check --isolated`` with the same selection, and reports every
   finding that only one of them gives (FAA000, a file the interpreter cannot parse, is ``faa``'s
   alone: flake8 skips such a file silently; they are counted beside the interpreter's own list);
b) on the largest project, times ``faa check``, ``flake8 --select FAA`` and
   ``ruff check --select ASYNC`` (ruff's flake8-async port, the nearest rules ruff has) over the
   same files, each at its default parallelism (every core), interleaved round by round with the
   order rotated, and prints the medians of the wall times and their ratios as a Markdown table.

Usage: python benchmarks/check_speed.py [--rounds 5] [--project NAME ...]
Exit status 1 when the findings differ on some project.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from local_machine import load_average  # noqa: E402
from plugin_cost import Variant, ensure_venv  # noqa: E402
from real_apps import APPS, FLAKE8_LINE, RealApp, application_files, fetch, lint, selected, unparsable  # noqa: E402
from scoring import Finding  # noqa: E402

CHECK_VARIANT = Variant("check", ("pathspec>=0.11", "ruff"), project=True)
# Fresh runs only: findings kept between runs would time reading them back.
SELECTION = ["--faa-cache=off", "--select", "FAA", "--extend-select", "FAA205,FAA403"]


def faa_findings(bin_dir: Path, app: RealApp, files: list[str]) -> tuple[list[Finding], list[str]]:
    """faa's findings in real_apps.py's shape, and the files it reported as not parsing."""
    cmd = [str(bin_dir / "faa"), "check", "--isolated", "--no-progress", *SELECTION, *files]
    result = subprocess.run(cmd, cwd=app.root, capture_output=True, text=True)
    if result.returncode not in (0, 1):
        raise SystemExit(f"{app.name}: faa check failed ({result.returncode}):\n{result.stderr[-3000:]}")
    findings: list[Finding] = []
    broken: list[str] = []
    for raw in result.stdout.splitlines():
        if " FAA000 " in raw:
            broken.append(raw.split(":", 1)[0])
            continue
        match = FLAKE8_LINE.match(raw)
        if match is None:
            raise SystemExit(f"{app.name}: unexpected faa output line: {raw!r}")
        findings.append(Finding(match["code"], match["path"], int(match["line"]), int(match["col"]), match["message"]))
    findings.sort(key=lambda f: (f.path, f.line, f.col, f.code))
    return findings, sorted(broken)


def compare_project(bin_dir: Path, app: RealApp) -> tuple[list[str], int, bool]:
    """(a table row, number of findings, whether they are identical)."""
    run = lint(bin_dir / "flake8", app, os.cpu_count() or 1)
    faa, broken = faa_findings(bin_dir, app, run.files)
    flake8_only = sorted(set(run.findings) - set(faa), key=str)
    faa_only = sorted(set(faa) - set(run.findings), key=str)
    for finding in flake8_only[:10]:
        print(f"  {app.name}: only flake8: {finding}", file=sys.stderr)
    for finding in faa_only[:10]:
        print(f"  {app.name}: only faa: {finding}", file=sys.stderr)
    expected_broken = sorted(line.split("\t")[0] for line in unparsable(bin_dir / "python", app, run.files))
    same = not flake8_only and not faa_only and broken == expected_broken
    row = [app.name, str(len(run.files)), str(len(run.findings)), str(len(faa)), str(len(flake8_only)), str(len(faa_only)),
           f"{len(broken)} ({'as' if broken == expected_broken else 'NOT as'} the interpreter says)"]
    return row, len(run.findings), same


def timed(cmd: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    result = subprocess.run(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - started
    if result.returncode not in (0, 1):
        raise SystemExit(f"{cmd[0]} failed ({result.returncode}):\n{result.stderr[-3000:]}")
    return elapsed


def time_tools(bin_dir: Path, app: RealApp, rounds: int) -> dict[str, float]:
    files = application_files(app)
    commands = {
        "faa check": [str(bin_dir / "faa"), "check", "--isolated", "--no-progress", *SELECTION, *files],
        "flake8 --select FAA": [str(bin_dir / "flake8"), "--isolated", *SELECTION, "-j", "auto", *files],
        "ruff check --select ASYNC": [str(bin_dir / "ruff"), "check", "--isolated", "--no-cache", "--select", "ASYNC", *files],
    }
    names = list(commands)
    times: dict[str, list[float]] = {name: [] for name in names}
    for name in names:  # one unmeasured run each: the files in the page cache, the venv's bytecode written
        timed(commands[name], app.root)
    for round_number in range(rounds):
        shift = round_number % len(names)
        for name in names[shift:] + names[:shift]:
            times[name].append(timed(commands[name], app.root))
    return {name: statistics.median(values) for name, values in times.items()}


def markdown(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines.extend("| " + " | ".join(row) + " |" for row in rows)
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds (default 5)")
    parser.add_argument("--project", action="append", help="compare findings on this project only (repeatable)")
    parser.add_argument("--no-timing", action="store_true", help="compare findings only")
    args = parser.parse_args()

    bin_dir = ensure_venv(CHECK_VARIANT).parent
    versions = subprocess.run([str(bin_dir / "ruff"), "--version"], capture_output=True, text=True).stdout.strip()
    print(f"python {sys.version.split()[0]}, {versions}, {os.cpu_count()} cores, load average {load_average()}\n")

    rows: list[list[str]] = []
    identical = True
    for app in selected(args.project):
        fetch(app)
        row, _, same = compare_project(bin_dir, app)
        rows.append(row)
        identical &= same
    header = ["project", "files", "flake8 findings", "faa findings", "only flake8", "only faa", "FAA000 files"]
    print("\n".join(markdown(header, rows)))
    print(f"\nfindings {'identical on every project' if identical else 'DIFFERENT (listed above on stderr)'}\n")

    if not args.no_timing:
        for app in APPS:
            fetch(app)
        largest = max(APPS, key=lambda app: len(application_files(app)))
        medians = time_tools(bin_dir, largest, args.rounds)
        flake8, ruff = medians["flake8 --select FAA"], medians["ruff check --select ASYNC"]
        timing_rows = [
            [name, f"{seconds:.2f}", f"{seconds / flake8:.3g}", f"{seconds / ruff:.3g}"] for name, seconds in medians.items()
        ]
        files = len(application_files(largest))
        print(f"{largest.name} ({files} files), median wall time of {args.rounds} interleaved rounds, every core:\n")
        print("\n".join(markdown(["command", "wall s", "/ flake8", "/ ruff"], timing_rows)))
        print(f"\nload average after: {load_average()}")
    return 0 if identical else 1


if __name__ == "__main__":
    sys.exit(main())
