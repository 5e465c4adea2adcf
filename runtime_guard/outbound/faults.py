"""Fail-open for the outbound instrumentation: a fault is logged once per place, never raised into the app."""

from __future__ import annotations

import logging

_logger = logging.getLogger("runtime_guard.outbound")

_logged: set[str] = set()


def fault(where: str, exc: BaseException) -> None:
    """Log ``exc`` the first time something fails at ``where``; the app's call goes on untouched."""
    if where in _logged:
        return
    _logged.add(where)
    _logger.warning("runtime guard: %s failed; the app is unaffected (logged once)", where, exc_info=exc)
