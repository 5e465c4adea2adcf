"""``faa check [PATHS]``: the FAA rules over a project, without flake8.

Exit status: 0 when nothing (new) was found, 1 when something was, 2 for a usage or configuration
error or an internal failure (``--exit-zero`` turns 1 into 0).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import traceback
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, TextIO

from flake8_fastapi_antipatterns import __version__
from flake8_fastapi_antipatterns.check.baseline import BaselineError, load_baseline, write_baseline
from flake8_fastapi_antipatterns.check.config import CommandLine, ConfigError, load_config
from flake8_fastapi_antipatterns.check.dependencies import MissingDependency
from flake8_fastapi_antipatterns.check.formats import DEFAULT_FORMAT, FORMATS
from flake8_fastapi_antipatterns.check.progress import Progress
from flake8_fastapi_antipatterns.check.report import CheckReport
from flake8_fastapi_antipatterns.options import OPTION_SPECS

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2

DESCRIPTION = (
    "Check FastAPI code for the FAA anti-patterns, with the rules of the flake8 plugin and without flake8. "
    "Settings come from the command line, then [tool.faa] in pyproject.toml, then the faa-* options of the "
    "[flake8] section of setup.cfg / tox.ini / .flake8."
)
EPILOG = """exit status: 0 no (new) findings, 1 findings, 2 usage or configuration error or internal failure

examples:
  faa check                              # the project in the working directory
  faa check app/ --extend-select FAA205  # an opt-in code too
  faa check --ignore FAA000              # files that do not parse are not reported
  faa check --baseline .faa-baseline.json --write-baseline   # accept today's findings
  faa check --baseline .faa-baseline.json                    # then report only new ones
