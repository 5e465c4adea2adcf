"""Small projects on disk and the ``CheckReport`` a check of them gives (real analysis, no flake8)."""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

from flake8_fastapi_antipatterns.check.report import PARSE_ERROR_CODE, CheckReport
from flake8_fastapi_antipatterns.diagnostics import Diagnostic
from flake8_fastapi_antipatterns.engine import analyse_source

APP = textwrap.dedent(
    """\
    import requests
    from fastapi import FastAPI

    app = FastAPI()


    @app.get("/rates/{currency}")
    async def get_rate(currency: str):
        resp = requests.get(f"https://rates.example.com/{currency}", timeout=5)
        return resp.json()


    @app.get("/fees/{currency}")
    async def get_fee(currency: str):
        resp = requests.get(f"https://rates.example.com/{currency}", timeout=5)
        return resp.json()
    """
)
"""Two routes making the same blocking call on identical lines (FAA102 and FAA205 on each)."""


def parse_error(source: str, filename: str) -> Diagnostic:
    """The record a check gives for a file that does not parse."""
    try:
        ast.parse(source, filename=filename)
    except SyntaxError as exc:
        return Diagnostic(
            PARSE_ERROR_CODE,
            f"cannot parse: {exc.msg}",
            filename,
            exc.lineno or 0,
            max((exc.offset or 1) - 1, 0),
            severity="error",
        )
    raise AssertionError(f"{filename} parses")


def check(root: Path, files: dict[str, str]) -> CheckReport:
    """Write ``files`` under ``root`` (replacing what was there) and analyse each like a check run."""
    findings: list[Diagnostic] = []
    for name, source in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source, encoding="utf-8")
        try:
            ast.parse(source)
        except SyntaxError:
            findings.append(parse_error(source, name))
            continue
        findings.extend(analyse_source(source, name, strict=True))
    findings.sort(key=lambda d: (d.filename, d.line, d.col, d.code))
    return CheckReport(root, findings, files_checked=len(files))
