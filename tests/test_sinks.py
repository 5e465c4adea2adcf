"""The diagnostic record and the sinks shared by the static and runtime sides."""

from __future__ import annotations

import io
import json
import logging
import multiprocessing
from pathlib import Path

import pytest

from flake8_fastapi_antipatterns.diagnostics import Diagnostic
from flake8_fastapi_antipatterns.sinks import (
    JsonLinesSink,
    LoggingSink,
    MemorySink,
    SarifSink,
    Sink,
    TextSink,
    read_json_lines,
)


def make(code: str = "FAA102", line: int = 7, **kw: object) -> Diagnostic:
    return Diagnostic(code=code, message="`time.sleep()` blocks", filename="app/main.py", line=line, **kw)  # type: ignore[arg-type]


def test_diagnostic_round_trips_through_dict() -> None:
    diag = make(col=4, severity="error", source="runtime", details={"stall_seconds": 0.3})
    assert Diagnostic.from_dict(json.loads(json.dumps(diag.to_dict()))) == diag
    assert diag.format_text() == "app/main.py:7:5: FAA102 `time.sleep()` blocks"


def test_diagnostic_rejects_unknown_severity_and_source() -> None:
    with pytest.raises(ValueError, match="severity"):
        make(severity="fatal")
    with pytest.raises(ValueError, match="source"):
        make(source="dynamic")
    with pytest.raises(ValueError, match="lacks the field 'code'"):
        Diagnostic.from_dict({"message": "x"})


def test_every_sink_satisfies_the_protocol(tmp_path: Path) -> None:
    sinks = [MemorySink(), TextSink(io.StringIO()), JsonLinesSink(tmp_path / "f.jsonl"), SarifSink(io.StringIO()), LoggingSink()]
    for sink in sinks:
        assert isinstance(sink, Sink)
        sink.close()


def test_memory_sink_snapshot_is_a_copy() -> None:
    sink = MemorySink()
    sink.emit(make())
    snapshot = sink.diagnostics
    sink.emit(make(line=8))
    assert len(snapshot) == 1 and sink.codes() == ["FAA102", "FAA102"]
    sink.clear()
    assert sink.diagnostics == []


def test_text_sink_prints_flake8_shape() -> None:
    out = io.StringIO()
    TextSink(out).emit(make())
    assert out.getvalue() == "app/main.py:7:1: FAA102 `time.sleep()` blocks\n"


def test_logging_sink_carries_the_record(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="faa-test"):
        LoggingSink("faa-test").emit(make())
    (record,) = caplog.records
    assert "FAA102" in record.getMessage() and record.faa["line"] == 7  # type: ignore[attr-defined]


def test_json_lines_round_trip_with_pid_and_host(tmp_path: Path) -> None:
    path = tmp_path / "findings.jsonl"
    sink = JsonLinesSink(path)
    sink.emit(make(details={"route": "GET /users/{id}"}))
    sink.close()
    raw = json.loads(path.read_text().splitlines()[0])
    assert raw["pid"] > 0 and raw["host"]
    (back,) = list(read_json_lines(path))
    assert back == make(details={"route": "GET /users/{id}"})


def test_read_json_lines_names_the_bad_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps(make().to_dict()) + "\n\n{not json\n")
    with pytest.raises(ValueError, match="line 3"):
        list(read_json_lines(path))


def _append_many(path: str, worker: int, count: int) -> None:
    sink = JsonLinesSink(path)
    for i in range(count):
        # Long messages make interleaving likely if writes were not atomic appends.
        sink.emit(make(line=i + 1, details={"worker": worker, "pad": "x" * 2000}))
    sink.close()


def test_json_lines_sink_is_safe_for_several_processes(tmp_path: Path) -> None:
    path = tmp_path / "shared.jsonl"
    workers, per_worker = 4, 150
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_append_many, args=(str(path), w, per_worker)) for w in range(workers)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(60)
        assert proc.exitcode == 0
    lines = path.read_text().splitlines()
    assert len(lines) == workers * per_worker
    seen = {(json.loads(line)["details"]["worker"], json.loads(line)["line"]) for line in lines}
    assert len(seen) == workers * per_worker
