"""SARIF output validates against the SARIF 2.1.0 JSON schema shipped in tests/schemas."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from flake8_fastapi_antipatterns.catalogue import CATALOGUE
from flake8_fastapi_antipatterns.diagnostics import Diagnostic
from flake8_fastapi_antipatterns.sarif import to_sarif
from flake8_fastapi_antipatterns.sinks import SarifSink

SCHEMA_PATH = Path(__file__).parent / "schemas" / "sarif-schema-2.1.0.json"


@pytest.fixture(scope="module")
def validator() -> Any:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


FINDINGS = [
    Diagnostic("FAA101", "blocking query", "app/main.py", 12, 4),
    Diagnostic("FAA102", "loop blocked 0.3 s", "/srv/app/routes.py", 40, source="runtime", details={"stall_seconds": 0.3}),
    Diagnostic("FAA401", "no health route", "app/main.py", 0, severity="note"),
]


def test_sarif_log_validates(validator: Any) -> None:
    log = json.loads(json.dumps(to_sarif(FINDINGS)))
    errors = sorted(validator.iter_errors(log), key=str)
    assert not errors, "\n".join(e.message for e in errors[:5])


def test_schema_rejects_a_broken_log(validator: Any) -> None:
    # Guards against a schema file that accepts anything.
    log = to_sarif(FINDINGS)
    del log["runs"][0]["tool"]
    assert list(validator.iter_errors(log))


def test_rules_carry_help_and_results_physical_locations() -> None:
    run = to_sarif(FINDINGS)["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == list(CATALOGUE)
    for rule in rules:
        assert rule["help"]["text"] and "## What it does" in rule["help"]["markdown"]
    first, runtime, app_level = run["results"]
    assert first["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "app/main.py"},
        "region": {"startLine": 12, "startColumn": 5},
    }
    assert runtime["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "file:///srv/app/routes.py"
    assert runtime["properties"]["source"] == "runtime"
    assert "region" not in app_level["locations"][0]["physicalLocation"]
    assert rules[first["ruleIndex"]]["id"] == "FAA101"
    opt_in = {r["id"] for r in rules if not r["defaultConfiguration"]["enabled"]}
    assert opt_in == {"FAA205", "FAA403"}


def test_sarif_sink_writes_once_on_close(validator: Any) -> None:
    out = io.StringIO()
    sink = SarifSink(out)
    for diag in FINDINGS:
        sink.emit(diag)
    sink.close()
    sink.close()
    log = json.loads(out.getvalue())
    assert len(log["runs"][0]["results"]) == 3
    assert not list(validator.iter_errors(log))


def test_with_a_root_files_under_it_are_relative_to_srcroot(validator: Any, tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    findings = [
        Diagnostic("FAA101", "blocking query", "app/main.py", 12, 4),  # flake8's name, relative to the root
        Diagnostic("FAA102", "stall", str(tmp_path / "app" / "main.py"), 14, source="runtime"),  # the guard's
        Diagnostic("FAA102", "stall", "/srv/elsewhere/routes.py", 40, source="runtime"),  # not under the root
        Diagnostic("FAA304", "escaped", "<unknown>", 0, source="runtime"),
    ]
    log = json.loads(json.dumps(to_sarif(findings, root=tmp_path)))
    assert not list(validator.iter_errors(log))
    run = log["runs"][0]
    assert run["originalUriBaseIds"] == {
        "SRCROOT": {"uri": tmp_path.resolve().as_uri() + "/", "description": {"text": "The project's root directory."}}
    }
    static, runtime, outside, unknown = (r["locations"][0]["physicalLocation"]["artifactLocation"] for r in run["results"])
    assert static == runtime == {"uri": "app/main.py", "uriBaseId": "SRCROOT"}
    assert outside == {"uri": "file:///srv/elsewhere/routes.py"}
    assert "uriBaseId" not in unknown
    # Without a root (the sinks), names stay as they were.
    plain = to_sarif(findings)["runs"][0]
    assert "originalUriBaseIds" not in plain
    assert plain["results"][1]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].startswith("file://")
