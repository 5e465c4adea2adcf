"""`python -m flake8_fastapi_antipatterns report`: static and runtime findings in one report."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import struct
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from flake8_fastapi_antipatterns.__main__ import main
from flake8_fastapi_antipatterns.diagnostics import Diagnostic
from flake8_fastapi_antipatterns.report import build_report, render_html
from flake8_fastapi_antipatterns.report.correlate import confirms, same_file
from flake8_fastapi_antipatterns.report.inputs import Input, InputError, parse_flake8, parse_json_lines
from flake8_fastapi_antipatterns.report.lint import lint
from flake8_fastapi_antipatterns.report.page_data import page_data
from flake8_fastapi_antipatterns.report.sources import SourceFiles
from flake8_fastapi_antipatterns.sinks import JsonLinesSink
from tests.chromium import HEADLESS_FLAGS, Chromium, find_browser
from tests.report_corpus import write_corpus

SCHEMA_PATH = Path(__file__).parent / "schemas" / "sarif-schema-2.1.0.json"

APP = textwrap.dedent(
    """\
    import time

    from fastapi import FastAPI

    app = FastAPI()


    @app.get("/slow")
    async def slow():
        time.sleep(1)
        return {"ok": True}


    @app.get("/other")
    async def other():
        total = sum(range(10_000_000))
        return {"total": total}
    """
)
SLEEP_LINE = 10  # `time.sleep(1)` in `slow`
SLOW_RETURN_LINE = 11  # where a sampled runtime frame in `slow` may point instead
OTHER_LINE = 16  # the CPU loop in `other`
SECRET = "s3cr3t-token-value"
SCRIPT = "<script>alert('pwned')</script>"


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small app, flake8's real output on it, and a runtime JSON-lines file written by the sink."""
    root = tmp_path_factory.mktemp("report")
    (root / "app.py").write_text(APP, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "flake8", "--isolated", "--select", "FAA", "app.py"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1, result.stderr
    (root / "flake8.txt").write_text(result.stdout, encoding="utf-8")
    sink = JsonLinesSink(root / "findings.jsonl")
    app_py = str(root / "app.py")
    sink.emit(
        Diagnostic(
            "FAA102",
            f"event loop blocked for 1.00 s in `slow` while serving GET /slow {SCRIPT}",
            app_py,
            SLOW_RETURN_LINE,
            source="runtime",
            details={
                "stall_seconds": 1.004,
                "function": "slow",
                "route": "/slow",
                "method": "GET",
                "stack": [f"{app_py}:{SLOW_RETURN_LINE}"],
                "authorization": SECRET,
            },
        )
    )
    sink.emit(
        Diagnostic(
            "FAA102",
            "event loop blocked for 0.35 s in `other` while serving GET /other",
            app_py,
            OTHER_LINE,
            source="runtime",
            details={"stall_seconds": 0.35, "function": "other", "route": "/other", "method": "GET", "count": 4},
        )
    )
    sink.close()
    return root


def run_report(root: Path, *args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    status = main(["report", "--root", str(root), *args])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def static_and_runtime(root: Path) -> tuple[list[Diagnostic], list[Diagnostic]]:
    static = parse_flake8(Input("flake8.txt", (root / "flake8.txt").read_text(encoding="utf-8")))
    runtime = parse_json_lines(Input("findings.jsonl", (root / "findings.jsonl").read_text(encoding="utf-8")))
    return static, runtime


# -- inputs -------------------------------------------------------------------


def test_real_flake8_output_is_parsed(project: Path) -> None:
    static, runtime = static_and_runtime(project)
    blocking = [d for d in static if d.code == "FAA102"]
    assert len(blocking) == 1
    assert (blocking[0].filename, blocking[0].line, blocking[0].col, blocking[0].source) == (
        "app.py",
        SLEEP_LINE,
        4,
        "static",
    )
    assert "time.sleep" in blocking[0].message
    assert {d.source for d in runtime} == {"runtime"}
    assert [d.line for d in runtime] == [SLOW_RETURN_LINE, OTHER_LINE]
    assert isinstance(runtime[0].details["time"], float)  # the sink's timestamp, kept for the timeline


def test_flake8_show_source_count_and_other_plugins_are_tolerated(project: Path) -> None:
    shown = subprocess.run(
        [sys.executable, "-m", "flake8", "--isolated", "--select", "FAA,E", "--show-source", "--count", "app.py"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    plain = (project / "flake8.txt").read_text(encoding="utf-8")
    extra = "app.py:1:80: E501 line too long (99 > 79 characters)\n"
    assert parse_flake8(Input("x", shown + extra)) == parse_flake8(Input("y", plain))


def test_lint_runs_the_rules_in_process_like_flake8(project: Path, tmp_path: Path) -> None:
    static, _ = static_and_runtime(project)
    linted = lint([str(project / "app.py")])
    assert [(d.code, d.line, d.col) for d in linted] == [(d.code, d.line, d.col) for d in static]
    quiet = tmp_path / "quiet.py"
    quiet.write_text(APP.replace("time.sleep(1)", "time.sleep(1)  # noqa: FAA102"), encoding="utf-8")
    assert "FAA102" not in {d.code for d in lint([str(tmp_path)])}


# -- correlation --------------------------------------------------------------


def test_runtime_line_in_the_same_function_confirms(project: Path) -> None:
    sources = SourceFiles(project)
    static = Diagnostic("FAA102", "sleep", "app.py", SLEEP_LINE, 4)
    in_slow = Diagnostic("FAA102", "stall", str(project / "app.py"), SLOW_RETURN_LINE, source="runtime")
    in_other = Diagnostic("FAA102", "stall", str(project / "app.py"), OTHER_LINE, source="runtime")
    other_code = Diagnostic("FAA101", "stall", str(project / "app.py"), SLEEP_LINE, source="runtime")
    other_file = Diagnostic("FAA102", "stall", str(project / "routes.py"), SLEEP_LINE, source="runtime")
    assert confirms(static, in_slow, sources)
    assert not confirms(static, in_other, sources)
    assert not confirms(static, other_code, sources)
    assert not confirms(static, other_file, sources)


def test_without_the_source_the_lines_must_match(tmp_path: Path) -> None:
    sources = SourceFiles(tmp_path)  # gone.py does not exist: no function ranges
    static = Diagnostic("FAA102", "sleep", "gone.py", 7)
    assert confirms(static, Diagnostic("FAA102", "stall", str(tmp_path / "gone.py"), 7, source="runtime"), sources)
    assert not confirms(static, Diagnostic("FAA102", "stall", str(tmp_path / "gone.py"), 8, source="runtime"), sources)


def test_relative_name_meets_the_containers_absolute_path(tmp_path: Path) -> None:
    sources = SourceFiles(tmp_path)
    assert same_file("app/main.py", "/srv/app/app/main.py", sources)
    assert same_file("./app/main.py", str(tmp_path / "app" / "main.py"), sources)
    assert not same_file("app/main.py", "/srv/app/other/main.py", sources)


def test_report_marks_confirmed_both_ways(project: Path) -> None:
    static, runtime = static_and_runtime(project)
    report = build_report([*static, *runtime], SourceFiles(project))
    marks = {(f.diagnostic.source, f.diagnostic.code, f.diagnostic.line): f.confirmed for f in report.findings}
    assert marks[("static", "FAA102", SLEEP_LINE)] is True
    assert marks[("runtime", "FAA102", SLOW_RETURN_LINE)] is True
    assert marks[("runtime", "FAA102", OTHER_LINE)] is False
    assert marks[("static", "FAA401", 5)] is False


def test_the_same_runtime_finding_from_two_workers_is_merged(project: Path) -> None:
    _, runtime = static_and_runtime(project)
    report = build_report([*runtime, *runtime], SourceFiles(project))
    counts = {f.diagnostic.line: f.count for f in report.findings}
    assert counts == {SLOW_RETURN_LINE: 2, OTHER_LINE: 8}


def test_a_static_finding_and_its_runtime_evidence_are_one_problem(project: Path) -> None:
    static, runtime = static_and_runtime(project)
    sources = SourceFiles(project)
    report = build_report([*static, *runtime], sources)
    assert len(report.findings) == 6
    blocking = [p for p in report.problems if p.code == "FAA102"]
    assert len(blocking) == 2  # three findings, two problems
    slow = next(p for p in blocking if p.static is not None)
    assert (slow.static.diagnostic.line if slow.static else None) == SLEEP_LINE
    assert [f.diagnostic.line for f in slow.runtime] == [SLOW_RETURN_LINE]
    assert slow.both
    other = next(p for p in blocking if p.static is None)
    assert [f.diagnostic.line for f in other.runtime] == [OTHER_LINE] and not other.both
    # The page gets one card for the pair: the static finding, with the stall under it.
    cards = [c for c in page_data(report, sources)["problems"] if c["c"] == "FAA102"]
    assert [(c["l"], c["k"], [r["l"] for r in c.get("r", [])]) for c in cards] == [
        (SLEEP_LINE, "both", [SLOW_RETURN_LINE]),
        (OTHER_LINE, "runtime", []),
    ]


def test_escaped_exceptions_are_the_evidence_of_the_apps_faa304(project: Path) -> None:
    static, _ = static_and_runtime(project)
    app_line = next(d.line for d in static if d.code == "FAA304")  # the `app = FastAPI()` line
    escaped = [
        Diagnostic(
            "FAA304",
            f"`KeyError` escaped the app while handling GET {route}",
            str(project / "app.py"),
            line,
            source="runtime",
            details={"route": f"GET {route}", "exception": "KeyError", "count": 2},
        )
        for route, line in (("/slow", SLEEP_LINE), ("/other", OTHER_LINE))
    ]
    # Keyed at the raise sites, in other functions than the app's line: not "the same function".
    assert not any(confirms(next(d for d in static if d.code == "FAA304"), e, SourceFiles(project)) for e in escaped)
    report = build_report([*static, *escaped], SourceFiles(project))
    problems = [p for p in report.problems if p.code == "FAA304"]
    assert len(problems) == 1
    (problem,) = problems
    assert problem.static is not None and problem.static.diagnostic.line == app_line
    assert sorted(f.diagnostic.line for f in problem.runtime) == [SLEEP_LINE, OTHER_LINE]
    assert all(f.confirmed for f in problem.findings)


def test_faa304_evidence_goes_to_the_app_that_holds_the_raise_site(tmp_path: Path) -> None:
    for service in ("billing", "search"):
        (tmp_path / service / "routes").mkdir(parents=True)
    (tmp_path / "shared").mkdir()
    apps = [Diagnostic("FAA304", "no handler", f"{service}/main.py", 4, 6) for service in ("billing", "search")]

    def raised_in(name: str) -> Diagnostic:
        return Diagnostic("FAA304", "`KeyError` escaped", str(tmp_path / name), 12, source="runtime")

    report = build_report(
        [*apps, raised_in("search/routes/items.py"), raised_in("billing/main.py"), raised_in("shared/util.py")],
        SourceFiles(tmp_path),
    )
    evidence = {
        p.static.diagnostic.filename if p.static else "alone": sorted(SourceFiles(tmp_path).display(f.diagnostic.filename) for f in p.runtime)
        for p in report.problems
    }
    assert evidence == {
        "billing/main.py": ["billing/main.py"],
        "search/main.py": ["search/routes/items.py"],
        "alone": ["shared/util.py"],  # both apps are as close: it stays a problem of its own
    }


# -- outputs ------------------------------------------------------------------


def test_text_report(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run_report(
        project, "--flake8", str(project / "flake8.txt"), "--runtime", str(project / "findings.jsonl"), capsys=capsys
    )
    assert status == 1
    sleep = next(line for line in out.splitlines() if line.startswith(f"app.py:{SLEEP_LINE}:5: FAA102 "))
    assert "confirmed at runtime" in sleep
    # The stall in `slow` is evidence of the sleep there: one problem; the stall in `other` is its own.
    assert "6 findings (4 static, 2 runtime) in 5 problems; 1 static confirmed at runtime" in out
    assert SECRET not in out


def test_json_report(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run_report(
        project,
        "--flake8",
        str(project / "flake8.txt"),
        "--runtime",
        str(project / "findings.jsonl"),
        "--format",
        "json",
        capsys=capsys,
    )
    assert status == 1
    records = json.loads(out)
    keys = set(Diagnostic("FAA102", "m", "f", 1).to_dict()) | {"confirmed", "problem"}
    assert all(set(record) == keys for record in records)
    by_place = {(r["source"], r["line"]): r for r in records if r["code"] == "FAA102"}
    assert by_place[("static", SLEEP_LINE)]["confirmed"] is True
    # The sleep and the stall it caused are one problem; the other stall is another.
    assert by_place[("static", SLEEP_LINE)]["problem"] == by_place[("runtime", SLOW_RETURN_LINE)]["problem"]
    assert by_place[("runtime", OTHER_LINE)]["problem"] != by_place[("static", SLEEP_LINE)]["problem"]
    assert by_place[("runtime", OTHER_LINE)]["confirmed"] is False
    slow = by_place[("runtime", SLOW_RETURN_LINE)]["details"]
    assert slow["stall_seconds"] == 1.004 and "stack" not in slow and "authorization" not in slow
    assert SECRET not in out


def test_sarif_report_is_one_run_with_both_sources(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run_report(
        project,
        "--lint",
        str(project / "app.py"),
        "--runtime",
        str(project / "findings.jsonl"),
        "--format",
        "sarif",
        capsys=capsys,
    )
    assert status == 1
    log = json.loads(out)
    assert len(log["runs"]) == 1
    results = log["runs"][0]["results"]
    assert {r["properties"]["source"] for r in results} == {"static", "runtime"}
    assert sum(r["properties"]["confirmed"] for r in results) == 2  # the static finding and the runtime one
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    validator = jsonschema.validators.validator_for(schema)(schema)
    errors = sorted(validator.iter_errors(log), key=str)
    assert not errors, "\n".join(e.message for e in errors[:5])


def _artifact_locations(log: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """``(source, artifactLocation)`` of every result's locations and related locations."""
    found = []
    for result in log["runs"][0]["results"]:
        for location in [*result["locations"], *result.get("relatedLocations", [])]:
            found.append((result["properties"]["source"], location["physicalLocation"]["artifactLocation"]))
    return found


def test_sarif_paths_of_both_halves_are_relative_to_the_root(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # flake8 ran in the root (relative names); the guard recorded absolute ones.
    static, runtime = static_and_runtime(project)
    assert not any(Path(d.filename).is_absolute() for d in static)
    assert all(Path(d.filename).is_absolute() for d in runtime)
    status, out, _ = run_report(
        project,
        "--flake8",
        str(project / "flake8.txt"),
        "--runtime",
        str(project / "findings.jsonl"),
        "--format",
        "sarif",
        capsys=capsys,
    )
    assert status == 1
    log = json.loads(out)
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    validator = jsonschema.validators.validator_for(schema)(schema)
    errors = sorted(validator.iter_errors(log), key=str)
    assert not errors, "\n".join(e.message for e in errors[:5])
    run = log["runs"][0]
    assert run["originalUriBaseIds"]["SRCROOT"]["uri"] == project.resolve().as_uri() + "/"
    locations = _artifact_locations(log)
    assert {source for source, _ in locations} == {"static", "runtime"}
    assert all(location == {"uri": "app.py", "uriBaseId": "SRCROOT"} for _, location in locations), locations
    assert "file://" not in json.dumps(run["results"])
    # The stall is linked to the sleep it confirms, both ways.
    sleep = next(r for r in run["results"] if r["ruleId"] == "FAA102" and r["properties"]["source"] == "static")
    related = sleep["relatedLocations"]
    assert [r["physicalLocation"]["region"]["startLine"] for r in related] == [SLOW_RETURN_LINE]


def test_html_report_is_escaped_self_contained_and_written_to_a_file(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = project / "report.html"
    status, out, err = run_report(
        project,
        "--flake8",
        str(project / "flake8.txt"),
        "--runtime",
        str(project / "findings.jsonl"),
        "--format",
        "html",
        "--output",
        str(target),
        capsys=capsys,
    )
    assert status == 1 and out == "" and str(target) in err
    page = target.read_text(encoding="utf-8")
    # The message's markup is in the data block, escaped so that it cannot close the element.
    assert SCRIPT not in page and "\\u003cscript\\u003ealert('pwned')\\u003c/script\\u003e" in page
    # Two script elements: the data (not executed) and the page's own script, allowed by its hash.
    assert page.lower().count("<script") == 2
    assert '<script type="application/json" id="faa-data">' in page
    script = re.search(r"<script>(.*?)</script>", page, re.S)
    assert script is not None
    digest = base64.b64encode(hashlib.sha256(script.group(1).encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in page and "default-src 'none'" in page
    assert "confirmed at runtime" in page and '<svg class="chart"' in page
    assert "time.sleep(1)" in page  # the code excerpt
    assert SECRET not in page
    external = [token for token in ("src=", "<link", "@import", "url(") if token in page]
    assert not external
    assert not re.search(r"href=[\"']?(?:https?:)?//", page), "a link to somewhere else"


def test_html_defaults_to_a_file(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    status, out, _ = run_report(
        project, "--runtime", str(project / "findings.jsonl"), "--format", "html", capsys=capsys
    )
    assert status == 1 and out == ""
    assert (tmp_path / "faa-report.html").is_file()


def test_stdin_and_no_findings(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    status, out, _ = run_report(project, "--flake8", "-", capsys=capsys)
    assert (status, out) == (0, "no findings\n")


# -- bad input ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("option", "content", "expected"),
    [
        (
            "--runtime",
            '{"code": "FAA102", "message": "ok", "filename": "a.py", "line": 3}\n{not json\n',
            "bad.txt:2: not JSON",
        ),
        ("--runtime", '{"code": "FAA102", "message": "ok", "line": "three"}\n', "bad.txt:1: `line` must be an integer"),
        ("--runtime", '["FAA102"]\n', "bad.txt:1: expected a JSON object"),
        ("--runtime", '{"message": "no code"}\n', "bad.txt:1: the finding lacks `code`"),
        (
            "--flake8",
            "app.py:3:1: FAA102 fine\nTraceback (most recent call last):\n",
            "bad.txt:2: not a flake8 finding",
        ),
    ],
)
def test_bad_input_exits_2_naming_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], option: str, content: str, expected: str
) -> None:
    (tmp_path / "bad.txt").write_text(content, encoding="utf-8")
    status, out, err = run_report(tmp_path, option, str(tmp_path / "bad.txt"), capsys=capsys)
    assert status == 2 and out == ""
    assert expected in err.replace(str(tmp_path) + "/", "")


def test_unreadable_inputs_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = str(tmp_path / "missing.jsonl")
    assert run_report(tmp_path, "--runtime", missing, capsys=capsys)[::2] == (
        2,
        f"report: {missing}: cannot read (No such file or directory)\n",
    )
    (tmp_path / "binary.txt").write_bytes(b"app.py:1:1: FAA102 x\n\xff\xfe\n")
    status, _, err = run_report(tmp_path, "--flake8", str(tmp_path / "binary.txt"), capsys=capsys)
    assert status == 2 and "binary.txt:2: not UTF-8 text" in err
    status, _, err = run_report(tmp_path, "--flake8", "-", "--runtime", "-", capsys=capsys)
    assert status == 2 and "only one input" in err
    with pytest.raises(InputError, match="nowhere: no such file"):
        lint(["nowhere"])


def test_cli_bad_input_prints_no_traceback(tmp_path: Path) -> None:
    (tmp_path / "bad.jsonl").write_text("{oops\n", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "flake8_fastapi_antipatterns", "report", "--runtime", "bad.jsonl"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("report: bad.jsonl:1: not JSON") and "Traceback" not in result.stderr


# -- in a real browser --------------------------------------------------------

NO_BROWSER = "chromium/chromium-browser not on PATH (Debian: apt-get install -y chromium); browser check skipped"


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR", "not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def _headless(browser: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    flags = [*HEADLESS_FLAGS, f"--user-data-dir={profile}"]
    return subprocess.run([browser, *flags, *args], capture_output=True, text=True, timeout=90)


def test_html_report_renders_in_headless_chromium(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    browser = find_browser()
    if browser is None:
        pytest.skip(NO_BROWSER)
    page = tmp_path / "report.html"
    status, _, _ = run_report(
        project,
        "--flake8",
        str(project / "flake8.txt"),
        "--runtime",
        str(project / "findings.jsonl"),
        "--format",
        "html",
        "--output",
        str(page),
        capsys=capsys,
    )
    assert status == 1
    url = page.resolve().as_uri()
    dom = _headless(browser, tmp_path / "profile-dom", "--dump-dom", url)
    assert dom.returncode == 0, dom.stderr[-2000:]
    html = dom.stdout
    assert 'data-rendered="true"' in html, "the page's script did not run (blocked by its own CSP?)"
    assert "FastAPI anti-patterns report" in html
    assert '<svg class="chart"' in html and "<rect" in html
    for code in ("FAA102", "FAA304", "FAA305", "FAA401"):
        assert f'id="rule-{code}"' in html
    # Six findings, five cards: the sleep and the stall it caused share one.
    assert html.count('<article class="problem') == 5
    assert html.count('data-code="FAA102"') == 2
    assert "confirmed at runtime" in html
    # The runtime message's markup is text in the card, never an element.
    assert "&lt;script&gt;alert('pwned')&lt;/script&gt;" in html and SCRIPT not in html
    shot = tmp_path / "shot.png"
    rendered = _headless(browser, tmp_path / "profile-shot", f"--screenshot={shot}", "--window-size=1280,1600", url)
    assert rendered.returncode == 0, rendered.stderr[-2000:]
    data = shot.read_bytes()
    assert _png_size(data) == (1280, 1600)
    assert len(data) > 30_000, "the screenshot is suspiciously small (a blank page?)"


MAX_PAGE_HEIGHT = 7_000
"""Pixels at 1280 wide: one page of cards with the summary, the chart and the rules above and below."""


def test_a_2000_finding_report_shows_one_page_of_cards_with_filters(tmp_path: Path) -> None:
    browser = find_browser()
    if browser is None:
        pytest.skip(NO_BROWSER)
    corpus = write_corpus(tmp_path / "project")
    assert len(corpus.diagnostics) >= 2_000
    sources = SourceFiles(corpus.root)
    report = build_report(corpus.diagnostics, sources)
    page = tmp_path / "report.html"
    page.write_text(render_html(report, sources), encoding="utf-8")
    page_size = page_data(report, sources)["pageSize"]
    with Chromium(browser, width=1280, height=900) as chromium:
        chromium.load(page.resolve().as_uri())
        assert chromium.evaluate("document.documentElement.dataset.rendered") == "true"
        assert chromium.console_errors() == []
        height = chromium.evaluate("document.documentElement.scrollHeight")
        assert height <= MAX_PAGE_HEIGHT, f"the page is {height} px tall"
        # The header counts problems and findings as built.
        counts = chromium.evaluate(
            "Array.from(document.querySelectorAll('#counts .card')).map(c => c.innerText.replace(/\\s+/g, ' '))"
        )
        assert f"{corpus.problems:,} problems" in counts
        assert f"{len(corpus.diagnostics):,} findings ({corpus.static:,} static, {corpus.runtime:,} runtime)" in counts
        assert f"{corpus.confirmed_problems:,} static confirmed at runtime" in counts
        # The filters are there, and only the first page of cards is in the document.
        controls = chromium.evaluate(
            "Array.from(document.querySelectorAll('#filters select, #filters input')).map(c => c.name)"
        )
        assert {"view", "code", "sev", "file", "seen", "q"} <= set(controls)
        assert chromium.evaluate("document.querySelectorAll('article.problem').length") == page_size
        status = chromium.evaluate("document.getElementById('problem-status').textContent")
        assert status == f"Problems 1–{page_size} of {corpus.problems:,} ({len(corpus.diagnostics):,} findings)"
        excerpts = chromium.evaluate("[...document.querySelectorAll('article.problem > details.code')].map(d => d.open)")
        assert excerpts and not any(excerpts), "excerpts start collapsed"
        chromium.screenshot(tmp_path / "first.png")
        # A filter redraws the list: the runtime-only code, a page of its cards, counted right.
        shown = chromium.evaluate(
            f"""(() => {{
                const select = document.querySelector('#filters select[name=code]');
                select.value = '{corpus.runtime_only_code}';
                select.dispatchEvent(new Event('change', {{bubbles: true}}));
                return [...document.querySelectorAll('article.problem')].map(a => a.dataset.code);
            }})()"""
        )
        assert shown == [corpus.runtime_only_code] * page_size
        status = chromium.evaluate("document.getElementById('problem-status').textContent")
        assert f"of {corpus.runtime_only_problems:,} (" in status and "filtered from" in status
        # Grouped by file, on the last page.
        chromium.evaluate(
            """(() => {
                document.querySelector('#filters input[name=view][value=file]').click();
                const next = document.querySelector('.pager.top [data-page=next]');
                while (!next.disabled) next.click();
            })()"""
        )
        headings = chromium.evaluate("[...document.querySelectorAll('#problem-list .group .file-name')].map(h => h.textContent)")
        assert headings and all(name.startswith("pkg/mod_") for name in headings)
        assert chromium.evaluate("location.hash").startswith("#")
        assert chromium.console_errors() == []
        chromium.evaluate("document.getElementById('problems').scrollIntoView()")
        data = chromium.screenshot(tmp_path / "filtered.png")
    assert _png_size(data) == (1280, 900)
    assert len(data) > 30_000, "the screenshot is suspiciously small (a blank page?)"
