"""`faa check`: exit statuses, files that do not parse (FAA000), output, progress, the console commands."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest

from flake8_fastapi_antipatterns.check import cli
from flake8_fastapi_antipatterns.check.progress import SHOW_AFTER_SECONDS, Progress

BLOCKING = "import time\nfrom fastapi import FastAPI\n\napp = FastAPI()\n\n\n@app.get('/healthz')\nasync def health():\n    time.sleep(1)\n"
CLEAN = "def add(a, b):\n    return a + b\n"


def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    monkeypatch.chdir(tmp_path)
    status = cli.main(["check", "--isolated", "--no-progress", "--jobs", "1", *args])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_exit_statuses(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "clean.py").write_text(CLEAN)
    assert run(tmp_path, monkeypatch, capsys)[:2] == (0, "")
    (tmp_path / "app.py").write_text(BLOCKING)
    status, out, _ = run(tmp_path, monkeypatch, capsys)
    assert status == 1 and out.startswith("app.py:9:5: FAA102 ")
    assert run(tmp_path, monkeypatch, capsys, "--exit-zero")[0] == 0
    assert run(tmp_path, monkeypatch, capsys, "--ignore", "FAA102")[0] == 0
    assert run(tmp_path, monkeypatch, capsys, "--exit-zero", "--faa-scope", "never")[0] == 2
    status, _, err = run(tmp_path, monkeypatch, capsys, "--write-baseline")
    assert status == 2 and "--baseline" in err


def test_usage_errors_exit_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for argv in (["check", "--jobs", "0"], ["check", "--no-such-flag"], []):
        with pytest.raises(SystemExit) as exited:
            cli.main(argv)
        assert exited.value.code == 2


def test_files_that_do_not_parse_are_reported_and_the_rest_still_checked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "app.py").write_text(BLOCKING)
    (tmp_path / "broken.py").write_text("x = 1\ndef f(:\n    pass\n")
    (tmp_path / "nul.py").write_bytes(b"x = 1\ny = 2\x00\n")
    (tmp_path / "latin.py").write_bytes(b"name = '\xe9t\xe9'\n")
    status, out, _ = run(tmp_path, monkeypatch, capsys)
    lines = out.splitlines()
    assert status == 1
    assert "app.py:9:5: FAA102" in out
    broken = [line for line in lines if line.startswith("broken.py:")]
    assert len(broken) == 1 and broken[0].startswith("broken.py:2:") and " FAA000 could not parse: " in broken[0]
    assert any(line.startswith("nul.py:2:") and "FAA000 could not parse: the file holds a NUL byte" in line for line in lines)
    assert any(line.startswith("latin.py:1:") and " FAA000 could not parse: " in line for line in lines)
    # Ignoring the rules does not hide them; naming FAA000 does.
    status, out, _ = run(tmp_path, monkeypatch, capsys, "--ignore", "FAA")
    assert status == 1 and out.count(" FAA000 ") == 3 and " FAA102 " not in out
    status, out, _ = run(tmp_path, monkeypatch, capsys, "--ignore", "FAA000")
    assert status == 1 and " FAA000 " not in out and " FAA102 " in out


def test_an_analysis_failure_does_not_stop_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from flake8_fastapi_antipatterns.rules import base

    (tmp_path / "a.py").write_text(BLOCKING)
    (tmp_path / "b.py").write_text(BLOCKING)
    build = base.Context.build.__func__  # type: ignore[attr-defined]

    def failing(cls: type[base.Context], tree: object, filename: str, settings: object) -> base.Context:
        if filename.endswith("a.py"):
            raise RuntimeError("boom")
        return build(cls, tree, filename, settings)  # type: ignore[no-any-return]

    monkeypatch.setattr(base.Context, "build", classmethod(failing))
    status, out, err = run(tmp_path, monkeypatch, capsys)
    assert status == 1 and out.startswith("b.py:9:5: FAA102") and "a.py" not in out
    assert "could not index" in err and "a.py" in err


def test_output_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "app.py").write_text(BLOCKING)
    status, out, _ = run(tmp_path, monkeypatch, capsys, "--output-file", "found.txt")
    assert status == 1 and out == ""
    assert (tmp_path / "found.txt").read_text().startswith("app.py:9:5: FAA102 ")


def test_no_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(tmp_path, monkeypatch, capsys)
    assert (status, out) == (0, "") and "no Python files" in err


def test_console_command_and_module_subcommand(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(BLOCKING)
    faa = Path(sys.executable).parent / "faa"
    commands = [[sys.executable, "-m", "flake8_fastapi_antipatterns", "check"]]
    if faa.is_file():
        commands.append([str(faa), "check"])
    for command in commands:
        result = subprocess.run([*command, "--isolated"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
        assert result.returncode == 1, result.stderr
        assert result.stdout.startswith("app.py:9:5: FAA102 ")
        assert result.stderr == "", "no progress counter when stderr is not a terminal"


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_shows_only_on_a_terminal_and_after_a_while() -> None:
    assert Progress.wanted(FakeTerminal(), disabled=False)
    assert not Progress.wanted(FakeTerminal(), disabled=True)
    assert not Progress.wanted(io.StringIO(), disabled=False)
    now = [0.0]
    stream = FakeTerminal()
    progress = Progress(3, stream, enabled=True, now=lambda: now[0])
    progress.advance()
    assert stream.getvalue() == "", "a quick run prints nothing"
    now[0] = SHOW_AFTER_SECONDS + 1
    progress.advance()
    progress.advance()
    progress.close()
    text = stream.getvalue()
    assert "\rfaa: checked 2/3 files" in text and "checked 3/3 files" in text and text.endswith("\r")
