"""``python -m runtime_guard probe module:app``: the command line of the probe.

Exit status: 0 nothing found, 1 findings, 2 usage errors and apps that cannot be loaded or started.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import traceback
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, TextIO

from flake8_fastapi_antipatterns.options import DEFAULT_HEALTH_PATHS
from runtime_guard.config import DEFAULT_BLOCK_THRESHOLD

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
KNOWN_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")

EPILOG = """\
examples:
  python -m runtime_guard probe main:app
  runtime-guard probe myproject.api:create_app() --app-dir src --time-budget 120
  runtime-guard probe main:app --exclude-path '/admin*' --include-methods PUT,PATCH
  runtime-guard probe main:app --format json --output probe.jsonl
  runtime-guard probe main:app --header 'Authorization: Bearer dev-token' --client-factory tests.probe_auth:login
  python -m flake8_fastapi_antipatterns report --lint app/ --runtime probe.jsonl --format html

exit status: 0 no findings, 1 findings, 2 usage error or the app could not be loaded/started
"""


def _positive(kind: type[Any]) -> Any:
    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, not {text!r}") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"expected a positive number, not {text!r}")
        return value

    return parse


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, not {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected zero or more, not {text!r}")
    return value


def _split(values: Sequence[str] | None) -> list[str]:
    return [part.strip() for value in values or () for part in value.split(",") if part.strip()]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("app", metavar="APP", help="the app as `module:attribute`, or `module:factory()` for a factory")
    parser.add_argument("--factory", action="store_true", help="APP names a factory: call it to get the app")
    parser.add_argument("--app-dir", default=".", metavar="DIR", help="directory added to sys.path first (default: .)")
    run = parser.add_argument_group("how much to send")
    run.add_argument("--max-examples", type=_positive(int), default=10, metavar="N", help="valid requests per route at most (default: 10)")
    run.add_argument("--time-budget", type=_positive(float), default=60.0, metavar="SECONDS", help="for the whole run (default: 60)")
    run.add_argument("--request-timeout", type=_positive(float), default=10.0, metavar="SECONDS", help="per request (default: 10)")
    run.add_argument("--burst", type=_non_negative_int, default=120, metavar="N", help="requests in the rate-limit burst; 0 skips it (default: 120)")
    run.add_argument("--burst-window", type=_positive(float), default=10.0, metavar="SECONDS", help="the burst must fit in it (default: 10)")
    run.add_argument(
        "--oversized-bytes", type=_positive(int), default=1024 * 1024, metavar="N", help="size of an unbounded oversized field (default: 1 MiB)"
    )
    run.add_argument("--seed", type=int, default=0, help="seed of the generated requests (default: 0)")
    run.add_argument("--base-url", default="http://localhost", help="scheme and host the requests claim (default: http://localhost)")
    auth = parser.add_argument_group("credentials")
    auth.add_argument(
        "--header",
        action="append",
        default=[],
        metavar="'NAME: VALUE'",
        help="sent with every request, e.g. 'Authorization: Bearer x' (repeatable; replaces a generated header of the same name)",
    )
    auth.add_argument(
        "--client-factory",
        metavar="MODULE:FUNCTION",
        help="called once after start-up (with the app if it takes an argument; may be async): returns headers, "
        "a ClientSetup, a client to take headers/cookies/auth from, or None after setting app.dependency_overrides",
    )
    safety = parser.add_argument_group("what not to touch")
    safety.add_argument(
        "--exclude-path", action="append", default=[], metavar="GLOB", help="never send to paths matching GLOB (repeatable; `*` matches `/` too)"
    )
    safety.add_argument(
        "--include-methods",
        action="append",
        metavar="METHODS",
        help="also exercise these methods (comma-separated: PUT,PATCH,DELETE); only GET and POST are by default",
    )
    safety.add_argument("--exclude-methods", action="append", metavar="METHODS", help="do not exercise these methods (e.g. POST)")
    guard = parser.add_argument_group("the guard's thresholds")
    guard.add_argument(
        "--slow-request-threshold",
        type=_positive(float),
        default=1.0,
        metavar="SECONDS",
        help="a request slower than this without blocking the loop is FAA103 (default: 1; the guard's own default is 10)",
    )
    guard.add_argument(
        "--block-threshold", type=_positive(float), default=DEFAULT_BLOCK_THRESHOLD, metavar="SECONDS", help=f"a loop stall longer than this is FAA101/FAA102 (default: {DEFAULT_BLOCK_THRESHOLD})"
    )
    guard.add_argument(
        "--health-path", action="append", metavar="PATH", help=f"a health path (repeatable; default: {', '.join(DEFAULT_HEALTH_PATHS)})"
    )
    out = parser.add_argument_group("output")
    out.add_argument("--select", action="append", metavar="CODES", help="report only these codes or prefixes (comma-separated)")
    out.add_argument("--ignore", action="append", metavar="CODES", help="do not report these codes or prefixes")
    out.add_argument(
        "--config",
        metavar="FILE",
        help="read select/ignore from FILE (pyproject.toml [tool.runtime-guard.probe], or [flake8] of setup.cfg/tox.ini/.flake8); "
        "default: the first such file from the app directory up to the repository root",
    )
    out.add_argument("--isolated", action="store_true", help="read no configuration file")
    out.add_argument("--requests-log", metavar="FILE", help="write every request sent and its status here (JSON lines)")
    out.add_argument("--format", choices=("text", "json", "sarif"), default="text", help="text (default), json (JSON lines) or sarif")
    out.add_argument("--output", "-o", metavar="FILE", help="write the findings here instead of standard output")
    out.add_argument("--no-progress", action="store_true", help="no progress bar (it is only drawn when stderr is a terminal)")
    out.add_argument("--quiet", "-q", action="store_true", help="no summary on stderr with --format json/sarif")


def _methods(parser: argparse.ArgumentParser, args: argparse.Namespace) -> frozenset[str]:
    from runtime_guard.probe.runner import DEFAULT_METHODS

    included = {m.upper() for m in _split(args.include_methods)}
    excluded = {m.upper() for m in _split(args.exclude_methods)}
    unknown = sorted((included | excluded) - set(KNOWN_METHODS))
    if unknown:
        parser.error(f"unknown method(s) {', '.join(unknown)}: choose from {', '.join(KNOWN_METHODS)}")
    return frozenset((DEFAULT_METHODS | included) - excluded)


def run(parser: argparse.ArgumentParser, args: argparse.Namespace, *, stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    try:
        from runtime_guard.probe.credentials import ClientSetupError, load_factory, parse_header
        from runtime_guard.probe.lifespan import LifespanError
        from runtime_guard.probe.loader import AppLoadError, load_app
        from runtime_guard.probe.output import CodeSettings, render, text_report
        from runtime_guard.probe.progress import Progress
        from runtime_guard.probe.project_config import CodeChoice, ConfigError, find_config, read_config
        from runtime_guard.probe.requests_log import RequestsLog
        from runtime_guard.probe.runner import Probe, ProbeOptions
    except ImportError as exc:
        print(
            f"error: the probe needs hypothesis and httpx ({exc}); install them with "
            "`pip install 'flake8-fastapi-antipatterns[probe]'`",
            file=stderr,
        )
        return EXIT_ERROR
    try:
        headers = tuple(parse_header(text) for text in args.header)
        if args.isolated:
            choice = CodeChoice()
        elif args.config:
            choice = read_config(Path(args.config))
        else:
            choice = find_config(Path(args.app_dir))
    except (ClientSetupError, ConfigError) as exc:
        print(f"error: {exc}", file=stderr)
        return EXIT_ERROR
    for note in choice.notes:
        print(f"warning: {note}", file=stderr)
    select, ignore = choice.resolved(_split(args.select), _split(args.ignore))
    settings = CodeSettings(select, ignore, choice.source)
    options = ProbeOptions(
        max_examples=args.max_examples,
        time_budget=args.time_budget,
        request_timeout=args.request_timeout,
        slow_request_threshold=args.slow_request_threshold,
        block_threshold=args.block_threshold,
        burst=args.burst,
        burst_window=args.burst_window,
        oversized_bytes=args.oversized_bytes,
        exclude_paths=tuple(args.exclude_path),
        methods=_methods(parser, args),
        health_paths=tuple(args.health_path) if args.health_path else DEFAULT_HEALTH_PATHS,
        select=select,
        ignore=ignore,
        seed=args.seed,
        base_url=args.base_url,
        headers=headers,
    )
    progress = Progress(None if args.no_progress else stderr, budget=options.time_budget)
    try:
        log = RequestsLog(args.requests_log) if args.requests_log else None
    except OSError as exc:
        print(f"error: cannot write {args.requests_log}: {exc.strerror or exc}", file=stderr)
        return EXIT_ERROR
    # What the app prints goes to stderr: standard output carries only the report.
    with contextlib.redirect_stdout(stderr):
        try:
            loaded = load_app(args.app, app_dir=args.app_dir, factory=args.factory)
            if args.client_factory:
                options = replace(options, client_factory=load_factory(args.client_factory))
            probe = Probe(loaded.app, options, app_site=loaded.site, progress=progress, on_request=log.write if log else None)
            result = asyncio.run(probe.run())
        except (AppLoadError, LifespanError, ClientSetupError) as exc:
            print(f"error: {exc}", file=stderr)
            return EXIT_ERROR
        except Exception:  # a fault of the probe itself must not look like findings (exit 1)
            traceback.print_exc(file=stderr)
            print("error: the probe failed (the traceback above); please report it", file=stderr)
            return EXIT_ERROR
        finally:
            if log is not None:
                log.close()
    text = render(args.format, args.app, result, settings)
    try:
        if args.output:
            with open(args.output, "w", encoding="utf-8") as handle:
                handle.write(text)
        else:
            stdout.write(text)
            stdout.flush()
    except OSError as exc:
        print(f"error: cannot write {args.output}: {exc.strerror or exc}", file=stderr)
        return EXIT_ERROR
    if args.format != "text" and not args.quiet:
        stderr.write(text_report(args.app, result, settings=settings))
    elif args.format == "text" and args.output and not args.quiet:
        stderr.write(f"{len(result.findings)} finding(s) written to {args.output}\n")
    return EXIT_FINDINGS if result.findings else EXIT_CLEAN
