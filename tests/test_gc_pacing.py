"""The analysis raises the young-generation threshold only while it runs, and gives it back; what
outlives it is frozen, and thawed again every so many files."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import weakref
from collections.abc import Iterator
from pathlib import Path

import pytest

from flake8_fastapi_antipatterns import gc_pacing
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


@pytest.fixture
def thawed(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Start from nothing frozen and a fresh count of files, and leave nothing frozen."""
    gc.unfreeze()
    monkeypatch.setattr(gc_pacing, "_settled_files", 0)
    yield
    gc.unfreeze()


@pytest.mark.usefixtures("thawed")
def test_what_outlives_an_analysis_is_frozen() -> None:
    kept = [[index] for index in range(3)]  # alive across the analysis, like the index's modules
    analyse_source("async def handler():\n    pass\n", "app.py")
    assert gc.get_freeze_count() > 0
    assert all(gc.is_tracked(o) for o in kept)
    in_generations = {id(o) for o in gc.get_objects()}
    assert not any(id(o) in in_generations for o in kept)  # frozen: no generation holds them


@pytest.mark.usefixtures("thawed")
def test_cyclic_garbage_of_the_analysis_is_not_frozen() -> None:
    class Node:
        other: Node

    def make_cycle() -> weakref.ref[Node]:
        a, b = Node(), Node()
        a.other, b.other = b, a
        return weakref.ref(a)

    with paced_collections():
        ref = make_cycle()
    assert ref() is None  # collected before the freeze, not kept by it


@pytest.mark.usefixtures("thawed")
def test_frozen_objects_are_thawed_every_so_many_files(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gc_pacing, "THAW_FILES", 3)
    with paced_collections():
        pass
    with paced_collections():
        pass
    assert gc.get_freeze_count() > 0
    with paced_collections():
        pass
    assert gc.get_freeze_count() == 0


@pytest.mark.usefixtures("thawed")
def test_nothing_is_frozen_when_collection_is_off() -> None:
    gc.disable()
    try:
        with paced_collections():
            pass
        assert gc.get_freeze_count() == 0
    finally:
        gc.enable()


def test_a_fresh_interpreter_freezes_what_outlives_an_analysis() -> None:
    """In a new process, as flake8 runs it: whatever the interpreter froze at start-up (CPython 3.12
    freezes some objects itself), the analysis still freezes what outlives it."""
    script = (
        "import gc\n"
        "from flake8_fastapi_antipatterns.engine import analyse_source\n"
        "at_start = gc.get_freeze_count()\n"
        "analyse_source('async def handler():\\n    pass\\n', 'app.py')\n"
        "print(at_start, gc.get_freeze_count())\n"
    )
    root = Path(__file__).resolve().parent.parent
    paths = [str(root), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True).stdout
    at_start, after = map(int, out.split())
    assert after > at_start
