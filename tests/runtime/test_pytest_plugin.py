"""The pytest plugin, run the way users run it: pytest sessions inside this one (pytester)."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap

import anyio.pytest_plugin  # noqa: F401
import fastapi.testclient  # noqa: F401
import httpx  # noqa: F401
import pytest
import sqlalchemy  # noqa: F401 - the guard instruments it when installed
from starlette.testclient import TestClient

import runtime_guard.testing  # noqa: F401

# The inner sessions run in this process: pytester drops the modules they import
# afterwards, and FastAPI/pydantic imported afresh for every session misbehave
# (and cost seconds).  Imported here, they stay loaded.
pytest_plugins = ["pytester"]

# Loaded by name as well as by entry point, so the inner sessions have the plugins
# even where PYTEST_DISABLE_PLUGIN_AUTOLOAD is set.
PLUGINS = ("-p", "runtime_guard", "-p", "anyio", "-p", "no:hypothesispytest")

APP = textwrap.dedent(
    """\
    import asyncio
    import time

    import httpx
    import pytest
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    app = FastAPI()


    @app.get("/health")
    async def health():
        return {"ok": True}


    @app.get("/block")
    async def block():
        time.sleep(0.3)  # BLOCKING LINE
        return {"ok": True}


    @app.get("/print")
    async def shout():
        print("handling /print")  # PRINT LINE
        return {"ok": True}


    @app.get("/clean")
    async def clean():
        await asyncio.sleep(0.01)
        return {"ok": True}


    module_client = TestClient(app)  # made while the module is collected


    @pytest.fixture
    def client():
        with TestClient(app) as started:  # lifespan starts in setup, requests come in the call phase
            yield started


    @pytest.fixture
    def anyio_backend():
        return "asyncio"
    """
)

TESTS = textwrap.dedent(
    """
    def test_block_testclient():
        assert TestClient(app).get("/block").json() == {"ok": True}


    def test_block_httpx():
        async def go():
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
                return await http.get("/block")

        assert asyncio.run(go()).json() == {"ok": True}


    @pytest.mark.anyio
    async def test_block_anyio():
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
            assert (await http.get("/block")).json() == {"ok": True}


    @pytest.mark.runtime_guard_allow("FAA102")
    def test_block_allowed():
        assert TestClient(app).get("/block").status_code == 200


    def test_clean():
        with TestClient(app) as http:
            assert http.get("/clean").status_code == 200
            assert http.get("/health").status_code == 200


    def test_module_client_print():
        assert module_client.get("/print").status_code == 200


    def test_fixture_client_print(client):
        assert client.get("/print").status_code == 200


    def test_fails_on_its_own():
        TestClient(app).get("/print")
        assert 1 == 2
    """
)

SOURCE = APP + TESTS


def line_with(marker: str) -> int:
    return next(n for n, line in enumerate(SOURCE.splitlines(), 1) if marker in line)


def failure_section(output: str, test: str) -> str:
    """The text pytest printed under ``____ test ____`` in the failures."""
    match = re.search(rf"_+ {re.escape(test)} _+\n(.*?)(?=\n_{{3,}} \w|\n=+ )", output, re.S)
    assert match, f"no failure section for {test}:\n{output}"
    return match.group(1)


def failed_tests(result: pytest.RunResult) -> set[str]:
    return set(re.findall(r"^FAILED \S+::(\w+)", result.stdout.str(), re.M))


@pytest.fixture
def guarded_tests(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyfile(test_guarded=SOURCE)
    return pytester


def test_fail_mode_fails_each_test_that_showed_an_anti_pattern(guarded_tests: pytest.Pytester) -> None:
    result = guarded_tests.runpytest(*PLUGINS, "--runtime-guard")
    output = result.stdout.str()
    result.assert_outcomes(passed=2, failed=6)
    block, printed = line_with("BLOCKING LINE"), line_with("PRINT LINE")
    for test in ("test_block_testclient", "test_block_httpx", "test_block_anyio"):
        section = failure_section(output, test)
        assert re.search(rf"FAA102 test_guarded\.py:{block}: event loop blocked for 0\.\d+ s in `block`", section), section
        assert "while serving GET /block" in section
        assert 'runtime_guard_allow("FAA102")' in section  # the failure says how to allow it
        assert "FAA402" not in section and "FAA401" not in section
    for test in ("test_module_client_print", "test_fixture_client_print"):
        section = failure_section(output, test)
        assert f"FAA402 test_guarded.py:{printed}: `shout` wrote to stdout" in section, section
        assert "FAA102" not in section
    # A test that failed by itself keeps its own failure and lists the findings beside it.
    own = failure_section(output, "test_fails_on_its_own")
    assert "assert 1 == 2" in own and "runtime guard" in own and f"FAA402 test_guarded.py:{printed}" in own
    assert failed_tests(result) == {
        "test_block_testclient",
        "test_block_httpx",
        "test_block_anyio",
        "test_module_client_print",
        "test_fixture_client_print",
        "test_fails_on_its_own",
    }  # not test_block_allowed (marker), not test_clean
    result.stdout.fnmatch_lines(["*runtime guard: fail (guarding apps served by starlette.testclient.TestClient, httpx.ASGITransport)*"])
    assert result.ret == pytest.ExitCode.TESTS_FAILED


def _warn_summary(output: str) -> str:
    return output.split("runtime guard ====")[1]


def test_warn_mode_reports_in_the_summary_without_python_warnings(guarded_tests: pytest.Pytester) -> None:
    result = guarded_tests.runpytest(*PLUGINS, "--runtime-guard=warn", "-W", "ignore::DeprecationWarning")
    result.assert_outcomes(passed=7, failed=1)  # test_fails_on_its_own still fails on its assert; no warnings
    output = result.stdout.str()
    assert "RuntimeGuardWarning" not in output
    summary = _warn_summary(output)
    assert summary.count(f"FAA102 test_guarded.py:{line_with('BLOCKING LINE')}") == 3
    assert summary.count(f"FAA402 test_guarded.py:{line_with('PRINT LINE')}") >= 2
    for test in ("test_block_testclient", "test_block_httpx", "test_block_anyio", "test_module_client_print"):
        assert f"test_guarded.py::{test}: 1 finding(s)" in summary, summary
    assert "test_block_allowed" not in summary and "test_clean" not in summary


def test_warn_mode_stays_a_warning_under_filterwarnings_error(guarded_tests: pytest.Pytester) -> None:
    # Serious suites turn every warning into an error; warn mode must still not fail a test.
    guarded_tests.makeini("[pytest]\nfilterwarnings =\n    error\n    ignore::DeprecationWarning\n")
    result = guarded_tests.runpytest(*PLUGINS, "--runtime-guard=warn")
    result.assert_outcomes(passed=7, failed=1)
    assert failed_tests(result) == {"test_fails_on_its_own"}
    assert "test_block_testclient: 1 finding(s)" in _warn_summary(result.stdout.str())


def test_findings_reach_junit_xml_and_json_lines(guarded_tests: pytest.Pytester) -> None:
    import json
    import xml.etree.ElementTree as ET

    result = guarded_tests.runpytest(
        *PLUGINS, "--runtime-guard=warn", "-W", "ignore::DeprecationWarning",
        "--junitxml=report.xml", "--runtime-guard-jsonl=findings.jsonl",
    )  # fmt: skip
    result.assert_outcomes(passed=7, failed=1)
    cases = {case.get("name"): case for case in ET.parse(guarded_tests.path / "report.xml").iter("testcase")}
    values = [p.get("value") or "" for p in cases["test_block_httpx"].iter("property") if p.get("name") == "runtime_guard"]
    assert len(values) == 1 and values[0].startswith(f"FAA102 test_guarded.py:{line_with('BLOCKING LINE')}"), values
    assert not [p for p in cases["test_clean"].iter("property")]
    records = [json.loads(line) for line in (guarded_tests.path / "findings.jsonl").read_text().splitlines()]
    by_test = {(r["details"]["test"].rsplit("::", 1)[-1], r["code"]) for r in records}
    assert ("test_block_anyio", "FAA102") in by_test and ("test_fixture_client_print", "FAA402") in by_test
    assert not any(test == "test_block_allowed" for test, _ in by_test)


def test_xdist_workers_findings_reach_the_controller_summary(guarded_tests: pytest.Pytester) -> None:
    pytest.importorskip("xdist")
    guarded_tests.makepyfile(
        test_no_health=textwrap.dedent(
            """\
            from fastapi import FastAPI
            from fastapi.testclient import TestClient

            bare = FastAPI()


            @bare.get("/items")
            async def items():
                return []


            def test_items():
                with TestClient(bare) as client:
                    assert client.get("/items").json() == []
            """
        )
    )
    result = guarded_tests.runpytest_subprocess(
        *PLUGINS, "-p", "xdist", "-n", "2", "--runtime-guard=warn", "-W", "ignore::DeprecationWarning"
    )
    result.assert_outcomes(passed=8, failed=1)
    summary = _warn_summary(result.stdout.str())
    assert "no test showed an anti-pattern" not in summary
    assert summary.count(f"FAA102 test_guarded.py:{line_with('BLOCKING LINE')}") == 3, summary
    for test in ("test_block_testclient", "test_block_httpx", "test_block_anyio", "test_fixture_client_print"):
        assert f"test_guarded.py::{test}: 1 finding(s)" in summary, summary
    # App-wide findings (the app has no health route...) are listed once, as in a serial run.
    serial = _warn_summary(
        guarded_tests.runpytest_subprocess(*PLUGINS, "--runtime-guard=warn", "-W", "ignore::DeprecationWarning").stdout.str()
    )
    app_wide = serial.split("app-wide findings (listed once, they fail no test):")[1].split("\n=")[0]
    assert "FAA401" in app_wide
    assert summary.split("app-wide findings (listed once, they fail no test):")[1].split("\n=")[0] == app_wide


def test_fixture_opts_a_test_in_without_the_option(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_fixture=APP
        + textwrap.dedent(
            """
            def test_guarded_by_the_fixture(runtime_guard):
                TestClient(runtime_guard(app)).get("/block")


            def test_sees_its_findings(runtime_guard):
                runtime_guard.allow("FAA102")
                guarded = runtime_guard(app, block_threshold=0.2)
                assert guarded.routes is app.routes  # the guard reads through to the app
                with TestClient(guarded) as http:
                    http.get("/block")
                assert runtime_guard.codes() == ["FAA102"]
                assert runtime_guard.findings[0].details["route"] == "/block"


            def test_not_guarded():
                assert TestClient.__init__.__module__ == "starlette.testclient"  # nothing patched
                TestClient(app).get("/block")
            """
        )
    )
    result = pytester.runpytest(*PLUGINS)
    result.assert_outcomes(passed=2, failed=1)
    section = failure_section(result.stdout.str(), "test_guarded_by_the_fixture")
    assert f"FAA102 test_fixture.py:{line_with('BLOCKING LINE')}" in section
    assert "runtime guard: fail" not in result.stdout.str()  # no auto-guarding header


def test_ini_settings_and_the_option_overriding_them(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_ini=APP
        + textwrap.dedent(
            """
            def test_print():
                TestClient(app).get("/print")
            """
        )
    )
    pytester.makeini("[pytest]\nruntime_guard = fail\n")
    assert pytester.runpytest(*PLUGINS).ret == pytest.ExitCode.TESTS_FAILED
    pytester.runpytest(*PLUGINS, "--runtime-guard=off").assert_outcomes(passed=1)
    pytester.makeini("[pytest]\nruntime_guard = fail\nruntime_guard_ignore = FAA402\n")
    pytester.runpytest(*PLUGINS).assert_outcomes(passed=1)
    pytester.makeini("[pytest]\nruntime_guard = loud\n")
    result = pytester.runpytest(*PLUGINS)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*runtime_guard: expected one of fail, warn, off, not 'loud'*"])


def test_the_session_summary_lists_app_wide_findings_once(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_summary=textwrap.dedent(
            """\
            from fastapi import FastAPI
            from fastapi.testclient import TestClient

            app = FastAPI()  # no health route


            @app.get("/")
            async def root():
                return {}


            def test_one():
                with TestClient(app) as client:  # the app is checked when its lifespan starts
                    client.get("/")


            def test_two():
                with TestClient(app) as client:
                    client.get("/")
            """
        )
    )
    result = pytester.runpytest(*PLUGINS, "--runtime-guard")
    result.assert_outcomes(passed=2)  # a missing health route fails no test...
    summary = result.stdout.str().split("runtime guard ==")[1]
    assert summary.count("FAA401 test_summary.py:4") == 1  # ...and is listed once


def test_the_threshold_the_help_states_is_the_guards_default() -> None:
    from runtime_guard.config import DEFAULT_BLOCK_THRESHOLD
    from runtime_guard.pytest_plugin import DEFAULT_BLOCK_THRESHOLD_SHOWN

    assert float(DEFAULT_BLOCK_THRESHOLD_SHOWN) == DEFAULT_BLOCK_THRESHOLD


def test_the_plugin_is_loaded_but_inert_here(request: pytest.FixtureRequest) -> None:
    assert request.config.pluginmanager.has_plugin("runtime_guard")
    assert TestClient.__init__.__module__ == "starlette.testclient"
    code = "import sys, runtime_guard.pytest_plugin; print(sorted(m for m in sys.modules if m.startswith(('runtime_guard.', 'flake8_'))))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "['runtime_guard.pytest_plugin']"  # importing it loads nothing of the guard


def test_a_path_after_the_option_is_collected_not_taken_for_a_mode(guarded_tests: pytest.Pytester) -> None:
    guarded_tests.makepyfile(test_other="def test_elsewhere():\n    assert False\n")
    result = guarded_tests.runpytest(*PLUGINS, "--runtime-guard", "test_guarded.py")
    result.assert_outcomes(passed=2, failed=6)  # test_other.py is not collected: only the path given
    assert "test_elsewhere" not in result.stdout.str()
    both = guarded_tests.runpytest(*PLUGINS, "--runtime-guard", "test_guarded.py", "test_other.py")
    both.assert_outcomes(passed=2, failed=7)


def test_a_misspelt_mode_is_still_a_usage_error(guarded_tests: pytest.Pytester) -> None:
    result = guarded_tests.runpytest(*PLUGINS, "--runtime-guard=wran")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*invalid choice: 'wran'*"])


def test_assigning_through_client_app_reaches_the_app(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_overrides=textwrap.dedent(
            """\
            from fastapi import Depends, FastAPI
            from fastapi.testclient import TestClient

            app = FastAPI()


            def current_user():
                return "real"


            @app.get("/me")
            async def me(user: str = Depends(current_user)):
                return {"user": user}


            def test_the_client_holds_the_app_itself():
                with TestClient(app) as client:
                    assert client.app is app
                    assert client.get("/me").json() == {"user": "real"}


            @app.get("/sleepy")
            async def sleepy():
                import time

                time.sleep(0.3)  # blocks the loop: the guard must still see requests made through this client
                return {}


            def test_requests_still_pass_through_the_guard():
                with TestClient(app) as client:
                    assert client.get("/sleepy").status_code == 200


            def test_override_set_on_the_client_app():
                client = TestClient(app)
                client.app.dependency_overrides = {current_user: lambda: "fake"}
                assert app.dependency_overrides, "the assignment stayed on the guard"
                assert client.get("/me").json() == {"user": "fake"}
                client.app.dependency_overrides = {}
                assert client.get("/me").json() == {"user": "real"}
            """
        )
    )
    result = pytester.runpytest(*PLUGINS, "--runtime-guard", "-W", "ignore::DeprecationWarning")
    # The blocking route fails its test (fail mode): requests made through the client whose
    # ``app`` is the app itself still pass through the guard.
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["*FAA102*test_overrides.py:*", "*failed on findings: test_overrides.py::test_requests_still_pass_through_the_guard*"])


PER_TEST_STATE = textwrap.dedent(
    """\
    import collections
    import sys
    import time

    import pytest
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from runtime_guard.detectors import exceptions as exception_texts
    from runtime_guard.testing import guard_of

    scans = collections.Counter()
    _scan = exception_texts._functions_of


    def _counting(namespace, module, depth=0):
        if depth == 0:
            scans[module] += 1
        return _scan(namespace, module, depth)


    exception_texts._functions_of = _counting  # put back by test_what_the_session_kept

    app = FastAPI()


    @app.get("/health")
    async def health():
        return {"ok": True}


    @app.get("/block")
    async def block():
        time.sleep(0.3)  # BLOCKING LINE
        return {"ok": True}


    module_client = TestClient(app)  # a loop per request
    watch_threads = []


    @pytest.fixture
    def client():
        with TestClient(app) as started:  # the guard starts at start-up and stops at shutdown, every test
            yield started


    @pytest.fixture(scope="module")
    def live():
        with TestClient(app) as started:  # one loop for the module's tests
            yield started


    @pytest.mark.parametrize("n", range(5))
    def test_requests(client, n):
        assert client.get("/health").status_code == 200
        assert module_client.get("/health").status_code == 200
        watch_threads.extend([guard_of(client).watchdog.thread, guard_of(module_client).watchdog.thread])


    def test_blocks_once(live):
        assert live.get("/block").status_code == 200


    def test_after_the_block(live):
        assert live.get("/health").status_code == 200


    def test_blocks_again(live):
        assert live.get("/block").status_code == 200


    def test_what_the_session_kept():
        exception_texts._functions_of = _scan
        if sys.version_info >= (3, 12):  # the exception-text watch needs sys.monitoring
            assert scans[__name__] == 1, scans  # the app's module, scanned when the first guard started
            assert max(scans.values()) == 1, scans  # and no module scanned twice
        assert len(watch_threads) == 10 and None not in watch_threads
        # Two guards watch at once in each test: two threads, the same ones from test to test.
        assert len({id(thread) for thread in watch_threads}) <= 2, watch_threads
    """
)


def test_per_test_work_does_not_start_over(pytester: pytest.Pytester) -> None:
    # Every test starts and stops the guards it used; what the guard learnt of the process (the
    # modules it scanned) and its watchdog's thread carry over, and no finding crosses into the next test.
    pytester.makepyfile(test_per_test=PER_TEST_STATE)
    result = pytester.runpytest(*PLUGINS, "--runtime-guard=warn", "-W", "ignore::DeprecationWarning")
    result.assert_outcomes(passed=9)
    summary = _warn_summary(result.stdout.str())
    block = next(n for n, line in enumerate(PER_TEST_STATE.splitlines(), 1) if "BLOCKING LINE" in line)
    for test in ("test_blocks_once", "test_blocks_again"):
        assert f"test_per_test.py::{test}: 1 finding(s)" in summary, summary
    assert summary.count(f"FAA102 test_per_test.py:{block}") == 2, summary
    assert "test_after_the_block" not in summary and "test_requests" not in summary, summary
