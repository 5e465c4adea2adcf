"""`faa check` finds files like ruff: .gitignore files (nested too), no environments or build folders."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from flake8_fastapi_antipatterns.check.discovery import Excludes, discover


def touch(root: Path, *names: str) -> None:
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x = 1\n", encoding="utf-8")


def found(root: Path, *paths: str, exclude: list[str] | None = None, extend: tuple[str, ...] = ()) -> set[str]:
    cwd = os.getcwd()
    os.chdir(root)
    try:
        files = discover([Path(p) for p in paths or (".",)], Excludes(root, exclude, extend))
    finally:
        os.chdir(cwd)
    return {os.path.relpath(os.path.join(root, f), root).replace(os.sep, "/") for f in files}


def test_gitignore_files_nested_and_negated(tmp_path: Path) -> None:
    (tmp_path / ".git" / "info").mkdir(parents=True)
    (tmp_path / ".git" / "info" / "exclude").write_text("local_*.py\n")
    (tmp_path / ".gitignore").write_text("generated/\n*_pb2.py\n")
    (tmp_path / "pkg" / "sub").mkdir(parents=True)
    (tmp_path / "pkg" / ".gitignore").write_text("scratch.py\n!keep_pb2.py\n")
    touch(
        tmp_path, "app.py", "generated/models.py", "api_pb2.py", "local_notes.py", "pkg/scratch.py",
        "pkg/sub/scratch.py", "pkg/keep_pb2.py", "pkg/other_pb2.py", "scratch.py",
    )
    assert found(tmp_path) == {"app.py", "pkg/keep_pb2.py", "scratch.py"}


def test_gitignore_of_a_parent_directory_applies_to_a_subdirectory_argument(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".gitignore").write_text("src/old/\n")
    touch(tmp_path, "src/new/a.py", "src/old/b.py")
    assert found(tmp_path, "src") == {"src/new/a.py"}


def test_environments_build_and_tool_folders_are_skipped(tmp_path: Path) -> None:
    touch(
        tmp_path, "app.py", "env1/lib/x.py", "build/lib/x.py", "dist/x.py", ".tox/py/x.py", ".nox/x.py",
        "node_modules/x.py", "__pycache__/x.py", "pkg.egg-info/x.py", "lib/site-packages/x.py", ".hidden/x.py",
        "venv/x.py", ".venv/x.py",
    )
    (tmp_path / "env1" / "pyvenv.cfg").write_text("home = /usr\n")
    assert found(tmp_path) == {"app.py"}


def test_exclude_patterns(tmp_path: Path) -> None:
    touch(tmp_path, "app.py", "gen/a.py", "pkg/gen/b.py", "pkg/c_test.py", "build/d.py")
    assert found(tmp_path, extend=("/gen", "*_test.py")) == {"app.py", "pkg/gen/b.py"}
    assert found(tmp_path, exclude=["gen"]) == {"app.py", "pkg/c_test.py", "build/d.py"}


def test_a_file_named_explicitly_is_always_checked(tmp_path: Path) -> None:
    (tmp_path / ".gitignore").write_text("ignored.py\n")
    touch(tmp_path, "ignored.py", "build/gen.py", "script")
    assert found(tmp_path, "ignored.py", "build/gen.py", "script") == {"ignored.py", "build/gen.py", "script"}
    assert found(tmp_path) == set()


def test_files_are_listed_once(tmp_path: Path) -> None:
    touch(tmp_path, "pkg/a.py")
    assert found(tmp_path, "pkg", "pkg/a.py", ".") == {"pkg/a.py"}


def test_without_pathspec_faa_exits_2_and_says_what_to_install(tmp_path: Path) -> None:
    touch(tmp_path, "app.py")
    hide = "import sys; sys.modules['pathspec'] = None; from flake8_fastapi_antipatterns.check.cli import main; sys.exit(main(['check']))"
    result = subprocess.run([sys.executable, "-c", hide], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stderr
    assert "pip install 'flake8-fastapi-antipatterns[check]'" in result.stderr


@pytest.mark.parametrize("name", ["data.txt", "notes.pyc"])
def test_only_python_sources_are_walked(tmp_path: Path, name: str) -> None:
    touch(tmp_path, name, "ok.py")
    assert found(tmp_path) == {"ok.py"}
