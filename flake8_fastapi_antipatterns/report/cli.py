"""``python -m flake8_fastapi_antipatterns report``: read the findings, write one report.

Exit status: 0 without findings, 1 with findings (as flake8), 2 for bad input or an unwritable output.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from flake8_fastapi_antipatterns.diagnostics import Diagnostic
from flake8_fastapi_antipatterns.report import build_report
from flake8_fastapi_antipatterns.report.inputs import STDIN, InputError, parse_flake8, parse_json_lines, read_input
from flake8_fastapi_antipatterns.report.lint import lint
from flake8_fastapi_antipatterns.report.model import Report
from flake8_fastapi_antipatterns.report.render_data import render_json, render_sarif
from flake8_fastapi_antipatterns.report.render_html import render_html
from flake8_fastapi_antipatterns.report.render_text import render_text
from flake8_fastapi_antipatterns.report.sources import SourceFiles

DEFAULT_HTML = "faa-report.html"

EXAMPLES = """\
examples:
  flake8 --select FAA app/ > flake8.txt
  python -m flake8_fastapi_antipatterns report --flake8 flake8.txt --runtime findings.jsonl \\
      --format html --output report.html
  python -m flake8_fastapi_antipatterns report --lint app/ --runtime worker-*.jsonl --format sarif -o faa.sarif
  flake8 --select FAA app/ | python -m flake8_fastapi_antipatterns report --flake8 - --runtime findings.jsonl

exit status: 0 no findings, 1 findings, 2 bad input (the message names the file and line)
"""


def add_parser(commands: Any) -> argparse.ArgumentParser:
    """Register ``report`` on the ``add_subparsers()`` object of the main parser."""
    parser: argparse.ArgumentParser = commands.add_parser(
        "report",
        help="one report of static and runtime findings (text, json, sarif, html)",
        description=(
            "Merge static findings (flake8 output, or the rules run here with --lint) and runtime findings "
            "(the guard's JSON lines) into one report. A static finding is 'confirmed at runtime' when the "
            "guard reported the same code inside the same function."
        ),
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--flake8",
        action="append",
        default=[],
        metavar="FILE",
        help="flake8 output in its default format (repeatable; '-' reads standard input)",
    )
    parser.add_argument(
        "--lint",
        nargs="+",
        action="extend",
        default=[],
        metavar="PATH",
        help="run the static rules on these files/directories instead of reading flake8 output",
    )
    parser.add_argument(
        "--runtime",
        action="append",
        default=[],
        metavar="FILE",
        help="runtime findings as JSON lines, from the guard or the probe (repeatable; '-' for stdin)",
    )
    parser.add_argument(
        "--extend-select",
        default="",
        metavar="CODES",
        help="with --lint: opt-in codes to report too, comma-separated (e.g. FAA205,FAA403)",
    )
    parser.add_argument(
        "--format", choices=("text", "json", "sarif", "html"), default="text", help="report format (default: text)"
    )
    parser.add_argument(
        "--output",
        "-o",
        metavar="FILE",
        help=f"where to write (default: standard output; for html: {DEFAULT_HTML}; '-' forces stdout)",
    )
    parser.add_argument(
        "--root",
        type=Path,
        default=None,
        metavar="DIR",
        help="directory that relative file names in the findings are read from, and that SARIF paths are "
        "relative to (default: current)",
    )
    return parser


def _read(args: argparse.Namespace, stdin: IO[str] | None) -> tuple[list[Diagnostic], list[str]]:
    named = [*args.flake8, *args.runtime]
    if named.count(STDIN) > 1:
        raise InputError("'-' (standard input) can be given for only one input")
    found: list[Diagnostic] = []
    inputs: list[str] = []
    readers: list[tuple[list[str], Callable[..., list[Diagnostic]]]] = [
        (args.flake8, parse_flake8),
        (args.runtime, parse_json_lines),
    ]
    for names, parse in readers:
        for name in names:
            source = read_input(name, stdin)
            found.extend(parse(source))
            inputs.append(source.name)
    if args.lint:
        codes = [code for code in args.extend_select.split(",") if code.strip()]
        found.extend(lint(args.lint, codes))
        inputs.append("lint: " + " ".join(args.lint))
    return found, inputs


def _render(report: Report, fmt: str, sources: SourceFiles) -> str:
    if fmt == "json":
        return render_json(report)
    if fmt == "sarif":
        return render_sarif(report, sources.root)
    if fmt == "html":
        return render_html(report, sources)
    return render_text(report, sources)


def run(
    args: argparse.Namespace,
    *,
    stdin: IO[str] | None = None,
    stdout: IO[str] | None = None,
    stderr: IO[str] | None = None,
) -> int:
    out = stdout if stdout is not None else sys.stdout
    err = stderr if stderr is not None else sys.stderr
    if not (args.flake8 or args.lint or args.runtime):
        print("report: nothing to read; give --flake8 FILE, --lint PATH or --runtime FILE", file=err)
        return 2
    try:
        diagnostics, inputs = _read(args, stdin)
    except InputError as exc:
        print(f"report: {exc}", file=err)
        return 2
    sources = SourceFiles(args.root)
    report = build_report(diagnostics, sources, inputs)
    text = _render(report, args.format, sources)
    target = args.output if args.output is not None else (DEFAULT_HTML if args.format == "html" else STDIN)
    if target == STDIN:
        out.write(text)
        out.flush()
    else:
        try:
            Path(target).write_text(text, encoding="utf-8")
        except OSError as exc:
            print(f"report: {target}: cannot write ({exc.strerror or exc})", file=err)
            return 2
        print(
            f"report: {len(report.findings)} finding(s) in {len(report.problems)} problem(s) written to {target}",
            file=err,
        )
    return 1 if report.findings else 0
