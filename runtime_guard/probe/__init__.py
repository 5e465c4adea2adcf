"""The runtime probe: exercise an app in-process under the guard and report what it shows.

    python -m runtime_guard probe main:app

Needs the ``probe`` extra (hypothesis, httpx).  Nothing here is imported by
``runtime_guard`` itself, and this package imports its modules only when
asked (``from runtime_guard.probe import Probe``), so the command line can
say what is missing instead of failing on import.
"""

from __future__ import annotations

from typing import Any

__all__ = ["ClientSetup", "Probe", "ProbeOptions", "ProbeResult"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from runtime_guard.probe import runner

        return getattr(runner, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
