"""`faa check` end to end: every output format and the baseline through the command line."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest

from flake8_fastapi_antipatterns.check import cli
from flake8_fastapi_antipatterns.check.formats import FORMATS

SCHEMAS = Path(__file__).parent / "schemas"
BLOCKING = (
    "import time\n"
    "from fastapi import FastAPI\n\n"
    "app = FastAPI()\n\n\n"
    "@app.get('/healthz')\n"
    "async def health():\n"
    "    time.sleep(1)\n"
)


def run(root: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    monkeypatch.chdir(root)
    status = cli.main(["check", "--isolated", "--no-progress", "--jobs", "1", *args])
    return status, capsys.readouterr().out


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "app.py").write_text(BLOCKING)
    (tmp_path / "broken.py").write_text("def f(:\n    pass\n")
    return tmp_path


def test_every_format_the_command_offers_is_written(project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    outputs = {}
    for name in sorted(FORMATS):
        status, out = run(project, monkeypatch, capsys, "--output-format", name)
        assert status == 1, name
        assert "app.py" in out and "broken.py" in out, name
        outputs[name] = out
    assert {"concise", "full", "json", "sarif", "github", "gitlab", "junit"} <= outputs.keys()
    codes = {item["code"] for item in json.loads(outputs["json"])}
    assert {"FAA102", "FAA000"} <= codes
    sarif_schema = json.loads((SCHEMAS / "sarif-schema-2.1.0.json").read_text())
    jsonschema.validate(json.loads(outputs["sarif"]), sarif_schema)
    gitlab_schema = json.loads((SCHEMAS / "gitlab-code-quality.schema.json").read_text())
    jsonschema.validate(json.loads(outputs["gitlab"]), gitlab_schema)
    assert any(line.startswith("::error file=broken.py") for line in outputs["github"].splitlines())
    # One failing test case per finding, whatever the format lists.
    failures = list(ET.fromstring(outputs["junit"]).iter("failure"))
    assert len(failures) == len(json.loads(outputs["json"])) == len(outputs["concise"].splitlines())


def test_output_file_holds_the_format(project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    status, out = run(project, monkeypatch, capsys, "--output-format", "json", "--output-file", "findings.json")
    assert status == 1 and out == ""
    assert {item["code"] for item in json.loads((project / "findings.json").read_text())} >= {"FAA102"}


def test_baseline_hides_known_findings_and_reports_new_ones(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(project, monkeypatch, capsys, "--baseline", "faa-baseline.json", "--write-baseline")[0] == 0
    assert (project / "faa-baseline.json").is_file()
    assert run(project, monkeypatch, capsys, "--baseline", "faa-baseline.json") == (0, "")
    # Lines inserted above the finding move it, and it stays known.
    (project / "app.py").write_text("import logging\n\nlog = logging.getLogger(__name__)\n" + BLOCKING)
    assert run(project, monkeypatch, capsys, "--baseline", "faa-baseline.json") == (0, "")
    # A new blocking call is reported, and only it decides the exit status.
    (project / "app.py").write_text(BLOCKING + "\n\n@app.get('/readyz')\nasync def ready():\n    time.sleep(2)\n")
    status, out = run(project, monkeypatch, capsys, "--baseline", "faa-baseline.json")
    assert status == 1
    assert [line.split(":")[:2] for line in out.splitlines()] == [["app.py", "14"]]


def test_a_baseline_that_is_not_ours_is_an_error(project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "other.json").write_text('{"results": []}')
    monkeypatch.chdir(project)
    assert cli.main(["check", "--isolated", "--no-progress", "--baseline", "other.json"]) == 2
    assert "other.json" in capsys.readouterr().err
