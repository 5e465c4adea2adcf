"""The plugin as users meet it: real flake8 runs, `# noqa`, options from setup.cfg, opt-in codes."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

BLOCKING = textwrap.dedent(
    """\
    import time
    from fastapi import FastAPI

    app = FastAPI()


    @app.get("/slow")
    async def slow():
        time.sleep(1)
        return {}


    @app.get("/quiet")
    async def quiet():
        time.sleep(1)  # noqa: FAA102
        return {}
    """
)


def flake8(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "flake8", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_finding_is_reported_and_noqa_silences_it(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(BLOCKING)
    result = flake8(tmp_path, "--isolated", "--select", "FAA1", "app.py")
    lines = result.stdout.splitlines()
    assert result.returncode == 1, result.stderr
    assert len(lines) == 1, lines
    assert lines[0].startswith("app.py:9:5: FAA102 ")
    assert "time.sleep" in lines[0]


def test_plugin_is_registered_with_its_version() -> None:
    result = subprocess.run([sys.executable, "-m", "flake8", "--version"], capture_output=True, text=True, check=True)
    assert "flake8-fastapi-antipatterns" in result.stdout


def test_options_appear_in_help() -> None:
    out = flake8(Path.cwd(), "--help").stdout
    for flag in ("--faa-health-paths", "--faa-blocking-calls", "--faa-db-modules", "--faa-llm-calls", "--faa-rate-limit-names", "--faa-breaker-names"):
        assert flag in out


def test_options_are_read_from_setup_cfg(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(
        textwrap.dedent(
            """\
            import legacydb
            from fastapi import FastAPI

            app = FastAPI()


            @app.get("/x")
            async def read():
                return legacydb.fetch("select 1")
            """
        )
    )
    quiet = flake8(tmp_path, "--select", "FAA101,FAA102", "app.py")
    assert quiet.stdout == "", quiet.stdout
    (tmp_path / "setup.cfg").write_text("[flake8]\nfaa-blocking-calls = legacydb.fetch\n")
    loud = flake8(tmp_path, "--select", "FAA101,FAA102", "app.py")
    assert "app.py:9:12: FAA102" in loud.stdout, loud.stdout + loud.stderr


def test_opt_in_codes_are_hidden_until_selected(tmp_path: Path) -> None:
    (tmp_path / "serve.py").write_text(
        textwrap.dedent(
            """\
            import uvicorn
            from fastapi import FastAPI

            app = FastAPI()

            def serve():
                uvicorn.run(app, host="0.0.0.0", port=8000)
            """
        )
    )
    plain = flake8(tmp_path, "--isolated", "serve.py")
    assert "FAA403" not in plain.stdout
    selected = flake8(tmp_path, "--isolated", "--extend-select", "FAA403", "serve.py")
    assert "serve.py:7:5: FAA403" in selected.stdout, selected.stdout + selected.stderr


def test_unparsable_file_is_flake8s_business_not_a_crash(tmp_path: Path) -> None:
    (tmp_path / "broken.py").write_text("async def f(:\n    pass\n")
    result = flake8(tmp_path, "--isolated", "broken.py")
    assert "E999" in result.stdout
    assert "Traceback" not in result.stderr


def test_bad_option_value_is_a_usage_error_not_a_traceback(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(BLOCKING)
    (tmp_path / "setup.cfg").write_text("[flake8]\nfaa-fixed-file-reads = sometimes\n")
    result = flake8(tmp_path, "app.py")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "--faa-fixed-file-reads takes yes or no, not 'sometimes'" in result.stderr
    assert "Traceback" not in result.stderr
