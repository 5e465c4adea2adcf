"""pytest plugin of the runtime guard (entry point ``pytest11``, name ``runtime_guard``).

* ``--runtime-guard`` (or ``--runtime-guard=fail``): every app a test drives
  through ``fastapi.testclient.TestClient`` / ``starlette.testclient.TestClient``
  or ``httpx.ASGITransport`` is wrapped in a ``RuntimeGuard``; a test whose
  requests showed an anti-pattern fails with the findings listed.
  ``--runtime-guard=warn`` reports instead of failing: the findings go to the
  test's report (a "runtime guard" section, and JUnit XML ``<property>``
  elements), to the terminal summary and, with ``--runtime-guard-jsonl PATH``,
  to a JSON-lines file.  No Python warning is issued, so a suite that sets
  ``filterwarnings = error`` still only warns.  ``--runtime-guard=off``
  switches an ini ``runtime_guard = fail`` off.
* under pytest-xdist each worker sends its findings to the controller, whose
  summary lists them all (app-wide findings once).
* the ``runtime_guard`` fixture wraps an app explicitly (``runtime_guard(app)``)
  and gives the test its findings; using it opts the test in even without
  the option.
* ``@pytest.mark.runtime_guard_allow("FAA102", ...)`` lets codes pass in one test.

Importing this module costs nothing beyond pytest itself, and a session that
neither passes the option nor uses the fixture is not changed at all: the
hooks return at once and the guard machinery (``runtime_guard.testing``) is
only imported when used.
"""

from __future__ import annotations

import argparse
import os
import warnings
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from runtime_guard.testing import ClientPatch, Collector, RuntimeGuardFixture, TestRecord

MODES = ("fail", "warn", "off")
# ``runtime_guard.config.DEFAULT_BLOCK_THRESHOLD``, written out for the option's help: importing the
# guard here would cost every pytest run that merely has the plugin installed (a test keeps them equal).
DEFAULT_BLOCK_THRESHOLD_SHOWN = "0.075"
ALLOW_MARKER = "runtime_guard_allow"


class RuntimeGuardWarning(UserWarning):
    """Kept for code that imports it; warn mode no longer issues Python warnings (a suite's
    ``filterwarnings = error`` would turn them into failures)."""


WORKER_OUTPUT_KEY = "runtime_guard"
"""Where an xdist worker puts its findings for the controller (``config.workeroutput``)."""


@dataclass
class _State:
    """The plugin's state in one session; the collector exists once something is guarded."""

    mode: str
    block_threshold: float | None
    ignore: tuple[str, ...]
    collector: Collector | None = None
    patch: ClientPatch | None = None
    patched: list[str] = field(default_factory=list)
    records: dict[str, TestRecord] = field(default_factory=dict)
    failed_tests: list[str] = field(default_factory=list)
    warned_tests: list[str] = field(default_factory=list)
    lines: dict[str, list[str]] = field(default_factory=dict)
    """The findings of each test that had some, as the summary lists them."""
    jsonl: Any = None
    """A ``JsonLinesSink`` when ``--runtime-guard-jsonl`` names a file."""
    from_workers: list[dict[str, Any]] = field(default_factory=list)
    """What xdist workers reported (on the controller)."""

    @property
    def auto(self) -> bool:
        return self.mode != "off"

    def ensure_collector(self) -> Collector:
        if self.collector is None:
            from runtime_guard.testing import Collector

            self.collector = Collector(block_threshold=self.block_threshold, ignore=self.ignore)
        return self.collector


_STATE = pytest.StashKey[_State]()
_PATHS_DEST = "runtime_guard_paths"


