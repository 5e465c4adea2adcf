"""What a module-level setting holds when the environment sets nothing (analysis/default_values.py)."""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import pytest

from flake8_fastapi_antipatterns.analysis.default_values import UNKNOWN, module_defaults
from flake8_fastapi_antipatterns.analysis.names import Names
from flake8_fastapi_antipatterns.engine import analyse_source


def _defaults(source: str) -> dict[str, object]:
    return module_defaults(Names(ast.parse(textwrap.dedent(source))))


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ('import os\nX = os.getenv("X")\n', None),
        ('import os\nX = os.getenv("X", "7")\n', "7"),
        ('import os\nX = int(os.environ.get("X", "7"))\n', 7),
        ('import os\nraw = os.getenv("X", "")\nX = int(raw) if raw else None\n', None),
        ('import os\nX = os.getenv("X") or "fallback"\n', "fallback"),
        ('import os\nX = os.getenv("X", " On ").strip().lower() == "on"\n', True),
        # A failed conversion in a ``try`` runs its handler.
        ('import os\ntry:\n    X = int(os.getenv("X", ""))\nexcept ValueError:\n    X = 30\n', 30),
        # ... and outside one the module needs the variable set: nothing is known.
        ('import os\nX = int(os.getenv("X", ""))\n', UNKNOWN),
        ('import os\nX = int(os.environ["X"])\n', UNKNOWN),
        # The branch the default takes.
        ('import os\nX = os.getenv("X", "")\nif X == "":\n    X = None\nelse:\n    X = int(X)\n', None),
        # A test not known: the branches must agree.
        ("import sys\nif sys.platform == 'win32':\n    X = 1\nelse:\n    X = 1\n", 1),
        ("import sys\nif sys.platform == 'win32':\n    X = 1\nelse:\n    X = 2\n", UNKNOWN),
        # Rebound in a loop: not known.
        ("X = None\nfor X in range(3):\n    pass\n", UNKNOWN),
        ("X = compute()\n", UNKNOWN),
        # What a try body set before the statement that failed stays set.
        ('import os\nX = None\ntry:\n    X = int(os.getenv("A", "300"))\n    Y = int(os.getenv("B", ""))\n'
         "except ValueError:\n    Y = None\n", 300),
        # A side of a conditional expression that would fail is not taken for the value.
        ('import os\nraw = os.getenv("T", "")\ntry:\n    X = int(raw) if raw.isdigit() else 60\nexcept ValueError:\n'
         "    X = None\n", UNKNOWN),
        # The handler that catches the failure runs, not the first one.
        ('import os\ntry:\n    X = int(os.getenv("A", ""))\nexcept KeyError:\n    X = 30\nexcept ValueError:\n    X = None\n', None),
        ('import os\ntry:\n    X = int(float(os.getenv("A", "inf")))\nexcept OverflowError:\n    X = 5\n', 5),
        ('import os\nX = int(float(os.getenv("A", "inf")))\n', UNKNOWN),
        # Forms not followed leave the name unknown.
        ('import os\nX = None\nmatch os.getenv("ENV", "prod"):\n    case "prod":\n        X = 30\n', UNKNOWN),
        ("X = None\nif (X := 30):\n    pass\n", UNKNOWN),
        ("X = None\nfrom defaults import *\n", UNKNOWN),
        ("X = None\ndef setup():\n    global X\n    X = 30\n", UNKNOWN),
        # The module sets the variable itself.
        ('import os\nos.environ.setdefault("T", "30")\nraw = os.getenv("T")\nX = int(raw) if raw else None\n', 30),
        ('import os\nos.environ[name] = value\nX = os.getenv("T")\n', UNKNOWN),
    ],
)
def test_the_default_value_of_a_setting(source: str, expected: object) -> None:
    assert _defaults(source).get("X", UNKNOWN) == expected or _defaults(source).get("X", UNKNOWN) is expected


