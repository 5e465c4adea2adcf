"""The output formats of ``faa check``: content, escaping, FAA000, and the shapes CI services read."""

from __future__ import annotations

import io
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from flake8_fastapi_antipatterns.catalogue import CATALOGUE
from flake8_fastapi_antipatterns.check.formats import DEFAULT_FORMAT, FORMATS
from flake8_fastapi_antipatterns.check.formats.github import escape_data, escape_property
from flake8_fastapi_antipatterns.check.report import PARSE_ERROR_CODE, CheckReport
from flake8_fastapi_antipatterns.diagnostics import Diagnostic
from tests.check_project import APP, check

SCHEMAS = Path(__file__).parent / "schemas"
BROKEN = "from fastapi import FastAPI\n\napp = FastAPI(\n"


def render(name: str, report: CheckReport) -> str:
    out = io.StringIO()
    FORMATS[name](report, out)
    return out.getvalue()


def validator(schema_file: str) -> Any:
    schema = json.loads((SCHEMAS / schema_file).read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


@pytest.fixture
def report(tmp_path: Path) -> CheckReport:
    return check(tmp_path, {"app/main.py": APP, "app/broken.py": BROKEN})


def codes_at(report: CheckReport, code: str) -> list[Diagnostic]:
    return [finding for finding in report.findings if finding.code == code]


def test_the_registry_names_every_format_and_each_writes_an_empty_report(tmp_path: Path) -> None:
    assert set(FORMATS) == {"concise", "full", "json", "sarif", "github", "gitlab", "junit"}
    assert DEFAULT_FORMAT in FORMATS
    empty = CheckReport(tmp_path, [], files_checked=3)
    assert json.loads(render("json", empty)) == []
    assert json.loads(render("gitlab", empty)) == []
    assert json.loads(render("sarif", empty))["runs"][0]["results"] == []
    assert render("concise", empty) == render("full", empty) == render("github", empty) == ""


def test_the_project_gives_the_findings_the_tests_rely_on(report: CheckReport) -> None:
    assert len(codes_at(report, "FAA102")) == 2
    assert [f.filename for f in codes_at(report, PARSE_ERROR_CODE)] == ["app/broken.py"]


# -- concise and full -----------------------------------------------------------------------------


def test_concise_is_one_flake8_style_line_per_finding(report: CheckReport) -> None:
    lines = render("concise", report).splitlines()
    assert len(lines) == len(report.findings)
    assert (
        lines[0]
        == f"app/broken.py:{report.findings[0].line}:{report.findings[0].col + 1}: FAA000 {report.findings[0].message}"
    )


def test_full_shows_the_line_a_caret_under_the_column_and_the_catalogue_fix(report: CheckReport) -> None:
    text = render("full", report)
    blocking = codes_at(report, "FAA102")[0]
    block = text.split(blocking.format_text() + "\n", 1)[1].split("\n\n", 1)[0].splitlines()
    source_line = APP.splitlines()[blocking.line - 1]
    numbered = [line for line in block if line.startswith(f"{blocking.line:>2} | ")]
    assert numbered == [f"{blocking.line:>2} | {source_line}"]
    caret_row = block[block.index(numbered[0]) + 1]
    prefix = f"{blocking.line:>2} | "
    assert caret_row.index("^") - len(prefix) == source_line.index("requests.get")
    assert f"{blocking.line - 1:>2} | " in block[block.index(numbered[0]) - 1]  # a line of context above
    # A remedy chosen for this call stays in the message; the general fix would contradict it.
    assert not blocking.message.endswith(f"; {CATALOGUE['FAA102'].fix}")
    assert not any(line.startswith("  = fix:") for line in block)
    assert "  = docs: flake8-fastapi-antipatterns explain FAA102" in block


def test_full_shows_the_general_fix_apart_from_the_message(report: CheckReport) -> None:
    text = render("full", report)
    general = [f for f in report.findings if f.code in CATALOGUE and f.message.endswith(f"; {CATALOGUE[f.code].fix}")]
    assert general, "the test project has a finding with its rule's general fix"
    finding = general[0]
    what = finding.message[: -len(f"; {CATALOGUE[finding.code].fix}")]
    header = f"{finding.filename}:{finding.line}:{finding.col + 1}: {finding.code} {what}"
    block = text.split(header + "\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert f"  = fix: {CATALOGUE[finding.code].fix}" in block


def test_full_places_the_caret_by_characters_after_tabs_and_non_ascii_text(tmp_path: Path) -> None:
    source = APP.replace(
        '    resp = requests.get(f"https://rates.example.com/{currency}", timeout=5)\n    return resp.json()\n\n\n@app.get("/fees',
        '\tlabel = "Währung"; resp = requests.get(currency, timeout=5)\n\treturn resp.json()\n\n\n@app.get("/fees',
        1,
    )
    report = check(tmp_path, {"app/main.py": source})
    blocking = codes_at(report, "FAA102")[0]
    assert blocking.col == len('\tlabel = "Währung"; resp = '.encode())  # the parser's column counts bytes
    text = render("full", report)
    block = text.split(blocking.format_text() + "\n", 1)[1].splitlines()
    shown = next(line for line in block if line.startswith(f"{blocking.line:>2} | "))
    caret = block[block.index(shown) + 1]
    assert caret.index("^") == shown.index("requests.get")
    assert "\t" not in shown


def test_full_says_a_file_that_does_not_parse_was_not_checked(report: CheckReport) -> None:
    text = render("full", report)
    block = text.split("\n\n", 1)[0]
    assert block.startswith("app/broken.py:")
    assert "File could not be parsed: no rule was run on this file" in block
    assert "app = FastAPI(" in block  # the offending source is shown
    assert "docs:" not in block  # FAA000 has no rule page


# -- json -----------------------------------------------------------------------------------------


def test_json_objects_have_the_documented_fields(report: CheckReport) -> None:
    objects = json.loads(render("json", report))
    assert len(objects) == len(report.findings)
    keys = {"code", "title", "message", "severity", "filename", "location", "fix", "explain", "source", "details"}
    assert all(set(obj) == keys for obj in objects)
    parse, *rest = objects
    assert parse["code"] == PARSE_ERROR_CODE and parse["severity"] == "error"
    assert parse["explain"] is None and "syntax error" in parse["fix"]
    blocking = next(obj for obj in rest if obj["code"] == "FAA102")
    finding = codes_at(report, "FAA102")[0]
    assert blocking["location"] == {"row": finding.line, "column": finding.col + 1}
    assert blocking["fix"] == CATALOGUE["FAA102"].fix and blocking["title"] == CATALOGUE["FAA102"].title
    assert blocking["explain"] == "flake8-fastapi-antipatterns explain FAA102"
    assert blocking["message"] == finding.message and blocking["filename"] == "app/main.py"
    assert blocking["details"]["function"] == "get_rate"


def test_json_keeps_quotes_newlines_and_non_ascii_text(tmp_path: Path) -> None:
    message = 'a "quoted" \\ path\nand Währung'
    report = CheckReport(tmp_path, [Diagnostic("FAA402", message, "app/ü.py", 3, 0)])
    (obj,) = json.loads(render("json", report))
    assert obj["message"] == message and obj["filename"] == "app/ü.py"


# -- sarif ----------------------------------------------------------------------------------------


def test_sarif_validates_and_describes_faa000(report: CheckReport) -> None:
    log = json.loads(render("sarif", report))
    errors = sorted(validator("sarif-schema-2.1.0.json").iter_errors(log), key=str)
    assert not errors, "\n".join(e.message for e in errors[:5])
    run = log["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    results = run["results"]
    assert len(results) == len(report.findings)
    for result in results:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uriBaseId"] == "SRCROOT"
    parse = results[0]
    assert parse["ruleId"] == PARSE_ERROR_CODE and parse["level"] == "error"
    assert rules[parse["ruleIndex"]]["shortDescription"]["text"] == "File could not be parsed"
    assert parse["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "app/broken.py"
    fingerprints = [result["partialFingerprints"]["faaContextHash/v1"] for result in results]
    assert len(set(fingerprints)) == len(fingerprints)


def test_sarif_schema_rejects_a_result_without_a_message(report: CheckReport) -> None:
    # Guards the test above against a schema that accepts anything.
    log = json.loads(render("sarif", report))
    del log["runs"][0]["results"][0]["message"]
    assert list(validator("sarif-schema-2.1.0.json").iter_errors(log))


# -- github ---------------------------------------------------------------------------------------

ANNOTATION = re.compile(r"^::(warning|error|notice) ((?:[a-z]+=[^,:]*)(?:,[a-z]+=[^,:]*)*)::(.*)$")


def parse_annotation(line: str) -> tuple[str, dict[str, str], str]:
    match = ANNOTATION.match(line)
    assert match, line
    properties = dict(item.split("=", 1) for item in match.group(2).split(","))
    return match.group(1), properties, match.group(3)


def test_github_annotations_carry_file_line_column_and_title(
    report: CheckReport, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GITHUB_WORKSPACE", raising=False)
    lines = render("github", report).splitlines()
    assert len(lines) == len(report.findings)
    command, properties, data = parse_annotation(lines[0])
    assert command == "error" and properties["file"] == "app/broken.py"
    assert properties["title"] == escape_property("FAA000 File could not be parsed")
    blocking = codes_at(report, "FAA102")[0]
    command, properties, data = parse_annotation(lines[report.findings.index(blocking)])
    assert command == "warning"
    assert properties == {
        "file": "app/main.py",
        "line": str(blocking.line),
        "col": str(blocking.col + 1),
        "title": "FAA102 Other blocking call on the event loop",
    }
    assert data == escape_data(f"FAA102 {blocking.message}")


def test_github_escapes_data_and_properties_as_the_runner_decodes_them(tmp_path: Path) -> None:
    finding = Diagnostic("FAA402", "50% of lines\r\nsay a: b, c", "app/a,b:c%.py", 0, severity="note")
    line = render("github", CheckReport(tmp_path, [finding]))
    assert line.startswith("::notice file=app/a%2Cb%3Ac%25.py,title=FAA402 ")
    assert line.endswith("::FAA402 50%25 of lines%0D%0Asay a: b, c\n")  # ":" and "," stay in the data
    assert "line=" not in line  # a finding about the whole file has no line
    command, properties, data = parse_annotation(line.rstrip("\n"))

    def decode(text: str) -> str:
        return (
            text.replace("%0D", "\r").replace("%0A", "\n").replace("%3A", ":").replace("%2C", ",").replace("%25", "%")
        )

    assert decode(properties["file"]) == finding.filename
    assert decode(data) == f"FAA402 {finding.message}"


def test_github_paths_are_relative_to_the_repository_in_actions(
    report: CheckReport, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_WORKSPACE", str(report.root.parent))
    first = render("github", report).splitlines()[0]
    assert f"file={report.root.name}/app/broken.py," in first
    monkeypatch.setenv("GITHUB_WORKSPACE", str(report.root))
    assert "file=app/broken.py," in render("github", report).splitlines()[0]


# -- gitlab ---------------------------------------------------------------------------------------


def test_gitlab_report_has_the_documented_shape(report: CheckReport) -> None:
    issues = json.loads(render("gitlab", report))
    schema = validator("gitlab-code-quality.schema.json")
    errors = list(schema.iter_errors(issues))
    assert not errors, "\n".join(e.message for e in errors[:5])
    assert len(issues) == len(report.findings)
    parse = issues[0]
    assert parse["check_name"] == PARSE_ERROR_CODE and parse["severity"] == "critical"
    blocking = next(issue for issue in issues if issue["check_name"] == "FAA102")
    finding = codes_at(report, "FAA102")[0]
    assert blocking["location"] == {"path": "app/main.py", "lines": {"begin": finding.line}}
    assert blocking["description"] == f"FAA102 {finding.message}" and blocking["severity"] == "major"
    broken = [dict(issues[0], severity="warning")]  # not one of GitLab's severities
    assert list(schema.iter_errors(broken))


def test_gitlab_fingerprints_are_unique_and_survive_lines_inserted_above(tmp_path: Path) -> None:
    # The two routes' blocking lines are identical text, and one route repeats it four times: the
    # middle two have the same code, file, line and neighbours.
    call = '    resp = requests.get(f"https://rates.example.com/{currency}", timeout=5)\n'
    doubled = APP.replace(call, "\n".join([call] * 4), 1)
    before = json.loads(render("gitlab", check(tmp_path, {"app/main.py": doubled})))
    fingerprints = [issue["fingerprint"] for issue in before]
    assert len(set(fingerprints)) == len(fingerprints)
    assert sum(issue["check_name"] == "FAA102" for issue in before) == 5
    after = json.loads(
        render("gitlab", check(tmp_path, {"app/main.py": "import os\n\n\nCONFIG = os.environ\n" + doubled}))
    )
    assert [issue["fingerprint"] for issue in after] == fingerprints
    assert [issue["location"]["lines"]["begin"] for issue in after] == [
        issue["location"]["lines"]["begin"] + 4 for issue in before
    ]


def test_gitlab_fingerprint_changes_when_the_finding_line_changes(tmp_path: Path) -> None:
    before = json.loads(render("gitlab", check(tmp_path, {"app/main.py": APP})))
    edited = APP.replace("timeout=5)", "timeout=5.0)", 1)
    after = json.loads(render("gitlab", check(tmp_path, {"app/main.py": edited})))
    changed = {b["check_name"] for b, a in zip(before, after) if b["fingerprint"] != a["fingerprint"]}
    assert changed == {"FAA102", "FAA205"}
    assert sum(b["fingerprint"] != a["fingerprint"] for b, a in zip(before, after)) == 2  # only the edited route


# -- junit ----------------------------------------------------------------------------------------


def test_junit_has_a_suite_per_file_and_a_failing_case_per_finding(report: CheckReport) -> None:
    text = render("junit", report)
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    root = ET.fromstring(text)
    assert root.tag == "testsuites"
    assert root.get("tests") == root.get("failures") == str(len(report.findings))
    suites = root.findall("testsuite")
    assert [suite.get("name") for suite in suites] == ["app/broken.py", "app/main.py"]
    for suite in suites:
        cases = suite.findall("testcase")
        assert suite.get("tests") == suite.get("failures") == str(len(cases))
        for case in cases:
            (failure,) = case.findall("failure")
            assert case.get("classname") == suite.get("name") == case.get("file")
            assert failure.get("type") == case.get("name", "").split()[0]
    blocking = codes_at(report, "FAA102")[0]
    case = next(c for c in root.iter("testcase") if c.get("name") == f"FAA102 at {blocking.line}:{blocking.col + 1}")
    failure = case.find("failure")
    assert failure is not None and failure.get("message") == blocking.message
    assert f"fix: {CATALOGUE['FAA102'].fix}" in (failure.text or "")
    parse = suites[0].find("testcase/failure")
    assert parse is not None and "File could not be parsed" in (parse.text or "")


def test_junit_escapes_markup_and_drops_characters_xml_cannot_hold(tmp_path: Path) -> None:
    message = 'a <tag> & "quotes" \x1b[31m and \x00'
    report = CheckReport(tmp_path, [Diagnostic("FAA402", message, "app/<odd>&.py", 2, 0)])
    root = ET.fromstring(render("junit", report))
    failure = root.find("testsuite/testcase/failure")
    assert failure is not None
    assert failure.get("message") == 'a <tag> & "quotes" \ufffd[31m and \ufffd'
    assert root.find("testsuite/testcase").get("classname") == "app/<odd>&.py"  # type: ignore[union-attr]


def test_junit_without_findings_has_one_passing_case(tmp_path: Path) -> None:
    root = ET.fromstring(render("junit", CheckReport(tmp_path, [], files_checked=4)))
    cases = list(root.iter("testcase"))
    assert len(cases) == 1 and not list(cases[0])
    assert root.get("tests") == "1" and root.get("failures") == "0"
