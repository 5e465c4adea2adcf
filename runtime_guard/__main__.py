"""``python -m runtime_guard``: the command line of the runtime guard (``probe``)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def build_parser() -> argparse.ArgumentParser:
    from runtime_guard.probe.cli import EPILOG, add_arguments

    parser = argparse.ArgumentParser(
        prog="python -m runtime_guard", description="The runtime half of the FAA rules: the guard's command line."
    )
    commands = parser.add_subparsers(dest="command", metavar="command")
    probe = commands.add_parser(
        "probe",
        help="exercise an app in-process under the guard and report the FAA codes it shows",
        description=(
            "Import the app, run its lifespan, mount the runtime guard and exercise every route with valid "
            "requests generated from its OpenAPI schema, plus CORS, bad-body, burst and health probes. "
            "No server, no network."
        ),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_arguments(probe)
    probe.set_defaults(command_parser=probe)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_usage(sys.stderr)
            print("error: a command is required (probe)", file=sys.stderr)
            return 2
        from runtime_guard.probe.cli import run

        return run(args.command_parser, args)
    except SystemExit as exc:  # argparse's usage errors (2) and --help (0), as a return value
        return exc.code if isinstance(exc.code, int) else 2


if __name__ == "__main__":
    raise SystemExit(main())
