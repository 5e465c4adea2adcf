"""The pre-commit hooks: through flake8, the default-on FAA codes; on their own (`faa check`), the same."""

from __future__ import annotations

import configparser
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = str(ROOT / "examples" / "bad_app" / "main.py")


def hooks() -> dict[str, dict[str, Any]]:
    return {hook["id"]: hook for hook in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))}


def codes(stdout: str) -> set[str]:
    return {line.split(": ")[1].split()[0] for line in stdout.splitlines()}


def test_hook_selects_default_codes_only() -> None:
    hook = hooks()["flake8-fastapi-antipatterns"]
    assert hook["entry"] == "flake8" and hook["language"] == "python"
    result = subprocess.run(
        [sys.executable, "-m", "flake8", "--isolated", *hook["args"], EXAMPLE],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1, result.stderr
    assert " FAA101 " in result.stdout and " FAA301 " in result.stdout
    assert " FAA205 " not in result.stdout and " FAA403 " not in result.stdout


def test_faa_hook_runs_without_flake8_and_reports_the_same_codes() -> None:
    hook = hooks()["faa"]
    assert hook["language"] == "python" and hook["require_serial"] is True
    program, *arguments = hook["entry"].split()
    assert program == "faa" and arguments == ["check"]
    # pre-commit installs the hook's repository with these; ".[check]" must name a real extra.
    setup = configparser.ConfigParser()
    setup.read(ROOT / "setup.cfg")
    extras = setup["options.extras_require"]
    assert hook["additional_dependencies"] == [".[check]"] and "pathspec" in extras["check"]
    assert "flake8" not in extras["check"]
    faa = subprocess.run(
        [sys.executable, "-m", "flake8_fastapi_antipatterns", *arguments, *hook.get("args", []), "--isolated", EXAMPLE],
        capture_output=True, text=True, timeout=120,
    )
    flake8_hook = hooks()["flake8-fastapi-antipatterns"]
    flake8 = subprocess.run(
        [sys.executable, "-m", "flake8", "--isolated", *flake8_hook["args"], EXAMPLE], capture_output=True, text=True, timeout=120
    )
    assert faa.returncode == 1, faa.stderr
    assert codes(faa.stdout) == codes(flake8.stdout) and "FAA101" in codes(faa.stdout)
