"""What the analysis keeps once a file is done: nothing of the file, and project modules only while used.

Every object the plugin keeps alive is walked again by each of flake8's full garbage collections,
so a per-file answer kept in a process-wide table must not hold the tree it was worked out from.
"""

from __future__ import annotations

import ast
import gc
import textwrap
import weakref
from pathlib import Path

from flake8_fastapi_antipatterns.analysis.app_model import model_of
from flake8_fastapi_antipatterns.analysis.project import ProjectIndex
from flake8_fastapi_antipatterns.engine import analyse_tree

# A route that reaches a blocking call through a method of a project class (the class index, its
# attribute declarations) and a lazily built client (the run-once analysis).
ROUTE_MODULE = textwrap.dedent(
    """\
    import time
    from fastapi import FastAPI

    app = FastAPI()
    _client = None


    class Repo:
        timeout: float = 1.0

        def __init__(self) -> None:
            self.session = None

        def load(self) -> None:
            time.sleep(self.timeout)


    @app.get("/")
    async def read() -> None:
        global _client
        if _client is None:
            _client = Repo()
        repo = Repo()
        repo.load()
    """
)


def test_nothing_of_a_linted_file_outlives_its_analysis(tmp_path: Path) -> None:
    path = tmp_path / "main.py"
    path.write_text(ROUTE_MODULE)
    tree = ast.parse(ROUTE_MODULE)
    findings = analyse_tree(tree, str(path), strict=True)
    assert "FAA102" in [d.code for d in findings]  # the analysis did follow the method
    coroutine = next(n for n in tree.body if isinstance(n, ast.AsyncFunctionDef))
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef))
    kept = [weakref.ref(tree), weakref.ref(coroutine), weakref.ref(cls)]
    del tree, coroutine, cls
    gc.collect()
    assert [ref() for ref in kept] == [None, None, None]


def test_a_linted_file_is_freed_without_waiting_for_a_collection(tmp_path: Path) -> None:
    """No reference cycle holds a file's analysis: a cycle would leave it (its tree, names and memos,
    and the other modules' names it read) to the full collections of the rest of the run."""
    path = tmp_path / "main.py"
    path.write_text(ROUTE_MODULE)
    tree = ast.parse(ROUTE_MODULE)
    gc.collect()
    gc.disable()
    try:
        findings = analyse_tree(tree, str(path), strict=True)
        assert "FAA102" in [d.code for d in findings]
        kept = weakref.ref(tree)
        del tree
        assert kept() is None
    finally:
        gc.enable()


def _package(tmp_path: Path) -> tuple[Path, Path]:
    (tmp_path / "helpers.py").write_text("VALUE = 1\n\n\ndef load():\n    return VALUE\n")
    importer = tmp_path / "main.py"
    importer.write_text("from helpers import load\n")
    return tmp_path / "helpers.py", importer


def test_a_module_one_file_used_is_dropped_once_enough_files_went_by_without_it(tmp_path: Path) -> None:
    helpers, importer = _package(tmp_path)
    index = ProjectIndex(young_files=2, shared_files=4)
    index.new_file()
    symbol = index.symbol(str(importer), "helpers.load")
    assert symbol is not None and symbol.name == "load"
    info = symbol.module
    model_of(info)  # what later stages keep about the module goes with it
    names = weakref.ref(info.names)
    del symbol, info
    for _ in range(2):
        index.new_file()
        assert names() is not None  # kept while the next files may still use it
    index.new_file()
    gc.collect()
    assert names() is None
    assert not index._symbols  # the answer that read it went with it


def test_a_module_a_second_file_uses_is_kept_longer(tmp_path: Path) -> None:
    helpers, _ = _package(tmp_path)
    index = ProjectIndex(young_files=1, shared_files=3)
    index.new_file()
    assert index.module(helpers) is not None
    index.new_file()
    first = index.module(helpers)  # a second file: from now on the module counts as shared
    for _ in range(3):
        index.new_file()
        assert index.module(helpers) is first  # neither dropped nor parsed again
    for _ in range(4):
        index.new_file()
    assert index.module(helpers) is not first  # unused for longer than ``shared_files``: parsed again


def test_a_module_dropped_and_asked_for_again_is_then_kept_as_shared(tmp_path: Path) -> None:
    helpers, _ = _package(tmp_path)
    index = ProjectIndex(young_files=1, shared_files=8)
    index.new_file()
    first = index.module(helpers)
    for _ in range(3):
        index.new_file()
    again = index.module(helpers)
    assert again is not None and again is not first  # dropped after one file, parsed again
    for _ in range(5):
        index.new_file()
    assert index.module(helpers) is again
