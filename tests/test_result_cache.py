"""Findings kept between runs (``result_cache``): used when nothing changed, never when anything did.

The runs are real flake8 processes, as users meet the cache: each starts with what is on disk.
A kept entry is recognised by tampering with it: a run that shows the tampered message read it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from flake8_fastapi_antipatterns.options import Settings, settings_from
from flake8_fastapi_antipatterns.result_cache import DEFAULT_DIRECTORY, KEPT_STATES

MAIN = textwrap.dedent(
    """\
    from fastapi import FastAPI

    from app import crud

    app = FastAPI()


    @app.get("/users")
    async def users():
        return crud.list_users()
    """
)
BLOCKING_CRUD = textwrap.dedent(
    """\
    import time


    def list_users():
        time.sleep(1)
        return []
    """
)
QUIET_CRUD = textwrap.dedent(
    """\
    def list_users():
        return []
    """
)
TAMPERED = "kept between runs"


def project(root: Path, crud: str = BLOCKING_CRUD) -> Path:
    (root / "app").mkdir()
    (root / "app" / "__init__.py").write_text("")
    (root / "app" / "main.py").write_text(MAIN)
    (root / "app" / "crud.py").write_text(crud)
    return root


def flake8(cwd: Path, *args: str) -> list[str]:
    result = subprocess.run(
        [sys.executable, "-m", "flake8", "--isolated", "--select", "FAA102", *args, "app"],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode in (0, 1), result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    return sorted(result.stdout.splitlines())


def entries(cache: Path) -> list[Path]:
    return sorted(cache.glob("*/*/*.json"))


def tamper(cache: Path) -> int:
    """Rewrite every kept FAA102 message; how many were rewritten."""
    count = 0
    for path in entries(cache):
        data = json.loads(path.read_text())
        for finding in data["findings"]:
            if finding["code"] == "FAA102":
                finding["message"] = TAMPERED
                count += 1
        path.write_text(json.dumps(data))
    return count


def test_an_unchanged_project_is_read_from_the_cache(tmp_path: Path) -> None:
    root = project(tmp_path)
    first = flake8(root)
    assert len(first) == 1 and "FAA102" in first[0] and "time.sleep" in first[0]
    cache = root / DEFAULT_DIRECTORY
    assert len(entries(cache)) == 3  # one per linted file
    assert (cache / ".gitignore").read_text().splitlines()[-1] == "*"
    assert (cache / "CACHEDIR.TAG").read_text().startswith("Signature: 8a477f597d28d172789f06886806bc55")
    assert tamper(cache) == 1
    assert flake8(root) == [first[0].split(" FAA102 ")[0] + f" FAA102 {TAMPERED}"]


def test_a_change_to_another_module_works_every_file_out_again(tmp_path: Path) -> None:
    root = project(tmp_path)
    assert len(flake8(root)) == 1
    tamper(root / DEFAULT_DIRECTORY)
    (root / "app" / "crud.py").write_text(QUIET_CRUD)
    # main.py did not change, but what it calls did: its kept finding is not used.
    assert flake8(root) == []


def test_settings_that_change_findings_key_the_entries(tmp_path: Path) -> None:
    root = project(tmp_path)
    flake8(root)
    tamper(root / DEFAULT_DIRECTORY)
    shown = flake8(root, "--faa-blocking-calls", "app.crud.list_users")
    assert shown and all(TAMPERED not in line for line in shown)


def test_a_new_deployment_file_is_a_new_project_state(tmp_path: Path) -> None:
    root = project(tmp_path)
    flake8(root)
    (root / "Dockerfile").write_text('CMD ["uvicorn", "app.main:app"]\n')
    flake8(root)
    states = [p for p in (root / DEFAULT_DIRECTORY).glob("*/*") if p.is_dir()]
    assert len(states) == 2


def test_a_module_outside_the_project_text_is_checked_before_use(tmp_path: Path) -> None:
    # ``build/`` is skipped when the project's text is read, but an import can still reach it (the
    # project defines a function of that name too, so the call is followed).
    root = project(tmp_path, crud="from build.helpers import list_users\n")
    (root / "app" / "legacy.py").write_text("def list_users():\n    return []\n")
    (root / "build").mkdir()
    (root / "build" / "helpers.py").write_text(BLOCKING_CRUD)
    first = flake8(root)
    assert len(first) == 1
    kept = [json.loads(p.read_text()) for p in entries(root / DEFAULT_DIRECTORY)]
    assert any(str((root / "build" / "helpers.py").resolve()) in entry["read"] for entry in kept)
    tamper(root / DEFAULT_DIRECTORY)
    (root / "build" / "helpers.py").write_text(QUIET_CRUD)
    assert flake8(root) == []


def test_an_editor_buffer_on_standard_input_is_never_kept(tmp_path: Path) -> None:
    root = project(tmp_path)
    buffer = (root / "app" / "main.py").read_text().replace("crud.list_users()", "[]")
    shown = subprocess.run(
        [sys.executable, "-m", "flake8", "--isolated", "--select", "FAA102", "--stdin-display-name", "app/main.py", "-"],
        cwd=root,
        input=buffer,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert shown.stdout == "", shown.stdout + shown.stderr
    # What the unsaved buffer gave is not what the file on disk gives.
    assert len(flake8(root)) == 1


def test_windows_line_ends_and_a_byte_order_mark_are_kept(tmp_path: Path) -> None:
    root = project(tmp_path)
    main = root / "app" / "main.py"
    main.write_bytes(b"\xef\xbb\xbf" + main.read_bytes().replace(b"\n", b"\r\n"))
    first = flake8(root)
    assert len(first) == 1 and "app/main.py" in first[0]
    assert tamper(root / DEFAULT_DIRECTORY) == 1
    assert TAMPERED in flake8(root)[0]


def test_off_writes_nothing(tmp_path: Path) -> None:
    root = project(tmp_path)
    assert len(flake8(root, "--faa-cache", "off")) == 1
    assert not (root / DEFAULT_DIRECTORY).exists()


def test_a_chosen_directory_is_used(tmp_path: Path) -> None:
    (tmp_path / "project").mkdir()
    root = project(tmp_path / "project")
    flake8(root, "--faa-cache-dir", str(tmp_path / "kept"))
    assert len(entries(tmp_path / "kept")) == 3
    assert not (root / DEFAULT_DIRECTORY).exists()


def test_damaged_entries_are_worked_out_again(tmp_path: Path) -> None:
    root = project(tmp_path)
    first = flake8(root)
    for path in entries(root / DEFAULT_DIRECTORY):
        path.write_text('{"format": "1", "findings": [{"code": 3}')
    assert flake8(root) == first
    assert flake8(root) == first  # and kept again, whole


def test_a_project_elsewhere_is_kept_in_the_working_directory(tmp_path: Path) -> None:
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "work").mkdir()
    project(tmp_path / "elsewhere")
    result = subprocess.run(
        [sys.executable, "-m", "flake8", "--isolated", "--select", "FAA102", str(tmp_path / "elsewhere" / "app")],
        cwd=tmp_path / "work",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "FAA102" in result.stdout, result.stderr
    assert len(entries(tmp_path / "work" / DEFAULT_DIRECTORY)) == 3
    assert not (tmp_path / "elsewhere" / DEFAULT_DIRECTORY).exists()


def test_a_directory_that_cannot_be_written_costs_nothing_but_time(tmp_path: Path) -> None:
    root = project(tmp_path)
    (tmp_path / "a-file").write_text("")
    assert len(flake8(root, "--faa-cache-dir", str(tmp_path / "a-file" / "cache"))) == 1


def test_only_the_most_recent_states_are_kept(tmp_path: Path) -> None:
    root = project(tmp_path)
    for number in range(KEPT_STATES + 2):
        (root / "app" / "crud.py").write_text(BLOCKING_CRUD + f"\nVERSION = {number}\n")
        assert len(flake8(root)) == 1
    states = [p for p in (root / DEFAULT_DIRECTORY).glob("*/*") if p.is_dir()]
    assert len(states) == KEPT_STATES


def test_parallel_workers_share_the_cache(tmp_path: Path) -> None:
    root = project(tmp_path)
    for number in range(8):
        (root / "app" / f"routes_{number}.py").write_text(MAIN.replace("/users", f"/users/{number}"))
    expected = flake8(root, "--faa-cache", "off", "-j", "1")
    assert len(expected) == 9
    assert flake8(root, "-j", "2") == expected
    assert flake8(root, "-j", "2") == expected
    assert flake8(root, "-j", "1") == expected
    assert len(entries(root / DEFAULT_DIRECTORY)) == 11


def test_cache_options() -> None:
    assert Settings().cache_enabled
    assert not settings_from({"cache": "off"}).cache_enabled
    assert settings_from({"cache": "on"}).cache_enabled
    assert settings_from({"cache_dir": "/tmp/x"}).cache_dir == ("/tmp/x",)
    # Where findings are kept does not change what they are.
    assert settings_from({"cache": "off", "cache_dir": "x"}).analysis_key() == Settings().analysis_key()
    assert settings_from({"scope": "all"}).analysis_key() != Settings().analysis_key()
    with pytest.raises(ValueError, match="--faa-cache takes on or off"):
        settings_from({"cache": "sometimes"})
    with pytest.raises(ValueError, match="one directory"):
        settings_from({"cache_dir": "a,b"})


def faa_check(cwd: Path, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "flake8_fastapi_antipatterns", "check", "--isolated", "--no-progress", "--select", "FAA102", *args, "app"],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "Traceback" not in result.stderr, result.stderr
    return result.stdout


def test_faa_check_reads_what_flake8_kept(tmp_path: Path) -> None:
    root = project(tmp_path)
    assert flake8(root)
    tamper(root / DEFAULT_DIRECTORY)
    assert TAMPERED in faa_check(root)
    fresh = faa_check(root, "--faa-cache", "off")
    assert "time.sleep" in fresh and TAMPERED not in fresh
