"""The analysis raises the young-generation threshold only while it runs, and gives it back."""

from __future__ import annotations

import gc

import pytest

from flake8_fastapi_antipatterns.engine import analyse_source
from flake8_fastapi_antipatterns.gc_pacing import YOUNG_THRESHOLD, paced_collections


def test_thresholds_are_raised_inside_and_restored_after() -> None:
    before = gc.get_threshold()
    with paced_collections():
        inside = gc.get_threshold()
    assert inside == (YOUNG_THRESHOLD, *before[1:])
    assert gc.get_threshold() == before


def test_thresholds_are_restored_when_the_block_raises() -> None:
    before = gc.get_threshold()
    with pytest.raises(RuntimeError), paced_collections():
        raise RuntimeError("boom")
    assert gc.get_threshold() == before


def test_collection_switched_off_by_the_caller_stays_off() -> None:
    before = gc.get_threshold()
    gc.set_threshold(0)
    try:
        with paced_collections():
            assert gc.get_threshold()[0] == 0
        assert gc.get_threshold()[0] == 0
    finally:
        gc.set_threshold(*before)


def test_an_analysis_leaves_the_thresholds_as_it_found_them() -> None:
    before = gc.get_threshold()
    findings = analyse_source("import time\n\nasync def handler():\n    time.sleep(1)\n", "app.py")
    assert gc.get_threshold() == before
    assert isinstance(findings, list)
