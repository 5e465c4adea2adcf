"""Lint the installed CPython standard library with every FAA code and count crashes.

Two passes:
1. in-process, with the engine in strict mode, so a rule that raises on some
   file is counted (flake8 itself would only log it and skip that family);
2. a real ``flake8 --select FAA`` run over the same tree, which must finish
   without a critical error.

Usage: python benchmarks/stdlib_robustness.py [--skip-flake8] [--limit N]
Exit status 1 when anything crashed.
"""

from __future__ import annotations

import argparse
import ast
import os
import subprocess
import sys
import sysconfig
import time
import traceback
import warnings
from collections import Counter
from pathlib import Path

from flake8_fastapi_antipatterns.engine import analyse_tree


def stdlib_files() -> list[Path]:
    root = Path(sysconfig.get_paths()["stdlib"])
    skip = {"site-packages", "dist-packages", "__pycache__"}
    files = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in skip]
        files.extend(Path(dirpath) / f for f in filenames if f.endswith(".py"))
    return sorted(files)


def strict_pass(files: list[Path]) -> tuple[int, int, Counter[str], list[str], float]:
    analysed, unparsable, crashes = 0, 0, []
    codes: Counter[str] = Counter()
    start = time.perf_counter()
    for path in files:
        try:
            source = path.read_bytes()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                tree = ast.parse(source, filename=str(path))
        except (SyntaxError, ValueError, UnicodeDecodeError, RecursionError):
            unparsable += 1
            continue
        try:
            for diag in analyse_tree(tree, str(path), strict=True):
                codes[diag.code] += 1
            analysed += 1
        except Exception:
            crashes.append(f"{path}\n{traceback.format_exc()}")
    return analysed, unparsable, codes, crashes, time.perf_counter() - start


def flake8_pass(root: Path) -> tuple[int, str, float]:
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "flake8", "--isolated", "--faa-cache=off", "--select", "FAA", "--extend-select", "FAA205,FAA403", "-j", "2", str(root)],
        capture_output=True,
        text=True,
    )
    return result.returncode, result.stderr, time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--skip-flake8", action="store_true", help="only the in-process strict pass")
    parser.add_argument("--limit", type=int, default=0, help="only the first N files (0: all)")
    args = parser.parse_args()
    files = stdlib_files()
    if args.limit:
        files = files[: args.limit]
    print(f"python {sys.version.split()[0]}, stdlib at {sysconfig.get_paths()['stdlib']}: {len(files)} files")
    analysed, unparsable, codes, crashes, seconds = strict_pass(files)
    print(f"strict pass: {analysed} analysed, {unparsable} not parsable (skipped), {len(crashes)} crashes, {seconds:.1f} s")
    print("findings by code: " + (", ".join(f"{c}={n}" for c, n in sorted(codes.items())) or "none"))
    for crash in crashes[:10]:
        print("CRASH", crash)
    failed = bool(crashes)
    if not args.skip_flake8:
        status, stderr, seconds = flake8_pass(Path(sysconfig.get_paths()["stdlib"]))
        critical = "critical error" in stderr.lower() or "Traceback" in stderr
        print(f"flake8 pass: exit {status}, {'CRASHED' if critical else 'no crash'}, {seconds:.1f} s")
        if critical:
            print(stderr[-3000:])
            failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
