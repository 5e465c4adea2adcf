"""The guard's settings: keyword arguments, overridden by ``RUNTIME_GUARD_*`` environment variables.

Precedence: the arguments given to ``RuntimeGuard`` are the defaults; a set
environment variable wins, so staging can switch mode or thresholds without a
code change.  An invalid value is logged and ignored (the guard must never be
the reason an app does not start).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Literal

from flake8_fastapi_antipatterns.options import DEFAULT_HEALTH_PATHS

log = logging.getLogger("runtime_guard")

DEFAULT_BLOCK_THRESHOLD = 0.075
"""Seconds the event loop may stall before FAA101/FAA102 (the guard's, the probe's and the CLI's default).

Under 0.1 on purpose: a stall is measured by a heartbeat that can read up to a quarter of the
threshold short, and at 0.075 every block of 100 ms or more is still reported."""

# Failures kept per host for FAA205 is this threshold: capped so a setting cannot grow memory unbounded.
MAX_OUTBOUND_FAILURE_THRESHOLD = 1000

Mode = Literal["report", "enforce"]
MODES: tuple[Mode, ...] = ("report", "enforce")
DEFAULT_PROBE_ORIGINS: tuple[str, ...] = ("https://runtime-guard-probe.invalid",)


@dataclass(frozen=True)
class GuardConfig:
    mode: Mode = "report"
    block_threshold: float = DEFAULT_BLOCK_THRESHOLD
    """Seconds the event loop may stall before FAA101/FAA102 is reported."""
    slow_request_threshold: float = 10.0
    """Seconds after which a request whose loop was not blocked is FAA103."""
    pool_wait_threshold: float = 1.0
    """Seconds a SQLAlchemy pool checkout may wait before FAA201 is reported."""
    health_paths: tuple[str, ...] = DEFAULT_HEALTH_PATHS
    leak_scan_bytes: int = 64 * 1024
    """How much of each response body is scanned for leaked details (never the whole stream)."""
    cors_probe_origins: tuple[str, ...] = DEFAULT_PROBE_ORIGINS
    """Origins known to be foreign: a response that allows one of them is FAA301."""
    report_path: str | None = None
    """Serve the worker's findings as JSON here (needs ``report_token``)."""
    report_token: str | None = field(default=None, repr=False)
    jsonl_path: str | None = None
    """Append findings to this JSON-lines file (safe for several workers)."""
    watchdog: bool = True
    instrument_sqlalchemy: bool = True
    instrument_outbound: bool = True
    """Wrap the send methods of httpx (and httpx2), requests and aiohttp once the app has imported them
    (FAA204, FAA205); the guard never imports them itself."""
    outbound_failure_threshold: int = 10
    """Calls to one host that failed in a row (connection errors, timeouts, 5xx) before FAA205."""
    outbound_failure_window: float = 60.0
    """Seconds within which those failures must fall: slower ones look like a breaker's trial calls."""
    exception_texts: bool = True
    """Record the text of exceptions the app's code handles (Python 3.12+), so that a body echoing
    ``str(e)`` is FAA303.  Each line of the app's modules calls back once, then only inside ``except``
    blocks at work (``detectors/exceptions.py``); tracebacks and the debug page are recognised without it."""
    disabled: bool = False

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, not {self.mode!r}")
        for name in ("block_threshold", "slow_request_threshold", "pool_wait_threshold", "outbound_failure_window"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive, not {getattr(self, name)!r}")
        if not 2 <= self.outbound_failure_threshold <= MAX_OUTBOUND_FAILURE_THRESHOLD:
            raise ValueError(
                f"outbound_failure_threshold must be from 2 to {MAX_OUTBOUND_FAILURE_THRESHOLD}, "
                f"not {self.outbound_failure_threshold!r}"
            )

    def with_environment(self, environ: Mapping[str, str] | None = None) -> GuardConfig:
        environ = os.environ if environ is None else environ
        changes: dict[str, object] = {}
        for spec in fields(self):
            raw = environ.get(f"RUNTIME_GUARD_{spec.name.upper()}")
            if raw is None:
                continue
            try:
                changes[spec.name] = _parse(spec.name, raw, getattr(self, spec.name))
            except ValueError as exc:
                log.warning("runtime_guard: ignoring RUNTIME_GUARD_%s=%r: %s", spec.name.upper(), raw, exc)
        if not changes:
            return self
        try:
            return replace(self, **changes)  # type: ignore[arg-type]
        except ValueError as exc:
            log.warning("runtime_guard: ignoring the environment's settings: %s", exc)
            return self


def _parse(name: str, raw: str, current: object) -> object:
    text = raw.strip()
    if isinstance(current, bool):
        if text.lower() in ("1", "true", "yes", "on"):
            return True
        if text.lower() in ("0", "false", "no", "off", ""):
            return False
        raise ValueError("expected true/false")
    if isinstance(current, float):
        value = float(text)
        if value <= 0:
            raise ValueError("expected a positive number of seconds")
        return value
    if isinstance(current, int):
        return int(text)
    if isinstance(current, tuple):
        return tuple(part.strip() for part in text.split(",") if part.strip())
    if name == "mode" and text not in MODES:
        raise ValueError(f"expected one of {MODES}")
    return text or None
