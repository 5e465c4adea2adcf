"""`python -m flake8_fastapi_antipatterns report`: static and runtime findings in one report."""

from __future__ import annotations

import io
import json
import shutil
import struct
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from flake8_fastapi_antipatterns.__main__ import main
from flake8_fastapi_antipatterns.diagnostics import Diagnostic
from flake8_fastapi_antipatterns.report import build_report
from flake8_fastapi_antipatterns.report.correlate import confirms, same_file
from flake8_fastapi_antipatterns.report.inputs import Input, InputError, parse_flake8, parse_json_lines
from flake8_fastapi_antipatterns.report.lint import lint
from flake8_fastapi_antipatterns.report.sources import SourceFiles
from flake8_fastapi_antipatterns.sinks import JsonLinesSink

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


# -- outputs ------------------------------------------------------------------


def test_text_report(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run_report(
        project, "--flake8", str(project / "flake8.txt"), "--runtime", str(project / "findings.jsonl"), capsys=capsys
    )
    assert status == 1
    sleep = next(line for line in out.splitlines() if line.startswith(f"app.py:{SLEEP_LINE}:5: FAA102 "))
    assert "confirmed at runtime" in sleep
    assert "6 findings: 4 static, 2 runtime; 1 static confirmed at runtime" in out
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
    keys = set(Diagnostic("FAA102", "m", "f", 1).to_dict()) | {"confirmed"}
    assert all(set(record) == keys for record in records)
    by_place = {(r["source"], r["line"]): r for r in records if r["code"] == "FAA102"}
    assert by_place[("static", SLEEP_LINE)]["confirmed"] is True
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
    if not SCHEMA_PATH.is_file():
        pytest.skip(f"SARIF schema not found at {SCHEMA_PATH}; structure checked, schema validation skipped")
    import jsonschema

    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    validator = jsonschema.validators.validator_for(schema)(schema)
    errors = sorted(validator.iter_errors(log), key=str)
    assert not errors, "\n".join(e.message for e in errors[:5])


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
    assert SCRIPT not in page and "&lt;script&gt;alert(&#x27;pwned&#x27;)&lt;/script&gt;" in page
    assert "<script" not in page.lower()
    assert "confirmed at runtime" in page and '<svg class="chart"' in page
    assert "time.sleep(1)" in page  # the code excerpt
    assert SECRET not in page
    external = [token for token in ("src=", "<link", "@import", "url(") if token in page]
    assert not external


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


def _browser() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR", "not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def _headless(browser: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
    ]
    return subprocess.run([browser, *flags, *args], capture_output=True, text=True, timeout=90)


def test_html_report_renders_in_headless_chromium(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    browser = _browser()
    if browser is None:
        pytest.skip(
            "chromium/chromium-browser not on PATH (Debian: apt-get install -y chromium); browser check skipped"
        )
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
    assert "FastAPI anti-patterns report" in dom.stdout
    assert '<svg class="chart"' in dom.stdout and "<rect" in dom.stdout
    for code in ("FAA102", "FAA304", "FAA305", "FAA401"):
        assert f'id="rule-{code}"' in dom.stdout
    assert "confirmed at runtime" in dom.stdout
    assert "<script" not in dom.stdout.lower()  # the message's markup stayed text
    shot = tmp_path / "shot.png"
    rendered = _headless(browser, tmp_path / "profile-shot", f"--screenshot={shot}", "--window-size=1280,1600", url)
    assert rendered.returncode == 0, rendered.stderr[-2000:]
    data = shot.read_bytes()
    assert _png_size(data) == (1280, 1600)
    assert len(data) > 30_000, "the screenshot is suspiciously small (a blank page?)"