class _ModeOrTestPath(argparse.Action):
    """``--runtime-guard`` with an optional mode, that gives back a test path it swallowed.

    argparse hands an option with an optional value the next word, so
    ``pytest --runtime-guard tests/`` would read ``tests/`` as the mode.  A word that
    is no mode but names an existing path is taken for what the user meant: the mode
    is ``fail`` and the path goes back to the paths to collect (``pytest_configure``).
    Anything else is still an invalid choice, so a typo (``--runtime-guard=wran``) is
    not mistaken for a path.
    """

    def __call__(
        self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any, option_string: str | None = None
    ) -> None:
        if values is None or values in MODES:
            setattr(namespace, self.dest, values or "fail")
            return
        if isinstance(values, str) and os.path.exists(values.split("::", 1)[0]):
            setattr(namespace, self.dest, "fail")
            setattr(namespace, _PATHS_DEST, [*(getattr(namespace, _PATHS_DEST, None) or []), values])
            return
        raise argparse.ArgumentError(self, f"invalid choice: {values!r} (choose from {', '.join(MODES)})")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("runtime-guard", "runtime guard (FastAPI anti-patterns seen while tests run)")
    group.addoption(
        "--runtime-guard",
        action=_ModeOrTestPath,
        nargs="?",
        default=None,
        dest="runtime_guard",
        metavar="fail|warn|off",
        help=(
            "guard every app driven by TestClient or httpx.ASGITransport: a test that shows an anti-pattern "
            "fails (fail, the default when given without a value) or warns (warn)."
        ),
    )
    group.addoption(
        "--runtime-guard-jsonl",
        default=None,
        dest="runtime_guard_jsonl",
        metavar="PATH",
        help="also append every finding to this JSON-lines file, with the test it came from",
    )
    parser.addini("runtime_guard", "fail | warn | off: as --runtime-guard (the option wins)", default="off")
    parser.addini("runtime_guard_jsonl", "as --runtime-guard-jsonl (the option wins)", default="")
    parser.addini("runtime_guard_ignore", "FAA codes the runtime guard never reports in tests", type="args", default=[])
    parser.addini(
        "runtime_guard_block_threshold",
        "seconds the event loop may stall before FAA101/FAA102 is reported in tests "
        f"(default: the guard's, {DEFAULT_BLOCK_THRESHOLD_SHOWN})",
        default="",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{ALLOW_MARKER}(*codes): the runtime guard lets these FAA codes pass in this test (every code when none is given)",
    )
    _restore_test_paths(config)
    mode = config.getoption("runtime_guard", None) or str(config.getini("runtime_guard") or "off").strip().lower()
    if mode not in MODES:
        raise pytest.UsageError(f"runtime_guard: expected one of {', '.join(MODES)}, not {mode!r}")
    raw_threshold = str(config.getini("runtime_guard_block_threshold") or "").strip()
    try:
        threshold = float(raw_threshold) if raw_threshold else None
    except ValueError:
        raise pytest.UsageError(f"runtime_guard_block_threshold: expected seconds, not {raw_threshold!r}") from None
    if threshold is not None and threshold <= 0:
        raise pytest.UsageError(f"runtime_guard_block_threshold: expected a positive number, not {raw_threshold!r}")
    state = _State(mode=mode, block_threshold=threshold, ignore=tuple(config.getini("runtime_guard_ignore")))
    jsonl = config.getoption("runtime_guard_jsonl", None) or str(config.getini("runtime_guard_jsonl") or "").strip()
    if jsonl and state.auto:
        from flake8_fastapi_antipatterns.sinks import JsonLinesSink

        try:
            state.jsonl = JsonLinesSink(config.rootpath / jsonl)
        except OSError as error:
            raise pytest.UsageError(f"runtime_guard_jsonl: cannot open {jsonl!r}: {error}") from None
    config.stash[_STATE] = state
    if state.auto:
        from runtime_guard.testing import ClientPatch

        collector = state.ensure_collector()
        state.patch = ClientPatch(collector.wrap_client_app)
        state.patched = state.patch.install()


def _restore_test_paths(config: pytest.Config) -> None:
    """Give back the paths ``--runtime-guard`` swallowed (``pytest --runtime-guard tests/``)."""
    swallowed = getattr(config.option, _PATHS_DEST, None)
    if not swallowed:
        return
    source = getattr(config, "args_source", None)
    given = source is not None and source == pytest.Config.ArgsSource.ARGS
    # Without other paths on the command line pytest fell back to testpaths or the current
    # directory: the swallowed paths replace that default instead of adding to it.
    config.args = [*swallowed, *config.args] if given else list(swallowed)
    setattr(config.option, _PATHS_DEST, None)


