"""runtime_guard: the ASGI middleware that reports FAA anti-patterns in a running app.

    from runtime_guard import RuntimeGuard, MemorySink
    sink = MemorySink()
    app.add_middleware(RuntimeGuard, sink=sink)

Imports neither flake8 nor astroid: a staging app installs only this.
"""

from flake8_fastapi_antipatterns.diagnostics import Diagnostic
from flake8_fastapi_antipatterns.sinks import JsonLinesSink, LoggingSink, MemorySink, SarifSink, TextSink
from runtime_guard.config import GuardConfig
from runtime_guard.middleware import RuntimeGuard
from runtime_guard.reporter import Reporter

__all__ = [
    "Diagnostic",
    "GuardConfig",
    "JsonLinesSink",
    "LoggingSink",
    "MemorySink",
    "Reporter",
    "RuntimeGuard",
    "SarifSink",
    "TextSink",
]
