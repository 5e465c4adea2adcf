"""`faa check` and `flake8 --select FAA` report the same findings; a parallel run is a serial one."""

from __future__ import annotations

import functools
import os
import subprocess
import sys
from pathlib import Path

import pytest

from flake8_fastapi_antipatterns.check.runner import MIN_FILES_PER_WORKER, worker_count

ROOT = Path(__file__).resolve().parent.parent
FAA = [sys.executable, "-m", "flake8_fastapi_antipatterns", "check", "--isolated", "--no-progress"]
FLAKE8 = [sys.executable, "-m", "flake8", "--isolated"]


def findings(command: list[str]) -> list[str]:
    """Sorted FAA finding lines, paths relative to the repository (flake8 spells them ./x or /abs/x)."""
    return list(_findings(tuple(command)))


@functools.cache
def _findings(command: tuple[str, ...]) -> tuple[str, ...]:
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode in (0, 1), result.stderr[-3000:]
    rows = []
    for line in result.stdout.splitlines():
        path, sep, rest = line.partition(":")
        if " FAA" not in rest:
            continue  # flake8's own codes under its default selection
        rows.append(os.path.relpath(os.path.join(ROOT, path), ROOT) + sep + rest)
    return tuple(sorted(rows))


@pytest.mark.parametrize("paths", [["examples", "tests/fixtures"]])
def test_every_code_selected(paths: list[str]) -> None:
    faa = findings([*FAA, "--jobs", "2", "--select", "FAA", *paths])
    assert faa, "the fixtures hold findings"
    assert any(" FAA205 " in row for row in faa), "opt-in codes are selected by the prefix"
    assert " FAA000 " not in "\n".join(faa)
    assert faa == findings([*FLAKE8, "--select", "FAA", *paths])


def test_default_selection() -> None:
    faa = findings([*FAA, "examples"])
    assert faa and not any(" FAA205 " in row or " FAA403 " in row for row in faa)
    assert faa == findings([*FLAKE8, "examples"])


def test_parallel_run_equals_serial_run() -> None:
    paths = ["--select", "FAA", "examples", "tests/fixtures"]
    serial = findings([*FAA, "--jobs", "1", *paths])
    assert serial and serial == findings([*FAA, "--jobs", "2", *paths])  # the same command as the parity test's


def test_workers_only_for_enough_files() -> None:
    assert worker_count(2, 2 * MIN_FILES_PER_WORKER) == 2
    assert worker_count(8, 3 * MIN_FILES_PER_WORKER) == 3
    assert worker_count(2, MIN_FILES_PER_WORKER) == 1
    assert worker_count(1, 1000) == 1