"""


def _jobs(value: str) -> int:
    try:
        jobs = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expects a number of processes, not {value!r}") from None
    if jobs < 1:
        raise argparse.ArgumentTypeError("expects 1 or more")
    return jobs


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="*", type=Path, default=[Path(".")], metavar="PATH",
                        help="files and directories to check (default: .)")
    codes = parser.add_argument_group("selection (comma-separated codes or prefixes: FAA1 is FAA101, FAA102, ...)")
    codes.add_argument("--select", metavar="CODES", help="check these codes only (default: the default-on codes)")
    codes.add_argument("--extend-select", metavar="CODES", help="check these too (e.g. the opt-in FAA205,FAA403)")
    codes.add_argument("--ignore", metavar="CODES", help="do not report these (FAA000 only when named)")
    codes.add_argument("--extend-ignore", metavar="CODES", help="do not report these either")
    files = parser.add_argument_group("files")
    files.add_argument("--exclude", metavar="PATTERNS",
                       help="gitignore-style patterns to skip, replacing the default build and tool folders")
    files.add_argument("--extend-exclude", metavar="PATTERNS", help="patterns to skip besides the others")
    files.add_argument("--config", type=Path, metavar="PATH",
                       help="read only this file: a .toml file's [tool.faa], another file's [flake8] section")
    files.add_argument("--isolated", action="store_true", help="read no configuration file")
    output = parser.add_argument_group("output")
    output.add_argument("--output-format", choices=sorted(FORMATS), default=DEFAULT_FORMAT,
                        help=f"how findings are written (default: {DEFAULT_FORMAT})")
    output.add_argument("--output-file", type=Path, metavar="PATH", help="write findings there instead of to stdout")
    output.add_argument("--baseline", type=Path, metavar="FILE", help="report only findings this baseline does not list")
    output.add_argument("--write-baseline", action="store_true",
                        help="write the current findings to the --baseline file and exit 0")
    output.add_argument("--exit-zero", action="store_true", help="exit 0 even when something is found")
    output.add_argument("--no-progress", action="store_true", help="no progress counter on a terminal")
    parser.add_argument("--jobs", "-j", type=_jobs, default=os.cpu_count() or 1, metavar="N",
                        help="processes to check files with (default: the number of cores)")
    rules = parser.add_argument_group("rule options (as the flake8 plugin's; [tool.faa] keys drop the faa- prefix)")
    for spec in OPTION_SPECS:
        rules.add_argument(spec.flag, dest=f"faa_{spec.field}", metavar="VALUE", help=spec.help)


def add_parser(commands: Any) -> argparse.ArgumentParser:
    """Register ``check`` on the ``add_subparsers()`` object of a parser."""
    parser: argparse.ArgumentParser = commands.add_parser(
        "check", help="check a project for FAA anti-patterns (no flake8 needed)", description=DESCRIPTION,
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_arguments(parser)
    return parser


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="faa", description="FastAPI anti-patterns (FAA codes).")
    parser.add_argument("--version", action="version", version=__version__)
    commands = parser.add_subparsers(dest="command", metavar="command", required=True)
    add_parser(commands)
    return parser


class _BriefFormatter(logging.Formatter):
    """One line per problem the engine logs (a rule family that failed on a file, which it skipped)."""

    def format(self, record: logging.LogRecord) -> str:
        return "faa: " + record.getMessage()


def _log_to(stream: TextIO) -> logging.Handler:
    handler = logging.StreamHandler(stream)
    handler.setFormatter(_BriefFormatter())
    handler.setLevel(logging.WARNING)
    logging.getLogger("flake8_fastapi_antipatterns").addHandler(handler)
    return handler


def _command_line(args: argparse.Namespace) -> CommandLine:
    return CommandLine(
        select=args.select, extend_select=args.extend_select, ignore=args.ignore, extend_ignore=args.extend_ignore,
        exclude=args.exclude, extend_exclude=args.extend_exclude,
        options={spec.field: value for spec in OPTION_SPECS if (value := getattr(args, f"faa_{spec.field}")) is not None},
    )


def _check(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    if args.write_baseline and args.baseline is None:
        print("faa: --write-baseline needs --baseline FILE (the file to write)", file=err)
        return EXIT_ERROR
    cwd = Path.cwd()
    try:
        # Imported here: they need the libraries of the `check` extra.
        from flake8_fastapi_antipatterns.check.discovery import Excludes, discover
        from flake8_fastapi_antipatterns.check.per_file import PerFileIgnores
        from flake8_fastapi_antipatterns.check.runner import Job, run_checks

        config = load_config(cwd, _command_line(args), config_file=args.config, isolated=args.isolated)
    except (MissingDependency, ConfigError) as error:
        print(f"faa: {error}", file=err)
        return EXIT_ERROR
    files = discover(args.paths, Excludes(config.root, config.exclude, config.extend_exclude))
    if not files:
        print(f"faa: no Python files found under {' '.join(map(str, args.paths))}", file=err)
    job = Job(config.settings, config.selection, PerFileIgnores(config.root, config.per_file_ignores), cwd)
    progress = Progress(len(files), err, Progress.wanted(err, args.no_progress))
    try:
        findings = run_checks(files, job, args.jobs, progress.advance)
    finally:
        progress.close()
    report = CheckReport(root=cwd, findings=findings, files_checked=len(files))
    try:
        if args.write_baseline:
            count = write_baseline(args.baseline, report)
            print(f"faa: wrote {count} findings to {args.baseline}", file=err)
            return EXIT_CLEAN
        if args.baseline is not None:
            report = replace(report, findings=load_baseline(args.baseline).new_findings(report))
    except (BaselineError, OSError) as error:
        print(f"faa: baseline {args.baseline}: {error}", file=err)
        return EXIT_ERROR
    write = FORMATS[args.output_format]
    if args.output_file is not None:
        with args.output_file.open("w", encoding="utf-8") as target:
            write(report, target)
    else:
        write(report, out)
    return EXIT_CLEAN if args.exit_zero or not report.findings else EXIT_FINDINGS


def run(args: argparse.Namespace, *, stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    out = stdout if stdout is not None else sys.stdout
    err = stderr if stderr is not None else sys.stderr
    handler = _log_to(err)
    try:
        return _check(args, out, err)
    except Exception:
        print("faa: internal error; please report it with this trace:", file=err)
        traceback.print_exc(file=err)
        return EXIT_ERROR
    finally:
        logging.getLogger("flake8_fastapi_antipatterns").removeHandler(handler)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
