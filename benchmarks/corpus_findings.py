"""The plugin's findings over a corpus nobody here wrote: FastAPI's source distribution.

Runs ``flake8 --isolated --select FAA --extend-select FAA205,FAA403`` (every
code, the opt-in ones included) over the whole unpacked sdist (its
``docs_src/`` tutorial apps, its ``tests/``, the ``fastapi/`` package and
``scripts/``), then prints:

- a table of findings per code and per top-level directory;
- every line-level finding (the codes a reviewer can judge line by line), so
  that each one can be reviewed as a true finding or a false alarm;
- a summary of the app-level codes (FAA304, FAA305, FAA401), reported once per
  ``FastAPI(...)``/``Starlette(...)`` construction: the tutorial and test apps
  deliberately leave out health routes, limiters and catch-all handlers.

flake8 comes from the ``plugin`` venv of plugin_cost.py (flake8 plus a regular
install of this working tree, rebuilt when the sources change), unless
``--flake8`` names another one.  The reviewed verdicts live in
benchmarks/README.md ("Corpus findings").

Usage: python benchmarks/corpus_findings.py [--markdown] [--flake8 PATH] [--jobs N]
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from fetch_corpus import PINNED_VERSION, fetch  # noqa: E402
from plugin_cost import VARIANTS, ensure_venv  # noqa: E402

LINE_LEVEL = (
    "FAA101 FAA102 FAA103 FAA104 FAA201 FAA202 FAA203 FAA204 FAA205 FAA301 FAA302 FAA303 FAA402 FAA403 FAA404"
).split()
APP_LEVEL = ("FAA304", "FAA305", "FAA401")
AREAS = ("docs_src", "tests", "fastapi", "scripts")
FLAKE8_LINE = re.compile(r"^(?P<path>.+?):(?P<line>\d+):(?P<col>\d+): (?P<code>FAA\d{3}) (?P<message>.*)$")


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    col: int
    code: str
    message: str

    @property
    def area(self) -> str:
        top = self.path.removeprefix("./").split("/", 1)[0]
        return top if top in AREAS else "other"


def run_flake8(flake8: Path, corpus: Path, jobs: int) -> list[Finding]:
    cmd = [str(flake8), "--isolated", "--faa-cache=off", "--select", "FAA", "--extend-select", "FAA205,FAA403", "-j", str(jobs), "."]
    result = subprocess.run(cmd, cwd=corpus, capture_output=True, text=True)
    if result.returncode not in (0, 1) or "Traceback" in result.stderr:
        raise SystemExit(f"flake8 failed ({result.returncode}):\n{result.stderr[-3000:]}")
    findings = []
    for raw in result.stdout.splitlines():
        match = FLAKE8_LINE.match(raw)
        if match is None:
            raise SystemExit(f"unexpected flake8 output line: {raw!r}")
        findings.append(
            Finding(match["path"], int(match["line"]), int(match["col"]), match["code"], match["message"])
        )
    return sorted(findings, key=lambda f: (f.path, f.line, f.col, f.code))


def count_table(findings: list[Finding], markdown: bool) -> list[str]:
    counts = Counter((f.code, f.area) for f in findings)
    codes = sorted({f.code for f in findings})
    # Every area of the sdist gets a column, the empty ones too (no finding is a result).
    areas = [*AREAS, *(["other"] if any(f.area == "other" for f in findings) else [])]
    header = ["code", "kind", *areas, "total"]
    rows = []
    for code in codes:
        kind = "app" if code in APP_LEVEL else "line"
        values = [counts[(code, area)] for area in areas]
        rows.append([code, kind, *map(str, values), str(sum(values))])
    totals = [sum(counts[(code, area)] for code in codes) for area in areas]
    rows.append(["all", "", *map(str, totals), str(sum(totals))])
    return _table(header, rows, markdown)


def _table(header: list[str], rows: list[list[str]], markdown: bool) -> list[str]:
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
        lines.extend("| " + " | ".join(row) + " |" for row in rows)
        return lines
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows)]
    return [" ".join(str(cell).ljust(width) for cell, width in zip(row, widths)).rstrip() for row in [header, *rows]]


def first_clause(message: str) -> str:
    """The finding without the fix that every message of the code ends with."""
    return message.split("; ", 1)[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--markdown", action="store_true", help="print the tables as Markdown")
    parser.add_argument("--flake8", type=Path, help="a flake8 executable with the plugin (default: the benchmark venv)")
    parser.add_argument("--jobs", type=int, default=2, help="flake8 -j (default 2)")
    parser.add_argument("--corpus-version", default=PINNED_VERSION)
    args = parser.parse_args()

    corpus = fetch(args.corpus_version)
    flake8 = args.flake8 or ensure_venv(next(v for v in VARIANTS if v.project))
    findings = run_flake8(flake8, corpus, args.jobs)
    files = sum(1 for _ in corpus.rglob("*.py"))
    print(f"corpus: {corpus.name} ({files} .py files), whole tree")
    print("command: flake8 --isolated --select FAA --extend-select FAA205,FAA403 -j N .")
    print()
    print("Findings per code and directory:")
    print("\n".join(count_table(findings, args.markdown)))

    line_level = [f for f in findings if f.code in LINE_LEVEL]
    print()
    print(f"Line-level findings ({len(line_level)}):")
    rows = [[str(n), f"{f.path.removeprefix('./')}:{f.line}", f.code, first_clause(f.message)] for n, f in enumerate(line_level, 1)]
    print("\n".join(_table(["#", "where", "code", "finding"], rows, args.markdown)))

    app_level = [f for f in findings if f.code in APP_LEVEL]
    sites = {(f.path, f.line, f.col) for f in app_level}
    print()
    print(
        f"App-level findings: {len(app_level)} at {len(sites)} FastAPI()/Starlette() constructions "
        f"in {len({f.path for f in app_level})} files ("
        + ", ".join(f"{code} {sum(f.code == code for f in app_level)}" for code in APP_LEVEL)
        + ")"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
