"""The analysis reads as a pipeline: each stage imports only the stages before it (no cycles)."""

from __future__ import annotations

import ast
from pathlib import Path

ANALYSIS = Path(__file__).resolve().parent.parent / "flake8_fastapi_antipatterns" / "analysis"
PACKAGE = "flake8_fastapi_antipatterns.analysis."


def _runtime_imports(path: Path) -> set[str]:
    """The analysis modules ``path`` imports when it runs (``if TYPE_CHECKING:`` blocks left out,
    imports inside functions counted: a lazy import is still a dependency)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            skipped.update(id(inner) for stmt in node.body for inner in ast.walk(stmt))
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(PACKAGE):
            found.add(node.module.removeprefix(PACKAGE))
        elif isinstance(node, ast.Import):
            found.update(a.name.removeprefix(PACKAGE) for a in node.names if a.name.startswith(PACKAGE))
    return found


def test_no_analysis_module_imports_one_that_imports_it_back() -> None:
    graph = {path.stem: _runtime_imports(path) for path in ANALYSIS.glob("*.py") if path.stem != "__init__"}
    assert set(graph) >= {"project", "names", "app_model", "calls", "serving", "provenance", "fixed_paths"}
    done: set[str] = set()

    def visit(module: str, trail: tuple[str, ...]) -> None:
        assert module not in trail, f"import cycle: {' -> '.join((*trail, module))}"
        if module in done:
            return
        for imported in sorted(graph.get(module, ())):
            visit(imported, (*trail, module))
        done.add(module)

    for module in sorted(graph):
        visit(module, ())


def test_the_files_stage_imports_no_later_stage() -> None:
    # The files stage reads the project's text through ``project_text``, which imports nothing.
    assert _runtime_imports(ANALYSIS / "project.py") == {"project_text"}
    assert _runtime_imports(ANALYSIS / "project_text.py") == set()
    assert _runtime_imports(ANALYSIS / "nodes.py") == set()