def pytest_unconfigure(config: pytest.Config) -> None:
    state = config.stash.get(_STATE, None)
    if state is None:
        return
    if state.patch is not None:
        state.patch.uninstall()
    if state.collector is not None:
        state.collector.shutdown()
    if state.jsonl is not None:
        state.jsonl.close()


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """(xdist controller) a worker finished: keep what it reported for the summary."""
    state = node.config.stash.get(_STATE, None)
    output = getattr(node, "workeroutput", None) or {}
    if state is not None and isinstance(output.get(WORKER_OUTPUT_KEY), dict):
        state.from_workers.append(output[WORKER_OUTPUT_KEY])


def pytest_report_header(config: pytest.Config) -> str | None:
    state = config.stash.get(_STATE, None)
    if state is None or not state.auto:
        return None
    return f"runtime guard: {state.mode} (guarding apps served by {', '.join(state.patched) or 'nothing: no client found'})"


@pytest.hookimpl(tryfirst=True)
def pytest_collection(session: pytest.Session) -> None:
    # Importing the clients at configure time kept their import-time warnings back;
    # issued here, pytest records them as it would have during collection.
    state = session.config.stash.get(_STATE, None)
    if state is None or state.patch is None:
        return
    pending, state.patch.import_warnings = state.patch.import_warnings, []
    for caught in pending:
        warnings.warn_explicit(caught.message, caught.category, caught.filename, caught.lineno)


# -- the fixture ---------------------------------------------------------------


@pytest.fixture
def runtime_guard(request: pytest.FixtureRequest) -> RuntimeGuardFixture:
    """Wrap an app in a guard for this test: ``client = TestClient(runtime_guard(app))``.

    The test fails when the guard sees an anti-pattern (warns with
    ``--runtime-guard=warn``); ``runtime_guard.findings`` lists what it saw.
    """
    from runtime_guard.testing import RuntimeGuardFixture

    state = request.config.stash[_STATE]
    record = _record(state, request.node)
    return RuntimeGuardFixture(state.ensure_collector(), record)


def _record(state: _State, item: pytest.Item) -> TestRecord:
    """The test's record, made (and made current) on first need."""
    record = state.records.get(item.nodeid)
    if record is None:
        collector = state.ensure_collector()
        record = collector.begin(item.nodeid)
        for marker in item.iter_markers(ALLOW_MARKER):
            if marker.args:
                record.allowed.update(str(code) for code in marker.args)
            else:
                record.allow_all = True
        state.records[item.nodeid] = record
    return record


# -- the test protocol ---------------------------------------------------------


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    state = item.config.stash.get(_STATE, None)
    if state is not None and state.auto:
        _record(state, item)


