"""The baseline of ``faa check``: known findings stay quiet across unrelated edits, new ones are reported."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flake8_fastapi_antipatterns.check.baseline import BaselineError, load_baseline, write_baseline
from flake8_fastapi_antipatterns.check.report import CheckReport
from flake8_fastapi_antipatterns.diagnostics import Diagnostic
from tests.check_project import APP, check

CALL = '    resp = requests.get(f"https://rates.example.com/{currency}", timeout=5)\n'
THIRD_ROUTE = """

@app.get("/taxes/{currency}")
async def get_tax(currency: str):
    resp = requests.get(f"https://rates.example.com/{currency}", timeout=5)
    return resp.json()
"""


def adopt(tmp_path: Path, files: dict[str, str]) -> tuple[Path, CheckReport]:
    report = check(tmp_path, files)
    baseline = tmp_path / "faa-baseline.json"
    assert write_baseline(baseline, report) == len(report.findings) > 0
    return baseline, report


def new_after(baseline: Path, tmp_path: Path, files: dict[str, str]) -> list[Diagnostic]:
    return load_baseline(baseline).new_findings(check(tmp_path, files))


def test_a_baselined_project_has_no_new_findings(tmp_path: Path) -> None:
    baseline, report = adopt(tmp_path, {"app/main.py": APP})
    assert load_baseline(baseline).new_findings(report) == []


def test_a_finding_in_a_new_file_is_new(tmp_path: Path) -> None:
    baseline, _ = adopt(tmp_path, {"app/main.py": APP})
    other = APP.replace("get_rate", "get_spot").replace("get_fee", "get_swap")
    new = new_after(baseline, tmp_path, {"app/main.py": APP, "app/other.py": other})
    assert new and {f.filename for f in new} == {"app/other.py"}


def test_lines_inserted_above_and_reindenting_do_not_resurface_findings(tmp_path: Path) -> None:
    baseline, _ = adopt(tmp_path, {"app/main.py": APP})
    header = '"""Rates."""\n\nimport logging\n\nlog = logging.getLogger(__name__)\n\n\ndef helper() -> int:\n    return 1\n\n'
    assert new_after(baseline, tmp_path, {"app/main.py": header + APP}) == []
    two_space = "\n".join(line[2:] if line.startswith("    ") else line for line in APP.splitlines()) + "\n"
    assert "\n  resp = requests.get(" in two_space
    assert new_after(baseline, tmp_path, {"app/main.py": two_space}) == []


def test_a_line_added_right_next_to_a_finding_does_not_resurface_it(tmp_path: Path) -> None:
    baseline, _ = adopt(tmp_path, {"app/main.py": APP})
    edited = APP.replace(CALL, '    log.info("fetching %s", currency)\n' + CALL, 1)
    assert new_after(baseline, tmp_path, {"app/main.py": edited}) == []


def test_editing_the_finding_line_resurfaces_it(tmp_path: Path) -> None:
    baseline, _ = adopt(tmp_path, {"app/main.py": APP})
    edited = APP.replace(CALL, CALL.replace("timeout=5", "timeout=10"), 1)
    new = new_after(baseline, tmp_path, {"app/main.py": edited})
    assert sorted(f.code for f in new) == ["FAA102", "FAA205"]
    assert {f.line for f in new} == {9} and "timeout=10" in edited.splitlines()[8]


def test_identical_findings_are_counted_and_a_third_copy_is_reported(tmp_path: Path) -> None:
    baseline, report = adopt(tmp_path, {"app/main.py": APP})
    entries = json.loads(baseline.read_text(encoding="utf-8"))["findings"]
    blocking = [e for e in entries if e["code"] == "FAA102"]
    assert len(blocking) == 2 and blocking[0]["source"] == blocking[1]["source"] == CALL.strip()
    # The new copy goes above the known ones: counting alone would blame the last (known) copy.
    grown = APP.replace("app = FastAPI()\n", "app = FastAPI()\n" + THIRD_ROUTE, 1)
    new = new_after(baseline, tmp_path, {"app/main.py": grown})
    assert sorted(f.code for f in new) == ["FAA102", "FAA205"]
    third_call_line = grown.splitlines().index(CALL.rstrip("\n")) + 1
    assert "get_tax" in grown.splitlines()[third_call_line - 2]
    assert {f.line for f in new} == {third_call_line}  # the copy in the new route, not an old one


def test_a_surplus_copy_with_the_same_context_is_still_reported(tmp_path: Path) -> None:
    # Same line, same neighbours: the entries are interchangeable, and only the count tells.
    once = APP.replace(CALL, CALL + "\n" + CALL, 1)
    baseline, _ = adopt(tmp_path, {"app/main.py": once})
    twice = APP.replace(CALL, CALL + "\n" + CALL + "\n" + CALL, 1)
    new = new_after(baseline, tmp_path, {"app/main.py": twice})
    assert sorted(f.code for f in new) == ["FAA102", "FAA205"]


def test_removing_a_finding_reports_nothing_new(tmp_path: Path) -> None:
    baseline, _ = adopt(tmp_path, {"app/main.py": APP})
    fixed = APP.replace(CALL, "    resp = await http.get(currency)\n", 1)
    assert new_after(baseline, tmp_path, {"app/main.py": fixed}) == []


def test_the_file_is_versioned_sorted_and_unchanged_by_unrelated_edits(tmp_path: Path) -> None:
    baseline, report = adopt(tmp_path, {"app/main.py": APP, "app/admin.py": APP.replace("get_", "admin_")})
    text = baseline.read_text(encoding="utf-8")
    data = json.loads(text)
    assert data["version"] == 1 and data["baseline"] == "flake8-fastapi-antipatterns baseline"
    keys = [(e["file"], e["code"], e["source"], e["context"]) for e in data["findings"]]
    assert keys == sorted(keys) and keys[0][0] == "app/admin.py"
    assert len(keys) == len(report.findings)
    assert all(set(e) == {"code", "file", "source", "context"} for e in data["findings"])  # no line numbers
    entry_lines = [line for line in text.splitlines() if line.startswith('    {"code"')]
    assert len(entry_lines) == len(keys)  # one entry per line: a diff shows one line per finding
    shifted = check(tmp_path, {"app/main.py": "import os\n\n" + APP, "app/admin.py": APP.replace("get_", "admin_")})
    write_baseline(baseline, shifted)
    assert baseline.read_text(encoding="utf-8") == text


def test_an_empty_baseline_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "faa-baseline.json"
    assert write_baseline(path, CheckReport(tmp_path, [])) == 0
    assert load_baseline(path).entries == ()


@pytest.mark.parametrize(
    ("content", "said"),
    [
        (
            '{"baseline": "flake8-fastapi-antipatterns baseline", "version": 1, "findings": [',
            "not valid JSON at line 1",
        ),
        ("[]", "not a flake8-fastapi-antipatterns baseline"),
        ('{"version": "2.1.0", "runs": []}', "not a flake8-fastapi-antipatterns baseline"),
        (
            '{"baseline": "flake8-fastapi-antipatterns baseline", "version": 7, "findings": []}',
            "newer than this release",
        ),
        ('{"baseline": "flake8-fastapi-antipatterns baseline", "findings": []}', "unknown baseline version"),
        (
            '{"baseline": "flake8-fastapi-antipatterns baseline", "version": 1, "findings": {}}',
            '"findings" field must be a list',
        ),
        (
            '{"baseline": "flake8-fastapi-antipatterns baseline", "version": 1, "findings": [{"code": "FAA102"}]}',
            "entry 1 is not a finding record",
        ),
    ],
)
def test_a_corrupt_or_foreign_file_is_refused_with_a_clear_message(tmp_path: Path, content: str, said: str) -> None:
    path = tmp_path / "faa-baseline.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(BaselineError, match=str(path)) as caught:
        load_baseline(path)
    assert said in str(caught.value)


def test_a_missing_or_binary_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(BaselineError, match="no such baseline file; create it with --write-baseline"):
        load_baseline(tmp_path / "absent.json")
    binary = tmp_path / "binary.json"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(BaselineError, match="cannot read the baseline"):
        load_baseline(binary)


def test_a_baseline_that_cannot_be_written_raises_baseline_error(tmp_path: Path) -> None:
    report = check(tmp_path, {"app/main.py": APP})
    with pytest.raises(BaselineError, match="cannot write the baseline"):
        write_baseline(tmp_path / "no-such-dir" / "faa-baseline.json", report)
