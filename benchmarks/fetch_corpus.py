"""Fetch the FastAPI source distribution used as the benchmark corpus.

The corpus is code nobody here wrote: FastAPI's own sdist, whose ``docs_src/``
holds hundreds of small tutorial apps.  It is kept out of the repository
(``benchmarks/.corpus/`` is gitignored); this script fetches and unpacks it.

Usage: python benchmarks/fetch_corpus.py [--version X.Y.Z]

Without ``--version`` it pins ``PINNED_VERSION`` (the release the figures in
benchmarks/README.md were measured on); ``--version latest`` asks pip for the
newest release.  Idempotent: a corpus already unpacked is reused.  Prints the
unpacked directory on the last line of stdout, so other scripts can call it.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

PINNED_VERSION = "0.165.0"
CORPUS_DIR = Path(__file__).resolve().parent / ".corpus"


def unpacked_dir(version: str) -> Path:
    return CORPUS_DIR / f"fastapi-{version}"


def download(version: str, dest: Path) -> Path:
    """Run ``pip download`` for the sdist and return the archive it wrote."""
    requirement = "fastapi" if version == "latest" else f"fastapi=={version}"
    cmd = [
        sys.executable, "-m", "pip", "download", "--no-binary", ":all:", "--no-deps",
        "--disable-pip-version-check", "--dest", str(dest), requirement,
    ]
    subprocess.run(cmd, check=True, stdout=sys.stderr)
    archives = sorted(dest.glob("fastapi-*.tar.gz"))
    if not archives:
        raise SystemExit(f"pip download wrote no fastapi-*.tar.gz into {dest}")
    return archives[-1]


def version_of(archive: Path) -> str:
    match = re.fullmatch(r"fastapi-(.+)\.tar\.gz", archive.name)
    if match is None:
        raise SystemExit(f"unexpected archive name {archive.name}")
    return match.group(1)


def unpack(archive: Path, target: Path) -> None:
    # Unpack next to the target and rename, so an interrupted run never leaves a half tree behind.
    with tempfile.TemporaryDirectory(dir=CORPUS_DIR) as tmp:
        with tarfile.open(archive) as tar:
            tar.extractall(tmp, filter="data")
        (top,) = Path(tmp).iterdir()
        top.rename(target)


def fetch(version: str) -> Path:
    CORPUS_DIR.mkdir(parents=True, exist_ok=True)
    if version != "latest" and unpacked_dir(version).is_dir():
        return unpacked_dir(version)
    existing = sorted(CORPUS_DIR.glob("fastapi-*.tar.gz"))
    wanted = [a for a in existing if version == "latest" or version_of(a) == version]
    archive = wanted[-1] if wanted and version != "latest" else download(version, CORPUS_DIR)
    target = unpacked_dir(version_of(archive))
    if not target.is_dir():
        unpack(archive, target)
    return target


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", default=PINNED_VERSION, help=f"fastapi release (default {PINNED_VERSION}; 'latest')")
    args = parser.parse_args()
    target = fetch(args.version)
    files = sum(1 for _ in target.rglob("*.py"))
    print(f"fastapi {version_of(Path(target.name + '.tar.gz'))} sdist: {files} .py files", file=sys.stderr)
    print(target)
    return 0


if __name__ == "__main__":
    sys.exit(main())
