"""`faa check` settings: command line > [tool.faa] > [flake8] > defaults, selection, per-file-ignores, bad config."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from flake8_fastapi_antipatterns.check import cli
from flake8_fastapi_antipatterns.check.config import CommandLine, ConfigError, load_config
from flake8_fastapi_antipatterns.check.selection import Selection

# FAA402 (print) in a route, and FAA205 (opt-in: no circuit breaker) on an outbound call.
APP = textwrap.dedent(
    """
    import httpx
    from fastapi import FastAPI

    app = FastAPI()


    @app.get("/healthz")
    async def health():
        return {}


    @app.get("/items")
    async def items():
        print("listing")
        async with httpx.AsyncClient(timeout=3) as client:
            return (await client.get("https://example.com")).json()
    """
)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def codes_of(out: str) -> set[tuple[str, str]]:
    """(file, code) of each concise output line."""
    found = set()
    for line in out.splitlines():
        location, _, rest = line.partition(": ")
        found.add((location.split(":")[0], rest.split()[0]))
    return found


def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    monkeypatch.chdir(tmp_path)
    status = cli.main(["check", "--no-progress", "--jobs", "1", *args])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


# -- selection ---------------------------------------------------------------------------------


def test_default_selection_is_the_default_on_codes() -> None:
    default = Selection()
    assert default.reports("FAA101") and default.reports("FAA402")
    assert not default.reports("FAA205") and not default.reports("FAA403")


def test_prefixes_select_and_the_longer_prefix_wins() -> None:
    assert Selection(select=("FAA1",)).reports("FAA102")
    assert not Selection(select=("FAA1",)).reports("FAA201")
    assert Selection(select=("FAA",)).reports("FAA205"), "an explicit prefix turns opt-in codes on, as under flake8"
    assert not Selection(select=("FAA",), ignore=("FAA1",)).reports("FAA101")
    assert Selection(select=("FAA101",), ignore=("FAA1",)).reports("FAA101")
    assert not Selection(ignore=("FAA1",)).reports("FAA101"), "an ignore beats the implicit default selection"
    assert Selection(extend_select=("FAA205",)).reports("FAA205") and Selection(extend_select=("FAA205",)).reports("FAA101")


def test_parse_errors_are_reported_unless_named() -> None:
    assert Selection(select=("FAA1",)).reports("FAA000")
    assert Selection(ignore=("FAA",)).reports("FAA000")
    assert not Selection(ignore=("FAA000",)).reports("FAA000")
    assert not Selection().reports("FAA000", file_ignores=("FAA0",))


# -- precedence ----------------------------------------------------------------------------------


def test_command_line_beats_tool_faa_beats_flake8_section(tmp_path: Path) -> None:
    write(tmp_path / "setup.cfg", "[flake8]\nfaa-health-paths = /a\nfaa-scope = all\nfaa-breaker-names = brk\n")
    write(tmp_path / "pyproject.toml", '[tool.faa]\nhealth-paths = ["/b"]\nscope = "serving"\n')
    config = load_config(tmp_path, CommandLine(options={"health_paths": "/c"}))
    assert config.settings.health_paths == ("/c",)
    assert config.settings.scope == ("serving",)  # [tool.faa] over [flake8]
    assert config.settings.breaker_names == ("brk",)  # [flake8] when [tool.faa] says nothing
    assert config.settings.db_modules == ()  # the default
    assert load_config(tmp_path, CommandLine()).settings.health_paths == ("/b",)


def test_tool_faa_is_found_upwards_and_roots_the_patterns(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", '[tool.faa]\nextend-select = ["FAA205"]\nexclude = ["gen"]\n')
    (tmp_path / "src" / "pkg").mkdir(parents=True)
    config = load_config(tmp_path / "src" / "pkg", CommandLine())
    assert config.root == tmp_path.resolve()
    assert config.selection.extend_select == ("FAA205",) and config.exclude == ("gen",)


def test_select_on_the_command_line_replaces_and_extend_adds(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", '[tool.faa]\nselect = ["FAA1"]\nextend-select = ["FAA205"]\nignore = ["FAA102"]\n')
    config = load_config(tmp_path, CommandLine(select="FAA4", extend_select="FAA403"))
    assert config.selection == Selection(select=("FAA4",), extend_select=("FAA205", "FAA403"), ignore=("FAA102",))


def test_selection_from_each_layer_reaches_the_findings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path / "app.py", APP)
    write(tmp_path / "pyproject.toml", '[tool.faa]\nselect = ["FAA4"]\n')
    assert codes_of(run(tmp_path, monkeypatch, capsys)[1]) == {("app.py", "FAA402")}
    write(tmp_path / "pyproject.toml", '[tool.faa]\nselect = ["FAA4"]\nextend-select = ["FAA205"]\n')
    assert codes_of(run(tmp_path, monkeypatch, capsys)[1]) == {("app.py", "FAA402"), ("app.py", "FAA205")}
    assert codes_of(run(tmp_path, monkeypatch, capsys, "--ignore", "FAA4")[1]) == {("app.py", "FAA205")}
    isolated = codes_of(run(tmp_path, monkeypatch, capsys, "--isolated")[1])
    assert ("app.py", "FAA402") in isolated and ("app.py", "FAA205") not in isolated


def test_flake8_section_options_reach_the_rules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path / "app.py", APP.replace('"/healthz"', '"/status"'))
    write(tmp_path / "pyproject.toml", '[tool.faa]\nselect = ["FAA401"]\n')
    assert ("app.py", "FAA401") in codes_of(run(tmp_path, monkeypatch, capsys)[1])
    write(tmp_path / "tox.ini", "[flake8]\nmax-line-length = 100\nfaa-health-paths = /status\n")
    assert ("app.py", "FAA401") not in codes_of(run(tmp_path, monkeypatch, capsys)[1])


def test_per_file_ignores(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path / "app.py", APP)
    write(tmp_path / "scripts" / "tool.py", APP)
    write(tmp_path / "pyproject.toml", '[tool.faa]\nselect = ["FAA4"]\n[tool.faa.per-file-ignores]\n"scripts/*" = ["FAA402"]\n')
    assert codes_of(run(tmp_path, monkeypatch, capsys)[1]) == {("app.py", "FAA402")}


def test_exclude_and_extend_exclude(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("app.py", "gen/app.py", "build/app.py", "vendor/app.py"):
        write(tmp_path / name, APP)
    assert {f for f, _ in codes_of(run(tmp_path, monkeypatch, capsys)[1])} == {"app.py", "gen/app.py", "vendor/app.py"}
    write(tmp_path / "pyproject.toml", '[tool.faa]\nextend-exclude = ["gen/"]\n')
    assert {f for f, _ in codes_of(run(tmp_path, monkeypatch, capsys)[1])} == {"app.py", "vendor/app.py"}
    # `exclude` replaces the default list: build/ is checked again.
    found = run(tmp_path, monkeypatch, capsys, "--exclude", "vendor")[1]
    assert {f for f, _ in codes_of(found)} == {"app.py", "build/app.py"}


# -- bad configuration ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("file", "text", "message"),
    [
        ("pyproject.toml", '[tool.faa]\nscope = "sometimes"\n', "takes one of serving, all"),
        ("pyproject.toml", '[tool.faa]\nfaa-scope = "all"\n', "write 'scope'"),
        ("pyproject.toml", '[tool.faa]\nselekt = ["FAA1"]\n', "unknown key 'selekt'"),
        ("pyproject.toml", '[tool.faa]\nselect = ["faa-one"]\n', "is not a code or code prefix"),
        ("pyproject.toml", "[tool.faa\n", "is not valid TOML"),
        ("setup.cfg", "[flake8]\nfaa-scope = sometimes\n", "takes one of serving, all"),
        ("setup.cfg", "[flake8]\nfaa-scop = all\n", "unknown option 'faa-scop'"),
    ],
)
def test_bad_configuration_exits_2_with_a_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], file: str, text: str, message: str
) -> None:
    write(tmp_path / "app.py", APP)
    write(tmp_path / file, text)
    status, out, err = run(tmp_path, monkeypatch, capsys)
    assert status == 2 and out == ""
    assert message in err and file in err


def test_bad_command_line_values_exit_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path / "app.py", APP)
    status, _, err = run(tmp_path, monkeypatch, capsys, "--faa-scope", "sometimes")
    assert status == 2 and "--faa-scope" in err
    with pytest.raises(SystemExit) as exited:
        run(tmp_path, monkeypatch, capsys, "--output-format", "nonsense")
    assert exited.value.code == 2


def test_config_option_reads_only_that_file(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", '[tool.faa]\nscope = "all"\n')
    other = write(tmp_path / "ci" / "faa.toml", '[tool.faa]\nhealth-paths = "/x"\n')
    config = load_config(tmp_path, CommandLine(), config_file=other)
    assert config.settings.scope == () and config.settings.health_paths == ("/x",)
    with pytest.raises(ConfigError, match="no such file"):
        load_config(tmp_path, CommandLine(), config_file=tmp_path / "missing.toml")
