"""What the plugin costs a flake8 run, next to plain flake8 and flake8-bugbear.

Builds three virtualenvs once (cached under ``benchmarks/.venvs/``, gitignored),
all with the same flake8 release:

- ``plain``:   flake8 only;
- ``plugin``:  flake8 + this project (a regular, non-editable install of the working tree;
               reinstalled whenever the package sources change);
- ``bugbear``: flake8 + flake8-bugbear, for scale.

Then times ``flake8 --isolated -j1`` over the whole unpacked FastAPI sdist
(see fetch_corpus.py) in each venv, alternating the variants each round so
that load from other jobs on a shared machine hits all alike, and prints the
medians and the ratios to plain flake8.  The plugin is timed twice: ``plugin``
works every file out (``--faa-cache=off``), ``warm`` reads the findings an
earlier run of the same unchanged project kept (``--faa-cache-dir`` in a
temporary directory, filled once before the rounds).  Each
run's CPU time (user + system, from the kernel's accounting of the child) is
the measure the budget is judged on; wall time is printed beside it.

Usage: python benchmarks/plugin_cost.py [--rounds 6] [--budget 1.15]
       python benchmarks/plugin_cost.py --instructions 8   # instruction counts, every 8th file
       python benchmarks/plugin_cost.py --baseline /tmp/old  # also time another checkout of the plugin
Exit status 1 when plugin/plain is over the budget.

``--instructions STEP`` counts the instructions each variant executes under
valgrind (cachegrind) over every STEP-th file of the corpus instead of timing
it: a measure that load on a shared machine does not move, at fifty times the
run time (hence the sample).

``--baseline DIR`` adds a ``baseline`` variant: the plugin's venv with the packages of another
checkout of this project (``git worktree add DIR REV``) put first on ``PYTHONPATH``, timed fresh in
the same rounds, so that a change's effect is a ratio measured side by side.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
VENVS = HERE / ".venvs"
FLAKE8_VERSION = "7.5.0"
BUGBEAR_VERSION = "26.10.27"
# What a non-editable install of the project needs from the working tree.
PROJECT_FILES = ("setup.cfg", "pyproject.toml", "README.md")
PROJECT_PACKAGES = ("flake8_fastapi_antipatterns", "runtime_guard")

sys.path.insert(0, str(HERE))
from fetch_corpus import PINNED_VERSION, fetch  # noqa: E402
from local_machine import load_average  # noqa: E402


@dataclass(frozen=True)
class Variant:
    name: str
    extra: tuple[str, ...]
    """What to pip install besides flake8 (the project itself is handled by ``project``)."""
    project: bool = False
    args: tuple[str, ...] = ()
    """Options of this variant's flake8 runs."""
    venv: str = ""
    """The venv it runs in, when another variant's (default: its own, by name)."""
    pythonpath: str = ""
    """Sources that shadow the venv's installed ones (another checkout of this project)."""


# The timed variants; ``warm``'s cache directory is added when the rounds start.
VARIANTS = (
    Variant("plain", ()),
    Variant("plugin", (), project=True, args=("--faa-cache=off",)),
    Variant("bugbear", (f"flake8-bugbear=={BUGBEAR_VERSION}",)),
)
WARM = Variant("warm", (), project=True, venv="plugin")


def run(cmd: list[str]) -> None:
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)


