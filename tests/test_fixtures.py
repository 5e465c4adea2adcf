"""Every fixture file's findings must be exactly the ones its comments expect."""

from __future__ import annotations

from pathlib import Path

import pytest

from flake8_fastapi_antipatterns.catalogue import CATALOGUE
from flake8_fastapi_antipatterns.engine import analyse_source
from tests.fixture_format import load_fixture

FIXTURES = Path(__file__).parent / "fixtures"
FIXTURE_FILES = sorted(FIXTURES.glob("*.py"))


@pytest.mark.parametrize("path", FIXTURE_FILES, ids=[p.stem for p in FIXTURE_FILES])
def test_fixture(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The fixtures are the project (as flake8 run from their directory would see them), not the
    # whole repository: what the rules read of other files does not move with the package's sources.
    monkeypatch.chdir(FIXTURES)
    fixture = load_fixture(path)
    findings = analyse_source(fixture.source, str(path), fixture.settings, strict=True)
    actual = {(d.line, d.code) for d in findings if d.code in fixture.checks}
    missing = sorted(fixture.expected - actual)
    unexpected = sorted(actual - fixture.expected)
    messages = {(d.line, d.code): d.message for d in findings}
    assert not missing and not unexpected, (
        f"\nmissing (expected, not reported): {missing}"
        f"\nunexpected (reported, not expected): {[(k, messages[k]) for k in unexpected]}"
    )


def test_every_rule_has_a_positive_fixture() -> None:
    expected_codes = set()
    for path in FIXTURE_FILES:
        expected_codes |= {code for _, code in load_fixture(path).expected}
    implemented = {code for code in CATALOGUE}
    # Rules are implemented family by family; a code with a checker must have a fixture that fires it.
    from flake8_fastapi_antipatterns.rules import all_checkers

    with_checker = {code for checker in all_checkers() for code in checker.codes} & implemented
    assert with_checker <= expected_codes, f"codes with no positive fixture: {sorted(with_checker - expected_codes)}"
