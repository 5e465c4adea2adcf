"""Run the rules over the project's files: one file at a time, or in forked workers sharing what the
parent already read of the project.

Each file is parsed by the running Python; one that does not parse is reported as FAA000 (never
skipped silently). Its findings then go through the selection, the per-file-ignores and the
``# noqa`` comments, in that order, as flake8 would filter the plugin's findings.

The workers are forked after the parent has read the project's text and parsed the modules that
mount apps (what the analysis of nearly every file asks for), so that each worker starts with
that project-wide work done instead of redoing it; the results are those of a serial run because
every answer of the shared index is the same whichever process computes it.
"""

from __future__ import annotations

import ast
import logging
import multiprocessing
import os
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from flake8_fastapi_antipatterns.analysis.deployment_files import deployment_facts
from flake8_fastapi_antipatterns.analysis.project import process_index
from flake8_fastapi_antipatterns.check.noqa import NoqaComments, skips_file, source_lines
from flake8_fastapi_antipatterns.check.per_file import PerFileIgnores
from flake8_fastapi_antipatterns.check.report import PARSE_ERROR_CODE
from flake8_fastapi_antipatterns.check.selection import Selection
from flake8_fastapi_antipatterns.diagnostics import Diagnostic
from flake8_fastapi_antipatterns.engine import analyse_linted_file
from flake8_fastapi_antipatterns.options import Settings

log = logging.getLogger("flake8_fastapi_antipatterns")

# Fewer files than this per worker are checked in the parent: forking costs more than it saves.
MIN_FILES_PER_WORKER = 4


@dataclass(frozen=True)
class Job:
    settings: Settings
    selection: Selection
    per_file_ignores: PerFileIgnores
    root: Path
    """Reported file names are relative to it."""


def report_name(path: str, root: Path) -> str:
    absolute = os.path.abspath(path)
    try:
        return Path(os.path.relpath(absolute, root)).as_posix()
    except ValueError:  # another drive (Windows)
        return Path(absolute).as_posix()


def _parse_failure(data: bytes, error: Exception) -> tuple[int, int, str]:
    """Line, column (0-based) and reason of a file the running Python cannot parse."""
    if b"\0" in data and (not isinstance(error, SyntaxError) or "null byte" in str(error.msg)):
        # Python names no position for a NUL byte (3.12+: a SyntaxError at line 1; before: a ValueError).
        at = data.index(b"\0")
        return data.count(b"\n", 0, at) + 1, at - (data.rfind(b"\n", 0, at) + 1), "the file holds a NUL byte"
    if isinstance(error, SyntaxError):
        return error.lineno or 1, max((error.offset or 1) - 1, 0), error.msg or type(error).__name__
    return 1, 0, str(error) or type(error).__name__


def _could_not_parse(filename: str, line: int, col: int, reason: str) -> Diagnostic:
    return Diagnostic(PARSE_ERROR_CODE, f"could not parse: {reason}", filename, line, col, severity="error")


def check_file(path: str, job: Job) -> list[Diagnostic]:
    """The reported findings of one file, named relative to ``job.root``."""
    shown = report_name(path, job.root)
    file_ignores = job.per_file_ignores.codes_for(path)
    found: list[Diagnostic]
    lines: list[str] | None = None
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as error:
        found = [_could_not_parse(shown, 1, 0, f"cannot read the file ({error.strerror or error})")]
        return [d for d in found if job.selection.reports(d.code, file_ignores)]
    if b"flake8" in data:
        lines = source_lines(data)
        if skips_file(lines):
            return []
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # SyntaxWarnings about the user's code are not ours to print
            tree = ast.parse(data, filename=path)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as error:
        line, col, reason = _parse_failure(data, error)
        found = [_could_not_parse(shown, line, col, reason)]
        return [d for d in found if job.selection.reports(d.code, file_ignores)]
    found = [d for d in analyse_linted_file(tree, path, job.settings, data) if job.selection.reports(d.code, file_ignores)]
    if found and b"noqa" in data.lower():
        comments = NoqaComments(lines if lines is not None else source_lines(data))
        found = [d for d in found if not comments.suppresses(d.line, d.code)]
    for finding in found:
        finding.filename = shown
    return found


def warm_project(files: list[str]) -> None:
    """Read, in the parent, what the analysis of every file of a project asks for first."""
    index = process_index()
    first_file_of: dict[str, str] = {}
    for path in files:
        try:
            first_file_of.setdefault(index.project_root(os.path.abspath(path)), os.path.abspath(path))
        except OSError:
            continue
    for root, path in first_file_of.items():
        try:
            index.defined_names(path)
            deployment_facts(root)
            for mounting in sorted(index.mounting_files(path) or ()):
                index.module(mounting)
        except Exception:  # only a head start: a worker that needs it will meet the problem itself
            log.debug("could not read ahead the project at %s", root, exc_info=True)


def worker_count(jobs: int, files: int) -> int:
    """How many processes to fork; below 2 the run stays in this process."""
    if "fork" not in multiprocessing.get_all_start_methods():
        return 1
    return max(1, min(jobs, files // MIN_FILES_PER_WORKER))


_JOB: Job | None = None
"""The job of the running check, inherited by the forked workers (never pickled)."""


def _check_in_worker(path: str) -> list[Diagnostic]:
    assert _JOB is not None
    return check_file(path, _JOB)


def _results(files: list[str], job: Job, workers: int) -> Iterator[list[Diagnostic]]:
    global _JOB
    if workers < 2:
        for path in files:
            yield check_file(path, job)
        return
    warm_project(files)
    _JOB = job
    try:
        context = multiprocessing.get_context("fork")
        # Small chunks keep the workers equally busy; consecutive files (one package) share a chunk.
        chunk = max(1, min(16, len(files) // (workers * 4)))
        with context.Pool(workers) as pool:
            yield from pool.imap_unordered(_check_in_worker, files, chunksize=chunk)
    finally:
        _JOB = None


def run_checks(
    files: list[str], job: Job, jobs: int, on_file_done: Callable[[], None] | None = None
) -> list[Diagnostic]:
    """Every reported finding of ``files``, sorted by file, line, column and code."""
    found: list[Diagnostic] = []
    for result in _results(files, job, worker_count(jobs, len(files))):
        found.extend(result)
        if on_file_done is not None:
            on_file_done()
    found.sort(key=lambda d: (d.filename, d.line, d.col, d.code, d.message))
    return found
