"""What astroid would have cost over the same corpus: the figure behind building on ``ast``.

The cross-module project index (``analysis/project.py``) parses the project's
modules with Python's ``ast`` and follows names itself.  astroid's inference
was the other candidate.  This script measures, in one process and over the
FastAPI sdist of fetch_corpus.py, CPU time for:

- ``ast.parse`` of every file (what flake8 hands the plugin anyway);
- this plugin's whole analysis (``analyse_tree``) of every file;
- ``astroid.MANAGER.ast_from_file`` of every file (astroid's tree, no inference);
- inferring the callee of every call (``call.func.infer()``) in every STEP-th
  file, the kind of question the rules ask (what ``Depends(get_db)`` is, what
  ``crud.get_user`` does), scaled to the whole corpus.

astroid and the plugin run in a venv of their own, cached under
``benchmarks/.venvs/astroid`` (gitignored).

Usage: python benchmarks/astroid_cost.py [--infer-step 8]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from fetch_corpus import PINNED_VERSION, fetch  # noqa: E402
from local_machine import load_average  # noqa: E402
from plugin_cost import FLAKE8_VERSION, VENVS, install_project, project_fingerprint, run  # noqa: E402

ASTROID_VERSION = "4.3.4"

# Runs inside the astroid venv: prints "label seconds" lines.
MEASURE = r"""
import ast, sys, time
from pathlib import Path

corpus, step = Path(sys.argv[1]), int(sys.argv[2])
files = sorted(str(p) for p in corpus.rglob("*.py"))
sources = [(name, Path(name).read_bytes()) for name in files]

def cpu(label, work):
    start = time.process_time()
    extra = work()
    print(label, round(time.process_time() - start, 3), extra if extra is not None else "", flush=True)

cpu("parse", lambda: [ast.parse(src) for _, src in sources] and None)

from flake8_fastapi_antipatterns.engine import analyse_tree
trees = [(name, ast.parse(src)) for name, src in sources]
cpu("plugin", lambda: sum(len(analyse_tree(tree, name)) for name, tree in trees))
del trees

import astroid
from astroid import nodes

def build():
    astroid.MANAGER.clear_cache()
    built = 0
    for name in files:
        try:
            astroid.MANAGER.ast_from_file(name)
            built += 1
        except Exception:
            pass
    return built
cpu("astroid_build", build)

def infer():
    astroid.MANAGER.clear_cache()
    calls = inferred = 0
    for name in files[::step]:
        try:
            module = astroid.MANAGER.ast_from_file(name)
        except Exception:
            continue
        for call in module.nodes_of_class(nodes.Call):
            calls += 1
            try:
                next(call.func.infer())
                inferred += 1
            except Exception:
                pass
    return f"{calls} calls in {len(files[::step])} files, {inferred} inferred"
cpu("astroid_infer_sample", infer)
"""


def ensure_astroid_venv() -> Path:
    root = VENVS / "astroid"
    python = root / "bin" / "python"
    stamp = root / ".stamp"
    wanted = f"{sys.version.split()[0]} astroid=={ASTROID_VERSION} flake8=={FLAKE8_VERSION} project={project_fingerprint()}"
    if stamp.is_file() and stamp.read_text() == wanted and python.is_file():
        return python
    pip = [str(python), "-m", "pip", "--disable-pip-version-check", "-q"]
    if not python.is_file():
        print("building venv astroid ...", file=sys.stderr)
        run([sys.executable, "-m", "venv", "--clear", str(root)])
    run([*pip, "install", f"astroid=={ASTROID_VERSION}", f"flake8=={FLAKE8_VERSION}"])
    install_project(pip)
    stamp.write_text(wanted)
    return python


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--infer-step", type=int, default=8, help="infer callees in every N-th file (default 8)")
    parser.add_argument("--corpus-version", default=PINNED_VERSION)
    args = parser.parse_args()
    corpus = fetch(args.corpus_version)
    python = ensure_astroid_venv()
    print(f"python {sys.version.split()[0]}, astroid {ASTROID_VERSION}; load average {load_average()}")
    result = subprocess.run(
        [str(python), "-c", MEASURE, str(corpus), str(args.infer_step)], capture_output=True, text=True, cwd=corpus
    )
    if result.returncode != 0:
        raise SystemExit(result.stderr[-3000:])
    figures: dict[str, float] = {}
    for line in result.stdout.splitlines():
        label, seconds, *rest = line.split(" ", 2)
        figures[label] = float(seconds)
        print(f"{label:<22} {float(seconds):8.2f} s cpu  {rest[0] if rest else ''}")
    scaled = figures["astroid_infer_sample"] * args.infer_step
    print(f"{'astroid_infer (x' + str(args.infer_step) + ')':<22} {scaled:8.2f} s cpu  (the sample scaled to every file)")
    print()
    print(f"astroid build / plugin analysis  = {figures['astroid_build'] / figures['plugin']:.1f}x")
    print(f"astroid build + inference / plugin analysis = {(figures['astroid_build'] + scaled) / figures['plugin']:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
