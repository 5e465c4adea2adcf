"""What the plugin costs a flake8 run, next to plain flake8 and flake8-bugbear.

Builds three virtualenvs once (cached under ``benchmarks/.venvs/``, gitignored),
all with the same flake8 release:

- ``plain``:   flake8 only;
- ``plugin``:  flake8 + this project (a regular, non-editable install of the working tree;
               reinstalled whenever the package sources change);
- ``bugbear``: flake8 + flake8-bugbear, for scale.

Then times ``flake8 --isolated -j1`` over the whole unpacked FastAPI sdist
(see fetch_corpus.py) in each venv, alternating plain/plugin/bugbear each
round so that load from other jobs on a shared machine hits all three alike,
and prints the medians and the ratios plugin/plain and bugbear/plain.

Usage: python benchmarks/plugin_cost.py [--rounds 5] [--budget 1.15]
Exit status 1 when plugin/plain is over the budget.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
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


@dataclass(frozen=True)
class Variant:
    name: str
    extra: tuple[str, ...]
    """What to pip install besides flake8 (the project itself is handled by ``project``)."""
    project: bool = False


VARIANTS = (
    Variant("plain", ()),
    Variant("plugin", (), project=True),
    Variant("bugbear", (f"flake8-bugbear=={BUGBEAR_VERSION}",)),
)


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


def ensure_venv(variant: Variant) -> Path:
    """The venv's flake8 executable, building or refreshing the venv when needed."""
    root = VENVS / variant.name
    flake8 = root / "bin" / "flake8"
    stamp = root / ".stamp"
    wanted = " ".join([sys.version.split()[0], FLAKE8_VERSION, *variant.extra])
    if variant.project:
        wanted += " project=" + project_fingerprint()
    if stamp.is_file() and stamp.read_text() == wanted and flake8.is_file():
        return flake8
    pip = [str(root / "bin" / "python"), "-m", "pip", "--disable-pip-version-check", "-q"]
    if not (root / "bin" / "python").is_file():
        print(f"building venv {variant.name} ...", file=sys.stderr)
        run([sys.executable, "-m", "venv", "--clear", str(root)])
        run([*pip, "install", f"flake8=={FLAKE8_VERSION}", *variant.extra])
    elif not stamp.is_file() or stamp.read_text().split(" project=")[0] != wanted.split(" project=")[0]:
        run([*pip, "install", f"flake8=={FLAKE8_VERSION}", *variant.extra])
    if variant.project:
        print(f"installing the project into {variant.name} ...", file=sys.stderr)
        install_project(pip)
    stamp.write_text(wanted)
    return flake8


def time_once(flake8: Path, corpus: Path) -> tuple[float, int]:
    start = time.perf_counter()
    result = subprocess.run(
        [str(flake8), "--isolated", "-j1", "."], cwd=corpus, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    elapsed = time.perf_counter() - start
    if result.returncode not in (0, 1) or "Traceback" in result.stderr:
        raise SystemExit(f"{flake8} failed ({result.returncode}):\n{result.stderr[-2000:]}")
    return elapsed, len(result.stdout.splitlines())


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--budget", type=float, default=1.15, help="largest acceptable plugin/plain ratio")
    parser.add_argument("--corpus-version", default=PINNED_VERSION)
    args = parser.parse_args()

    corpus = fetch(args.corpus_version)
    files = sum(1 for _ in corpus.rglob("*.py"))
    executables = {v.name: ensure_venv(v) for v in VARIANTS}
    print(f"python {sys.version.split()[0]}, flake8 {FLAKE8_VERSION}, flake8-bugbear {BUGBEAR_VERSION}, {os.cpu_count()} cpus")
    print(f"corpus: {corpus.name} ({files} .py files), flake8 --isolated -j1 ., {args.rounds} rounds alternated")
    print(f"load average before: {load()}")

    times: dict[str, list[float]] = {name: [] for name in executables}
    lines: dict[str, int] = {}
    for round_no in range(1, args.rounds + 1):
        row = []
        for name, flake8 in executables.items():
            seconds, lines[name] = time_once(flake8, corpus)
            times[name].append(seconds)
            row.append(f"{name} {seconds:6.2f}s")
        print(f"round {round_no}: " + "  ".join(row) + f"   (load {load()})", flush=True)

    medians = {name: statistics.median(values) for name, values in times.items()}
    print(f"load average after: {load()}")
    print()
    print(f"{'variant':<8} {'median s':>9} {'min s':>7} {'max s':>7} {'output lines':>13}")
    for name, values in times.items():
        print(f"{name:<8} {medians[name]:9.2f} {min(values):7.2f} {max(values):7.2f} {lines[name]:13d}")
    plugin_ratio = medians["plugin"] / medians["plain"]
    bugbear_ratio = medians["bugbear"] / medians["plain"]
    print()
    print(f"plugin/plain  = {plugin_ratio:.3f}  (budget {args.budget:.2f})")
    print(f"bugbear/plain = {bugbear_ratio:.3f}")
    within = plugin_ratio <= args.budget
    print("within budget" if within else "OVER BUDGET")
    return 0 if within else 1


if __name__ == "__main__":
    sys.exit(main())
