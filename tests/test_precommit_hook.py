"""The pre-commit hook runs the default-on FAA codes and leaves the opt-in ones out."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def test_hook_selects_default_codes_only() -> None:
    (hook,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert hook["entry"] == "flake8" and hook["language"] == "python"
    result = subprocess.run(
        [sys.executable, "-m", "flake8", "--isolated", *hook["args"], str(ROOT / "examples" / "bad_app" / "main.py")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1, result.stderr
    assert " FAA101 " in result.stdout and " FAA301 " in result.stdout
    assert " FAA205 " not in result.stdout and " FAA403 " not in result.stdout
