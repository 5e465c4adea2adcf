"""Fail-open: a fault inside the guard is logged once per place, never raised into the app."""

from __future__ import annotations

import logging


class FaultLog:
    """The places that failed so far, for one part of the guard (its own logger)."""

    def __init__(self, logger_name: str) -> None:
        self._logger = logging.getLogger(logger_name)
        self.logged: set[str] = set()
        """The places already logged (a test may clear it to see the next one)."""

    def fault(self, where: str, exc: BaseException) -> None:
        """Log ``exc`` the first time something fails at ``where``; the app goes on untouched."""
        if where in self.logged:
            return
        self.logged.add(where)
        self._logger.warning("runtime guard: %s failed; the app is unaffected (logged once)", where, exc_info=exc)


__all__ = ["FaultLog"]
