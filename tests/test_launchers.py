"""Launchers FAA403 leaves alone, and what FAA402 still reports beside them (rules/deployment.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from flake8_fastapi_antipatterns.engine import analyse_source
from flake8_fastapi_antipatterns.options import Settings

LAUNCHER = 'import uvicorn\n\n\ndef main():\n    uvicorn.run("app:app", host="0.0.0.0")\n\n\nif __name__ == "__main__":\n    main()\n'


def _codes(path: Path, code: str) -> list[int]:
    return [f.line for f in analyse_source(path.read_text(), str(path), Settings(), strict=True) if f.code == code]


@pytest.mark.parametrize(
    ("module", "packaging", "reported"),
    [
        ("__main__.py", "", False),  # `python -m pkg` on a developer's machine
        ("server.py", "", True),  # another module's function: it may be imported and called
        ("__main__.py", '[project.scripts]\nsvc = "pkg.__main__:main"\n', True),  # a console script
    ],
)
def test_a_function_only_the_main_guard_calls(tmp_path: Path, module: str, packaging: str, reported: bool) -> None:
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    if packaging:
        (tmp_path / "pyproject.toml").write_text(packaging)
    path = package / module
    path.write_text(LAUNCHER)
    assert bool(_codes(path, "FAA403")) is reported


def test_a_route_the_main_guard_calls_keeps_its_prints(tmp_path: Path) -> None:
    path = tmp_path / "app.py"
    path.write_text(
        "import asyncio\nfrom fastapi import FastAPI\napp = FastAPI()\n\n\n@app.get('/items')\nasync def items():\n"
        "    print('listing items')\n    return []\n\n\nif __name__ == '__main__':\n    print(asyncio.run(items()))\n"
    )
    assert 8 in _codes(path, "FAA402")
