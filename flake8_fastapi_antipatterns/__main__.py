"""``python -m flake8_fastapi_antipatterns``: the rule list, rule docs, docs generation, the combined report,
and ``check`` (the rules without flake8, also installed as ``faa check``)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from flake8_fastapi_antipatterns import __version__
from flake8_fastapi_antipatterns.catalogue import CATALOGUE, get
from flake8_fastapi_antipatterns.check import cli as check_cli
from flake8_fastapi_antipatterns.docs import rule_text, stale_pages, with_readme_table, write_pages
from flake8_fastapi_antipatterns.report import cli as report_cli


def _codes_epilog() -> str:
    lines = ["rules:"]
    for rule in CATALOGUE.values():
        suffix = "" if rule.default_on else "  (opt-in)"
        lines.append(f"  {rule.code}  {rule.title}{suffix}")
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m flake8_fastapi_antipatterns",
        description="FastAPI anti-pattern rules (FAA codes). Lint with `flake8 --select FAA` or `faa check`.",
        epilog=_codes_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=__version__)
    commands = parser.add_subparsers(dest="command", metavar="command")
    commands.add_parser("rules", help="list every FAA code with its title")
    explain = commands.add_parser("explain", help="print one rule's documentation")
    explain.add_argument("code", help="an FAA code, e.g. FAA101")
    docs = commands.add_parser("docs", help="write one Markdown page per rule")
    docs.add_argument("--out", type=Path, default=Path("docs/rules"), help="directory (default: docs/rules)")
    docs.add_argument("--readme", type=Path, default=Path("README.md"), help="README whose rules table to refresh")
    docs.add_argument("--check", action="store_true", help="exit 1 if the pages differ from the catalogue")
    report_cli.add_parser(commands)
    check_cli.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "rules":
        for rule in CATALOGUE.values():
            default = "on " if rule.default_on else "off"
            print(f"{rule.code}  {default}  {rule.title}")
        return 0
    if args.command == "explain":
        try:
            rule = get(args.code.upper())
        except KeyError as exc:
            print(exc.args[0], file=sys.stderr)
            return 2
        print(rule_text(rule))
        return 0
    if args.command == "docs":
        readme = args.readme.read_text(encoding="utf-8") if args.readme.is_file() else None
        if args.check:
            stale = [str(args.out / name) for name in stale_pages(args.out)]
            if readme is not None and with_readme_table(readme) != readme:
                stale.append(str(args.readme))
            for name in stale:
                print(f"stale: {name}", file=sys.stderr)
            return 1 if stale else 0
        for path in write_pages(args.out):
            print(path)
        if readme is not None and with_readme_table(readme) != readme:
            args.readme.write_text(with_readme_table(readme), encoding="utf-8")
            print(args.readme)
        return 0
    if args.command == "report":
        return report_cli.run(args)
    if args.command == "check":
        return check_cli.run(args)
    parser.print_help()
    return 0


if __name__ == "__main__":
    sys.exit(main())
