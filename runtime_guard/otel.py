"""A sink that sends each finding as an OpenTelemetry log record.

Staging fleets already ship OpenTelemetry logs to a collector; emitting
findings there lets the collector aggregate them across machines and workers
(group by ``faa.code`` + ``code.filepath`` + ``code.lineno``).

OpenTelemetry is optional: it is imported when the sink is created, with an
ImportError naming the ``otel`` extra when it is missing.  Only the API
package is needed here; the app (or its auto-instrumentation) supplies the
SDK, the exporter and the resource (service.name, host, ...).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from flake8_fastapi_antipatterns import __version__
from flake8_fastapi_antipatterns.diagnostics import Diagnostic

__all__ = ["OpenTelemetrySink", "flatten_details"]

LOGGER_NAME = "runtime_guard"
EVENT_NAME = "faa.finding"
# OpenTelemetry attributes hold primitives and homogeneous lists of primitives.
_PRIMITIVES = (str, bool, int, float)
_MAX_DEPTH = 4


def flatten_details(details: Mapping[str, Any], prefix: str = "faa.details") -> dict[str, Any]:
    """``{"a": {"b": 1}}`` -> ``{"faa.details.a.b": 1}``, with values OpenTelemetry accepts."""
    flat: dict[str, Any] = {}

    def visit(value: Any, key: str, depth: int) -> None:
        if value is None:
            return
        if isinstance(value, _PRIMITIVES):
            flat[key] = value
        elif isinstance(value, Mapping) and depth < _MAX_DEPTH:
            for sub_key, sub_value in value.items():
                visit(sub_value, f"{key}.{sub_key}", depth + 1)
        elif isinstance(value, (list, tuple)):
            items = [item for item in value if item is not None]
            kinds = {type(item) for item in items}
            if len(kinds) == 1 and kinds <= set(_PRIMITIVES):
                flat[key] = list(items)
            else:  # mixed or nested: a list of strings keeps it one attribute
                flat[key] = [str(item) for item in items]
        else:
            flat[key] = str(value)

    for name, value in details.items():
        visit(value, f"{prefix}.{name}", 1)
    return flat


class OpenTelemetrySink:
    """Emits findings through an OpenTelemetry ``LoggerProvider`` (the global one by default)."""

    def __init__(self, logger_provider: Any | None = None) -> None:
        try:
            from opentelemetry import _logs
        except ImportError as exc:
            raise ImportError(
                "OpenTelemetrySink needs the OpenTelemetry API: "
                "pip install 'flake8-fastapi-antipatterns[otel]' (plus an SDK and exporter for your collector)"
            ) from exc
        self._log_record = _logs.LogRecord
        severity = _logs.SeverityNumber
        self._severities = {"error": severity.ERROR, "warning": severity.WARN, "note": severity.INFO}
        self._provider = logger_provider if logger_provider is not None else _logs.get_logger_provider()
        self._logger = self._provider.get_logger(LOGGER_NAME, __version__)

    def attributes(self, diagnostic: Diagnostic) -> dict[str, Any]:
        attributes: dict[str, Any] = {
            "event.name": EVENT_NAME,
            "faa.code": diagnostic.code,
            "faa.source": diagnostic.source,
            "faa.severity": diagnostic.severity,
            # The names OpenTelemetry's semantic conventions used for years, and their current ones.
            "code.filepath": diagnostic.filename,
            "code.lineno": diagnostic.line,
            "code.file.path": diagnostic.filename,
            "code.line.number": diagnostic.line,
        }
        function = diagnostic.details.get("function")
        if isinstance(function, str):
            attributes["code.function"] = function
        attributes.update(flatten_details(diagnostic.details))
        return attributes

    def emit(self, diagnostic: Diagnostic) -> None:
        now = time.time_ns()
        record = self._log_record(
            timestamp=now,
            observed_timestamp=now,
            severity_text=diagnostic.severity.upper(),
            severity_number=self._severities.get(diagnostic.severity),
            body=f"{diagnostic.code} {diagnostic.message}",
            attributes=self.attributes(diagnostic),
        )
        self._logger.emit(record)

    def close(self) -> None:
        # The provider belongs to the app: flush what we sent, never shut it down.
        flush = getattr(self._provider, "force_flush", None)
        if callable(flush):
            flush()
