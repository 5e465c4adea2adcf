"""The catalogue matches the public contract, and the docs pages are generated from it."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from flake8_fastapi_antipatterns.__main__ import main
from flake8_fastapi_antipatterns.catalogue import CATALOGUE, opt_in_codes
from flake8_fastapi_antipatterns.docs import render_pages, stale_pages, with_readme_table

ROOT = Path(__file__).resolve().parent.parent
CONTRACT = ROOT.parent / "shared" / "CATALOGUE.md"


def contract_codes() -> dict[str, str]:
    """code -> default column of the public contract table."""
    rows = re.findall(r"^\| (FAA\d{3}) \|.*\| ([^|]+) \|\s*$", CONTRACT.read_text(encoding="utf-8"), re.M)
    return {code: default.strip() for code, default in rows}


@pytest.mark.skipif(not CONTRACT.exists(), reason="the public contract ../shared/CATALOGUE.md is not beside this checkout")
def test_codes_and_defaults_match_the_contract() -> None:
    contract = contract_codes()
    assert list(CATALOGUE) == sorted(contract)
    for code, default in contract.items():
        assert CATALOGUE[code].default_on == default.startswith("on"), code


def test_every_rule_is_documented_in_five_parts() -> None:
    for rule in CATALOGUE.values():
        for part in ("what", "why", "example", "instead", "options"):
            assert getattr(rule.doc, part).strip(), f"{rule.code} lacks {part}"
        compile(rule.doc.example, f"{rule.code}-example", "exec")
        compile(rule.doc.instead, f"{rule.code}-instead", "exec")
        assert rule.fix and "\n" not in rule.fix
    assert opt_in_codes() == ["FAA205", "FAA403"]


def test_docs_pages_are_up_to_date() -> None:
    stale = stale_pages(ROOT / "docs" / "rules")
    assert not stale, f"regenerate with `python -m flake8_fastapi_antipatterns docs`: {stale}"


def test_readme_lists_every_code_with_its_title() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert with_readme_table(readme) == readme, "regenerate with `python -m flake8_fastapi_antipatterns docs`"
    for rule in CATALOGUE.values():
        assert f"| [{rule.code}](docs/rules/{rule.code}.md) | {rule.title} |" in readme


def test_pages_have_every_section() -> None:
    pages = render_pages()
    for code in CATALOGUE:
        page = pages[f"{code}.md"]
        for heading in ("## What it does", "## Why is this bad?", "## Example", "## Use instead", "## Options"):
            assert heading in page, (code, heading)
    assert all(f"[{code}]({code}.md)" in pages["README.md"] for code in CATALOGUE)


def test_cli_lists_and_explains(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules"]) == 0
    listed = capsys.readouterr().out
    assert all(code in listed for code in CATALOGUE)
    assert main(["explain", "faa101"]) == 0
    assert "What it does" in capsys.readouterr().out
    assert main(["explain", "FAA999"]) == 2
    assert "unknown FAA code" in capsys.readouterr().err


def test_module_help_lists_every_code() -> None:
    out = subprocess.run([sys.executable, "-m", "flake8_fastapi_antipatterns", "--help"], capture_output=True, text=True, check=True).stdout
    assert all(code in out for code in CATALOGUE)
