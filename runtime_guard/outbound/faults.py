"""Fail-open for the outbound instrumentation: a fault is logged once per place, never raised into the app."""

from __future__ import annotations

from runtime_guard.faults import FaultLog

_faults = FaultLog("runtime_guard.outbound")
fault = _faults.fault

__all__ = ["fault"]