@pytest.mark.parametrize(
    ("b_source", "reported"),
    [
        ("import os\nY = os.getenv('Y')\n", True),  # None by default, two modules away
        ("from pkg.a import X\nY = X\n", False),  # an import cycle: unknown, and no recursion
    ],
)
def test_a_setting_is_followed_through_the_modules_it_is_imported_from(
    tmp_path: Path, b_source: str, reported: bool
) -> None:
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from pkg.b import Y\nX = Y\n")
    (package / "b.py").write_text(b_source)
    main = package / "main.py"
    main.write_text(
        "import aiohttp\nfrom fastapi import FastAPI\nfrom pkg.a import X\napp = FastAPI()\n"
        "T = aiohttp.ClientTimeout(total=X)\n"
    )
    findings = analyse_source(main.read_text(), str(main), strict=True)
    assert bool([f for f in findings if f.code == "FAA204"]) is reported


def test_the_message_names_the_setting_and_a_session_finding_says_both() -> None:
    source = textwrap.dedent(
        """\
        import os

        import aiohttp
        from fastapi import FastAPI

        TIMEOUT = os.getenv("TIMEOUT")
        app = FastAPI()
        SHARED = aiohttp.ClientTimeout(total=TIMEOUT)


        @app.get("/x")
        async def x(url: str):
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT)) as session:
                return await (await session.get(url)).text()
        """
    )
    findings = {f.line: f.message for f in analyse_source(source, "app.py", strict=True) if f.code == "FAA204"}
    assert "`total=TIMEOUT`, None unless the environment sets it; no `sock_read`" in findings[8]
    assert "give `total=` a number of seconds" in findings[8]
    assert "is created per request" in findings[13] and "its `aiohttp.ClientTimeout()` bounds neither" in findings[13]
    assert 14 not in findings


def test_an_unexpected_error_in_a_settings_module_costs_no_other_finding() -> None:
    source = textwrap.dedent(
        """\
        import os

        import aiohttp
        import requests

        TIMEOUT = int(float(os.getenv("HTTP_TIMEOUT", "inf")))
        T = aiohttp.ClientTimeout(total=TIMEOUT)


        def f():
            return requests.get("http://x")
        """
    )
    lines = {f.line for f in analyse_source(source, "settings_app.py", strict=True) if f.code == "FAA204"}
    assert lines == {11}


@pytest.mark.parametrize(
    ("source", "reported"),
    [
        # Bound where it is used: the enclosing function's local, a loop target, a comprehension's, a lambda's.
        ("def f():\n    TIMEOUT = 30\n    def g():\n        return aiohttp.ClientTimeout(total=TIMEOUT)\n    return g\n", False),
        ("def f():\n    for TIMEOUT in (30, 60):\n        yield aiohttp.ClientTimeout(total=TIMEOUT)\n", False),
        ("T = [aiohttp.ClientTimeout(total=TIMEOUT) for TIMEOUT in (30,)]\n", False),
        ("T = lambda TIMEOUT=30: aiohttp.ClientTimeout(total=TIMEOUT)\n", False),
        # Positional: total, connect, sock_read.
        ("T = aiohttp.ClientTimeout(None, None, 30)\n", False),
        ("T = aiohttp.ClientTimeout(None, 5)\n", True),
        # Zero or less is no bound to aiohttp.
        ("T = aiohttp.ClientTimeout(total=0)\n", True),
        # The value the module holds where the timeout is built.
        ("TIMEOUT = 30\nT = aiohttp.ClientTimeout(total=TIMEOUT)\nTIMEOUT = None\n", False),
        ("TIMEOUT = None\nT = aiohttp.ClientTimeout(total=TIMEOUT)\nTIMEOUT = 30\n", True),
    ],
)
def test_where_an_aiohttp_timeout_is_judged(source: str, reported: bool) -> None:
    full = "import aiohttp\nTIMEOUT = None\n" + source
    findings = [f for f in analyse_source(full, "timeouts.py", strict=True) if f.code == "FAA204"]
    assert bool(findings) is reported, [f.message for f in findings]
