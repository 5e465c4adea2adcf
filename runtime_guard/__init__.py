"""runtime_guard: the ASGI middleware that reports FAA anti-patterns in a running app.

    from runtime_guard import RuntimeGuard, MemorySink
    sink = MemorySink()
    app.add_middleware(RuntimeGuard, sink=sink)

Imports neither flake8 nor astroid: a staging app installs only this.  The
names below are loaded on first use: the pytest plugin
(``runtime_guard.pytest_plugin``) is imported by every pytest session where
this package is installed, and must cost nothing there until it is used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flake8_fastapi_antipatterns.diagnostics import Diagnostic
    from flake8_fastapi_antipatterns.sinks import JsonLinesSink, LoggingSink, MemorySink, SarifSink, TextSink
    from runtime_guard.config import GuardConfig
    from runtime_guard.middleware import RuntimeGuard
    from runtime_guard.reporter import Reporter

_SOURCES = {
    "Diagnostic": "flake8_fastapi_antipatterns.diagnostics",
    "GuardConfig": "runtime_guard.config",
    "JsonLinesSink": "flake8_fastapi_antipatterns.sinks",
    "LoggingSink": "flake8_fastapi_antipatterns.sinks",
    "MemorySink": "flake8_fastapi_antipatterns.sinks",
    "Reporter": "runtime_guard.reporter",
    "RuntimeGuard": "runtime_guard.middleware",
    "SarifSink": "flake8_fastapi_antipatterns.sinks",
    "TextSink": "flake8_fastapi_antipatterns.sinks",
}

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


def __getattr__(name: str) -> Any:
    source = _SOURCES.get(name)
    if source is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(source), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
