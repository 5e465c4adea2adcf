"""FAA301 at runtime: a response that lets an arbitrary origin read it."""

from __future__ import annotations

from collections.abc import Iterable

from flake8_fastapi_antipatterns.diagnostics import Severity


def _header(headers: Iterable[tuple[bytes, bytes]], name: bytes) -> str | None:
    for key, value in headers:
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def cors_problem(
    request_headers: Iterable[tuple[bytes, bytes]], response_headers: Iterable[tuple[bytes, bytes]], probe_origins: Iterable[str]
) -> tuple[Severity, str] | None:
    """(severity, what is wrong) when the response allows any origin, else None.

    The guard cannot know which origins an app trusts, so a reflected origin
    is only judged for origins known to be foreign (the probe's); ``*`` is
    judged always.
    """
    response_headers = list(response_headers)
    allowed = _header(response_headers, b"access-control-allow-origin")
    if allowed is None:
        return None
    credentials = (_header(response_headers, b"access-control-allow-credentials") or "").lower() == "true"
    if allowed.strip() == "*":
        return "warning", "the response allows every origin (`Access-Control-Allow-Origin: *`)"
    origin = _header(list(request_headers), b"origin")
    if origin is not None and allowed == origin and origin in set(probe_origins):
        if credentials:
            return "error", "the response reflected a foreign Origin together with `Access-Control-Allow-Credentials: true`: any website can read it with the user's cookies"
        return "warning", "the response reflected a foreign Origin in `Access-Control-Allow-Origin`"
    return None