@pytest.hookimpl(trylast=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    # After the fixtures are set up: a guard started by a fixture (a client with its
    # lifespan) is re-armed, so it watches the output capture of the call phase.
    state = item.config.stash.get(_STATE, None)
    if state is not None and state.collector is not None and item.nodeid in state.records:
        state.collector.flush()


@pytest.hookimpl(trylast=True)
def pytest_runtest_call(item: pytest.Item) -> None:
    # Runs after the test function returned without failing (trylast: after pytest's own
    # call hook); a finding fails the test here, inside the call phase.
    _judge(item, "call")


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> None:
    # A test that failed on its own: its findings are added to the report as a section.
    state = item.config.stash.get(_STATE, None)
    record = state.records.get(item.nodeid) if state is not None else None
    if state is None or state.collector is None or record is None:
        return
    if call.when == "teardown":
        _end(state, item)  # teardown raised before the guard's teardown hook could end the record
        return
    if call.when != "call" or call.excinfo is None:
        return
    findings = state.collector.judge(record)
    if findings:
        item.add_report_section("call", "runtime guard", "\n".join(_lines(item, findings)))


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    # Findings of fixture teardown (an app's shutdown) count too: an error in teardown.
    _judge(item, "teardown")


def _judge(item: pytest.Item, phase: str) -> None:
    state = item.config.stash.get(_STATE, None)
    record = state.records.get(item.nodeid) if state is not None else None
    if state is None or state.collector is None or record is None:
        return
    if phase == "teardown":
        try:
            findings = state.collector.judge(record)
        finally:
            _end(state, item)
    else:
        findings = state.collector.judge(record)
    if not findings:
        return
    lines = _lines(item, findings)
    state.lines.setdefault(item.nodeid, []).extend(lines)
    # JUnit XML carries them as <property name="runtime_guard" value="FAA102 ..."/>, one per finding.
    item.user_properties.extend(("runtime_guard", line) for line in lines)
    if state.jsonl is not None:
        for finding in findings:
            state.jsonl.emit(replace(finding, details={**finding.details, "test": item.nodeid}))
    if state.mode == "warn":
        state.warned_tests.append(item.nodeid)
        item.add_report_section(phase, "runtime guard", "\n".join(lines))
        return
    state.failed_tests.append(item.nodeid)
    codes = sorted({f.code for f in findings})
    allow = ", ".join(f'"{code}"' for code in codes)
    heading = f"runtime guard: {len(findings)} finding{'s' if len(findings) > 1 else ''} while this test ran"
    if phase == "teardown":
        heading += " (during teardown)"
    hint = f"Allow in this test with @pytest.mark.{ALLOW_MARKER}({allow}), or only warn with --runtime-guard=warn."
    pytest.fail("\n".join([heading, *(f"  {line}" for line in lines), hint]), pytrace=False)


def _end(state: _State, item: pytest.Item) -> None:
    if state.records.pop(item.nodeid, None) is not None and state.collector is not None:
        state.collector.end()


def _lines(item: pytest.Item, findings: list[Any]) -> list[str]:
    from runtime_guard.testing import format_findings

    return format_findings(findings, str(item.config.rootpath))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """(xdist worker) hand the findings to the controller, app-wide ones included."""
    config = session.config
    state = config.stash.get(_STATE, None)
    workeroutput = getattr(config, "workeroutput", None)
    if state is None or workeroutput is None:
        return
    root = str(config.rootpath)
    collector = state.collector
    from runtime_guard.testing import format_findings

    workeroutput[WORKER_OUTPUT_KEY] = {
        "failed": list(dict.fromkeys(state.failed_tests)),
        "warned": list(dict.fromkeys(state.warned_tests)),
        "lines": state.lines,
        "app_level": format_findings(list(collector.app_level.values()), root) if collector is not None else [],
        "outside": format_findings(collector.outside, root) if collector is not None else [],
    }


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    state = config.stash.get(_STATE, None)
    if state is None or (state.collector is None and not state.from_workers):
        return
    if getattr(config, "workeroutput", None) is not None:
        return  # an xdist worker: the controller prints the summary
    root = str(config.rootpath)
    from runtime_guard.testing import format_findings

    collector = state.collector
    failed = list(dict.fromkeys(state.failed_tests))
    warned = list(dict.fromkeys(state.warned_tests))
    lines = dict(state.lines)
    app_level = format_findings(list(collector.app_level.values()), root) if collector is not None else []
    outside = format_findings(collector.outside, root) if collector is not None else []
    for worker in state.from_workers:
        failed.extend(worker.get("failed", ()))
        warned.extend(worker.get("warned", ()))
        lines.update(worker.get("lines", {}))
        app_level.extend(worker.get("app_level", ()))
        outside.extend(worker.get("outside", ()))
    writer = terminalreporter
    writer.section("runtime guard")
    if failed:
        writer.write_line(f"{len(failed)} test(s) failed on findings: {', '.join(failed)}")
    for nodeid in warned:
        writer.write_line(f"{nodeid}: {len(lines.get(nodeid, []))} finding(s)")
        for line in lines.get(nodeid, []):
            writer.write_line(f"  {line}")
    if not failed and not warned:
        writer.write_line("no test showed an anti-pattern")
    app_level = list(dict.fromkeys(app_level))
    if app_level:
        writer.write_line("app-wide findings (listed once, they fail no test):")
        for line in app_level:
            writer.write_line(f"  {line}")
    if outside:
        writer.write_line("findings outside any test:")
        for line in dict.fromkeys(outside):
            writer.write_line(f"  {line}")
