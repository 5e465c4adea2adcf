"""runtime_guard.otel: findings as OpenTelemetry log records (needs opentelemetry-sdk)."""

from __future__ import annotations

import sys
from typing import Any

import pytest

from flake8_fastapi_antipatterns.diagnostics import Diagnostic
from flake8_fastapi_antipatterns.sinks import Sink
from runtime_guard.otel import OpenTelemetrySink, flatten_details

sdk_logs = pytest.importorskip(
    "opentelemetry.sdk._logs", reason="opentelemetry-sdk is not installed (pip install opentelemetry-sdk)"
)
sdk_export = pytest.importorskip("opentelemetry.sdk._logs.export")


def make_provider() -> tuple[Any, Any]:
    exporter_cls = getattr(sdk_export, "InMemoryLogRecordExporter", None) or sdk_export.InMemoryLogExporter
    exporter = exporter_cls()
    provider = sdk_logs.LoggerProvider()
    provider.add_log_record_processor(sdk_export.SimpleLogRecordProcessor(exporter))
    return provider, exporter


def blocking_finding() -> Diagnostic:
    return Diagnostic(
        code="FAA102",
        message="event loop blocked for 0.31 s in `get_user` (app.py:42) while serving GET /users/{user_id}",
        filename="/srv/app/app.py",
        line=42,
        source="runtime",
        details={
            "stall_seconds": 0.31,
            "route": "/users/{user_id}",
            "method": "GET",
            "function": "get_user",
            "stack": ["/srv/app/app.py:42", "/srv/app/deps.py:7"],
            "pool": {"size": 5, "overflow": None},
        },
    )


def test_each_finding_becomes_one_log_record_with_its_location() -> None:
    provider, exporter = make_provider()
    sink = OpenTelemetrySink(provider)
    assert isinstance(sink, Sink)
    sink.emit(blocking_finding())
    sink.close()
    (exported,) = exporter.get_finished_logs()
    record = exported.log_record
    attributes = dict(record.attributes)
    assert attributes["faa.code"] == "FAA102"
    assert attributes["faa.source"] == "runtime"
    assert attributes["code.filepath"] == "/srv/app/app.py"
    assert attributes["code.lineno"] == 42
    assert attributes["code.function"] == "get_user"
    assert attributes["faa.details.stall_seconds"] == 0.31
    assert attributes["faa.details.route"] == "/users/{user_id}"
    assert tuple(attributes["faa.details.stack"]) == ("/srv/app/app.py:42", "/srv/app/deps.py:7")
    assert attributes["faa.details.pool.size"] == 5
    assert "faa.details.pool.overflow" not in attributes  # None is not an attribute value
    assert record.body.startswith("FAA102 event loop blocked")
    assert record.severity_text == "WARNING"
    assert exported.instrumentation_scope.name == "runtime_guard"


def test_several_findings_are_separate_records() -> None:
    provider, exporter = make_provider()
    sink = OpenTelemetrySink(provider)
    first = blocking_finding()
    second = Diagnostic(code="FAA202", message="leak", filename="db.py", line=3, severity="error", source="runtime")
    sink.emit(first)
    sink.emit(second)
    codes = [dict(item.log_record.attributes)["faa.code"] for item in exporter.get_finished_logs()]
    assert codes == ["FAA102", "FAA202"]
    assert exporter.get_finished_logs()[1].log_record.severity_text == "ERROR"


def test_the_global_provider_is_used_by_default() -> None:
    sink = OpenTelemetrySink()  # the API's proxy provider: records go nowhere, nothing fails
    sink.emit(blocking_finding())
    sink.close()


def test_flatten_details_keeps_attribute_values_valid() -> None:
    flat = flatten_details({"n": 1, "mixed": [1, "a", None], "obj": object(), "deep": {"a": {"b": True}}})
    assert flat["faa.details.n"] == 1
    assert flat["faa.details.mixed"] == ["1", "a"]
    assert isinstance(flat["faa.details.obj"], str)
    assert flat["faa.details.deep.a.b"] is True


def test_missing_opentelemetry_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "opentelemetry", None)
    with pytest.raises(ImportError, match=r"\[otel\]"):
        OpenTelemetrySink()
