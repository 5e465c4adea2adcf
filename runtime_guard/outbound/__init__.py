"""Outbound HTTP calls at runtime: FAA204 (a call with no timeout outlived its request's budget) and
FAA205 (calls to a failing host kept being attempted, with no fast failure).

- ``libraries``: what the guard knows of httpx, requests and aiohttp (the method to wrap, how to read
  a call's host, timeout and outcome);
- ``clients``: the process-wide wrappers, installed only for libraries the app has imported;
- ``watch``: one guard's findings from the calls its requests make;
- ``failures``: the bounded per-host record of failed calls behind FAA205.
"""

from __future__ import annotations

from runtime_guard.outbound.watch import OutboundCall, OutboundWatch

__all__ = ["OutboundCall", "OutboundWatch"]