def project_fingerprint() -> str:
    digest = hashlib.sha256()
    paths = [REPO / f for f in PROJECT_FILES]
    for package in PROJECT_PACKAGES:
        paths.extend(sorted((REPO / package).rglob("*.py")))
    for path in paths:
        digest.update(str(path.relative_to(REPO)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def install_project(pip: list[str]) -> None:
    # Build from a copy so that the shared working tree gets no build/ or egg-info droppings.
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "src"
        src.mkdir()
        for name in PROJECT_FILES:
            shutil.copy2(REPO / name, src / name)
        for package in PROJECT_PACKAGES:
            shutil.copytree(REPO / package, src / package, ignore=shutil.ignore_patterns("__pycache__"))
        run([*pip, "install", "--no-deps", "--force-reinstall", str(src)])


def interpreter_version(python: str) -> str:
    """``3.13.0`` for the interpreter at ``python``."""
    script = "import platform; print(platform.python_version())"
    return subprocess.run([python, "-c", script], check=True, capture_output=True, text=True).stdout.strip()


def ensure_venv(variant: Variant, python: str | None = None) -> Path:
    """The venv's flake8 executable, building or refreshing the venv when needed.

    ``python`` builds the venv on another interpreter (its own folder, ``plugin-3.13.0``);
    by default it is the one running this script.
    """
    interpreter = python or sys.executable
    version = sys.version.split()[0] if python is None else interpreter_version(interpreter)
    root = VENVS / (variant.name if python is None else f"{variant.name}-{version}")
    flake8 = root / "bin" / "flake8"
    stamp = root / ".stamp"
    wanted = " ".join([version, FLAKE8_VERSION, *variant.extra])
    if variant.project:
        wanted += " project=" + project_fingerprint()
    if stamp.is_file() and stamp.read_text() == wanted and flake8.is_file():
        return flake8
    pip = [str(root / "bin" / "python"), "-m", "pip", "--disable-pip-version-check", "-q"]
    if not (root / "bin" / "python").is_file():
        print(f"building venv {variant.name} ...", file=sys.stderr)
        run([interpreter, "-m", "venv", "--clear", str(root)])
        run([*pip, "install", f"flake8=={FLAKE8_VERSION}", *variant.extra])
    elif not stamp.is_file() or stamp.read_text().split(" project=")[0] != wanted.split(" project=")[0]:
        run([*pip, "install", f"flake8=={FLAKE8_VERSION}", *variant.extra])
    if variant.project:
        print(f"installing the project into {variant.name} ...", file=sys.stderr)
        install_project(pip)
    stamp.write_text(wanted)
    return flake8


@dataclass(frozen=True)
class Timing:
    cpu: float
    """User + system CPU seconds of the flake8 process (what the budget is judged on)."""
    wall: float
    lines: int


def time_once(flake8: Path, corpus: Path, jobs: str = "1", args: tuple[str, ...] = (), pythonpath: str = "") -> Timing:
    """One flake8 run; its CPU time is read from the kernel's accounting of the finished child.

    On a machine shared with other jobs wall time mostly measures the neighbours; the
    CPU time a process was given is much steadier (it still varies with cache and
    hyper-thread contention, hence the alternation and medians).
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    env = {**os.environ, "PYTHONPATH": pythonpath} if pythonpath else None
    result = subprocess.run(
        [str(flake8), "--isolated", *args, "-j", jobs, "."], cwd=corpus, capture_output=True, text=True, env=env
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode not in (0, 1) or "Traceback" in result.stderr:
        raise SystemExit(f"{flake8} failed ({result.returncode}):\n{result.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Timing(cpu=cpu, wall=wall, lines=len(result.stdout.splitlines()))


def findings_of(flake8: Path, corpus: Path, jobs: str, args: tuple[str, ...] = ("--faa-cache=off",)) -> list[str]:
    """The plugin's findings (every code selected), sorted: what a serial and a parallel run, and a run
    from the cache, must agree on."""
    cmd = [str(flake8), "--isolated", *args, "--select", "FAA", "--extend-select", "FAA205,FAA403", "-j", jobs, "."]
    result = subprocess.run(cmd, cwd=corpus, capture_output=True, text=True)
    if result.returncode not in (0, 1) or "Traceback" in result.stderr:
        raise SystemExit(f"{flake8} failed ({result.returncode}):\n{result.stderr[-2000:]}")
    return sorted(result.stdout.splitlines())


def count_instructions(flake8: Path, corpus: Path, files: list[str], args: tuple[str, ...]) -> int:
    """Instructions one flake8 run executes (valgrind's cachegrind), which load on the machine does not change."""
    cmd = [
        "valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null",
        str(flake8), "--isolated", *args, "-j1", *files,
    ]
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    result = subprocess.run(cmd, cwd=corpus, capture_output=True, text=True, env=env)
    match = re.search(r"I\s+refs:\s+([\d,]+)", result.stderr)
    if match is None:
        raise SystemExit(f"no instruction count from valgrind:\n{result.stderr[-2000:]}")
    return int(match.group(1).replace(",", ""))


def instructions_mode(executables: dict[str, Path], corpus: Path, step: int, budget: float) -> int:
    every = sorted(str(p.relative_to(corpus)) for p in corpus.rglob("*.py"))
    sample = [f"./{name}" for name in every[::step]]
    what = "every file" if step == 1 else f"every {step}th file"
    print(f"instruction counts (valgrind cachegrind), {what}: {len(sample)} of {len(every)} files")
    # Instruction counts do not depend on what else runs: the variants run side by side.
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        futures = {
            v.name: pool.submit(count_instructions, executables[v.name], corpus, sample, v.args) for v in VARIANTS
        }
        counts = {name: future.result() for name, future in futures.items()}
    for name, count in counts.items():
        print(f"{name:<8} {count:>16,} instructions")
    plugin_ratio = counts["plugin"] / counts["plain"]
    print()
    print(f"plugin/plain  = {plugin_ratio:.3f} instructions  (budget {budget:.2f})")
    print(f"bugbear/plain = {counts['bugbear'] / counts['plain']:.3f} instructions")
    within = plugin_ratio <= budget
    print("within budget" if within else "OVER BUDGET")
    return 0 if within else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=8, help="a multiple of 4 gives each variant each place equally")
    parser.add_argument("--budget", type=float, default=1.15, help="largest acceptable plugin/plain ratio")
    parser.add_argument("--corpus-version", default=PINNED_VERSION)
    parser.add_argument(
        "--instructions",
        type=int,
        metavar="STEP",
        help="instead of timing, count instructions under valgrind over every STEP-th file (e.g. 8)",
    )
    parser.add_argument(
        "--corpus", type=Path, help="lint this folder instead of the FastAPI sdist (e.g. a project of real_apps.py)"
    )
    parser.add_argument("--jobs", default="1", help="flake8 -j: a number, or auto for flake8's default (default 1)")
    parser.add_argument(
        "--baseline", type=Path, help="also time the plugin from this checkout of the project (another commit), fresh"
    )
    args = parser.parse_args()

    corpus = args.corpus.resolve() if args.corpus else fetch(args.corpus_version)
    files = sum(1 for _ in corpus.rglob("*.py"))
    executables = {v.name: ensure_venv(v) for v in VARIANTS}
    print(f"python {sys.version.split()[0]}, flake8 {FLAKE8_VERSION}, flake8-bugbear {BUGBEAR_VERSION}, {os.cpu_count()} cpus")
    if args.instructions:
        return instructions_mode(executables, corpus, args.instructions, args.budget)
    serial, parallel = findings_of(executables["plugin"], corpus, "1"), findings_of(executables["plugin"], corpus, "auto")
    print(f"findings with -j1 and -j auto: {len(serial)} and {len(parallel)}, {'identical' if serial == parallel else 'DIFFERENT'}")
    if serial != parallel:
        for line in sorted(set(serial) ^ set(parallel))[:20]:
            print(f"  only in {'-j1' if line in serial else '-j auto'}: {line}")
    kept = tempfile.mkdtemp(prefix="faa-cost-cache-")
    warm = Variant(WARM.name, WARM.extra, project=True, args=(f"--faa-cache-dir={kept}",), venv=WARM.venv)
    variants = {v.name: v for v in (*VARIANTS, warm)}
    executables[warm.name] = executables[warm.venv]
    if args.baseline:
        if not (args.baseline / "flake8_fastapi_antipatterns").is_dir():
            raise SystemExit(f"{args.baseline}: not a checkout of this project")
        baseline = Variant("baseline", (), project=True, args=("--faa-cache=off",), venv="plugin", pythonpath=str(args.baseline.resolve()))
        variants[baseline.name] = baseline
        executables[baseline.name] = executables[baseline.venv]
    # The warm runs read what this run keeps; a run from the cache must find exactly what a fresh one does.
    first, cached = (findings_of(executables["warm"], corpus, args.jobs, warm.args) for _ in range(2))
    same = serial == first == cached
    print(f"findings kept and read back from the cache: {len(cached)}, {'identical' if same else 'DIFFERENT'}")
    if not same:
        for line in sorted(set(serial) ^ set(cached))[:20]:
            print(f"  only in {'a fresh run' if line in serial else 'the cache'}: {line}")
        return 1
    print(f"corpus: {corpus.name} ({files} .py files), flake8 --isolated -j {args.jobs} ., {args.rounds} rounds, order rotated")
    print(f"load average before: {load_average()}")

    runs: dict[str, list[Timing]] = {name: [] for name in executables}
    order = list(executables)
    for round_no in range(1, args.rounds + 1):
        # The order rotates each round (A B C, B C A, C A B): the machine's speed drifts over a
        # round, and a fixed order would bill the drift to whichever variant always runs last.
        shift = (round_no - 1) % len(order)
        row = []
        for name in order[shift:] + order[:shift]:
            timing = time_once(executables[name], corpus, args.jobs, variants[name].args, variants[name].pythonpath)
            runs[name].append(timing)
            row.append(f"{name} {timing.cpu:6.2f}s cpu {timing.wall:6.2f}s wall")
        print(f"round {round_no}: " + " | ".join(row) + f"   (load {load_average()})", flush=True)

    cpu = {name: statistics.median(t.cpu for t in timings) for name, timings in runs.items()}
    wall = {name: statistics.median(t.wall for t in timings) for name, timings in runs.items()}
    # Each round's runs follow one another, so they share the load of that moment: the ratio
    # within a round cancels more of the neighbours' noise than a ratio of medians.
    paired = {
        name: statistics.median(t.cpu / plain.cpu for t, plain in zip(runs[name], runs["plain"]))
        for name in runs
        if name != "plain"
    }
    shutil.rmtree(kept, ignore_errors=True)
    print(f"load average after: {load_average()}")
    print()
    print(f"{'variant':<8} {'median cpu s':>13} {'min':>7} {'max':>7} {'median wall s':>14} {'output lines':>13}")
    for name, timings in runs.items():
        cpus = [t.cpu for t in timings]
        print(
            f"{name:<8} {cpu[name]:13.2f} {min(cpus):7.2f} {max(cpus):7.2f} {wall[name]:14.2f} {timings[-1].lines:13d}"
        )
    plugin_ratio = cpu["plugin"] / cpu["plain"]
    print()
    print(
        f"plugin/plain  = {plugin_ratio:.3f} cpu (medians), {paired['plugin']:.3f} (median of per-round ratios), "
        f"{wall['plugin'] / wall['plain']:.3f} wall  (budget {args.budget:.2f}, on cpu)"
    )
    print(
        f"warm/plain    = {cpu['warm'] / cpu['plain']:.3f} cpu (medians), {paired['warm']:.3f} (per-round), "
        f"{wall['warm'] / wall['plain']:.3f} wall  (an unchanged project, findings read from the cache)"
    )
    print(
        f"bugbear/plain = {cpu['bugbear'] / cpu['plain']:.3f} cpu (medians), {paired['bugbear']:.3f} (per-round), "
        f"{wall['bugbear'] / wall['plain']:.3f} wall"
    )
    if "baseline" in runs:
        print(
            f"baseline/plain = {cpu['baseline'] / cpu['plain']:.3f} cpu (medians), {paired['baseline']:.3f} (per-round); "
            f"plugin/baseline = {cpu['plugin'] / cpu['baseline']:.3f} cpu (medians), "
            f"{statistics.median(t.cpu / b.cpu for t, b in zip(runs['plugin'], runs['baseline'])):.3f} (per-round)"
        )
    within = plugin_ratio <= args.budget
    print("within budget" if within else "OVER BUDGET")
    return 0 if within else 1


if __name__ == "__main__":
    sys.exit(main())
