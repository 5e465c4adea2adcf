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


# Origins no app trusts: a configured regex that accepts them accepts everyone.
_FOREIGN_ORIGINS = ("https://attacker.invalid", "http://evil.example.com:8080")


def _options(middleware: object) -> dict[str, object] | None:
    """The keyword options of a ``Middleware(CORSMiddleware, ...)`` entry (Starlette 0.27 and later)."""
    cls = getattr(middleware, "cls", None)
    if getattr(cls, "__name__", None) != "CORSMiddleware":
        return None
    options = getattr(middleware, "kwargs", None)
    if options is None:
        options = getattr(middleware, "options", None)  # Starlette before 0.35
    return dict(options) if isinstance(options, dict) else None


def _matches_everyone(pattern: object) -> bool:
    import re

    if not isinstance(pattern, str):
        return False
    try:
        compiled = re.compile(pattern)
    except re.error:
        return False
    return all(compiled.fullmatch(origin) for origin in _FOREIGN_ORIGINS)


def cors_configuration_problem(app: object) -> tuple[Severity, str] | None:
    """(severity, what is wrong) when the app's own CORS middleware lets every origin in.

    Read from the middleware the app was given (``app.user_middleware``), once at start-up:
    the response check above only sees origins the guard knows to be foreign, while this one
    sees the configuration every response follows.
    """
    for middleware in list(getattr(app, "user_middleware", None) or ()):
        options = _options(middleware)
        if options is None:
            continue
        origins = options.get("allow_origins") or ()
        wildcard = isinstance(origins, (list, tuple, set, frozenset)) and "*" in origins
        regex = _matches_everyone(options.get("allow_origin_regex"))
        if not (wildcard or regex):
            continue
        what = '`allow_origins=["*"]`' if wildcard else "an `allow_origin_regex` that matches any origin"
        if options.get("allow_credentials") is True:
            return (
                "error",
                f"the app's CORSMiddleware allows every origin ({what}) with `allow_credentials=True`: Starlette then "
                "echoes any Origin with credentials, so any website can read responses with the user's cookies",
            )
        return "warning", f"the app's CORSMiddleware allows every origin ({what})"
    return None
