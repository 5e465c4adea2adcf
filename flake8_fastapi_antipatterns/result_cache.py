"""Findings kept between runs, so that linting an unchanged project again costs next to nothing.

A file's findings are worked out from the whole project (a helper in another module, the files
that mount an app, a Dockerfile's probe), so an entry is keyed by everything the analysis reads:
- the project's state: the path and bytes of every Python file the files stage reads (it reads
  them anyway) and of the deployment files, under one directory per state;
- the file's real path, the settings that change findings, the interpreter's version and this
  plugin's own source;
- modules read from outside the project's text (a package above the project's root): each entry
  lists them with a hash of their bytes, checked before the entry is used.
A change to any of them is a miss: the file is worked out afresh. Only a file whose parsed text is
the file on disk is kept (an editor's unsaved buffer, sent on standard input under the file's name,
is not), and only in a project read whole. The most recent ``KEPT_STATES``
states of a project are kept, older ones removed when a new one is written.

Concurrent flake8 workers share the directory safely: an entry is written to a temporary file and
renamed into place, so a reader sees a whole entry or none. Any fault here (a read-only directory,
a damaged entry) is a miss, never an error: the findings are then worked out as without a cache.
"""

from __future__ import annotations

import codecs
import hashlib
import json
import logging
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flake8_fastapi_antipatterns import __version__
from flake8_fastapi_antipatterns.analysis.deployment_files import deployment_facts
from flake8_fastapi_antipatterns.analysis.project import ProjectIndex, process_index
from flake8_fastapi_antipatterns.diagnostics import Diagnostic
from flake8_fastapi_antipatterns.options import Settings

log = logging.getLogger("flake8_fastapi_antipatterns")

CACHE_FORMAT = "1"
DEFAULT_DIRECTORY = ".faa_cache"
KEPT_STATES = 4
# A directory of an older plugin or interpreter is removed once unused this long (another tox
# environment may still be using its own, side by side).
STALE_PLUGIN_SECONDS = 7 * 24 * 3600
_IGNORE_ALL = "# Written by flake8-fastapi-antipatterns: findings kept between runs. Safe to delete.\n*\n"
_CACHEDIR_TAG = "Signature: 8a477f597d28d172789f06886806bc55\n# Findings kept by flake8-fastapi-antipatterns.\n"

ENABLED = True
"""The process-wide switch: the test suite turns it off, so that a test that patches the analysis
never keeps what the patched analysis found."""


@dataclass(frozen=True)
class Entry:
    """Where one linted file's findings are kept."""

    path: str
    source: str
    """The linted file's real path."""


# The state directory of each (project root, cache option) in this process; None where the cache
# cannot be used (a project too large to read whole, a directory that cannot be written).
_STATES: dict[tuple[str, tuple[str, ...]], str | None] = {}
_PLUGIN: list[str] = []
# Hashes of files read from outside the project's text, by (path, mtime, size).
_DIGESTS: dict[tuple[str, float, int], str | None] = {}


def entry_for(filename: str, settings: Settings, source: bytes) -> Entry | None:
    """Where ``filename``'s findings are kept; None when they are not (the cache is off, the source is
    not a file on disk, the project is too large to read whole).

    ``source`` is the text that was parsed, which is not always the file on disk: an editor sends its
    unsaved buffer on standard input under the file's name (``--stdin-display-name``)."""
    if not ENABLED or not settings.cache_enabled:
        return None
    if not filename or filename in ("-", "stdin") or filename.startswith("<") or not os.path.isfile(filename):
        return None
    try:
        index = process_index()
        real = index.resolve_linted(filename)
        state = _state_directory(index, real, settings)
        if state is None:
            return None
        texts = index.project_texts(real)
        saved = texts.get(real) if texts is not None else None
        if saved is None or _lines_of(saved) != _lines_of(source):
            return None  # a buffer that differs from the file: findings about text nobody saved
        key = hashlib.sha256(f"{settings.analysis_key()}\0{real}".encode("utf-8", "surrogateescape"))
        return Entry(os.path.join(state, key.hexdigest()[:40] + ".json"), real)
    except Exception:
        log.debug("flake8-fastapi-antipatterns: no cache for %s", filename, exc_info=True)
        return None


def load(entry: Entry, filename: str) -> list[Diagnostic] | None:
    """The findings kept at ``entry``, shown under ``filename``; None when there are none to trust."""
    try:
        with open(entry.path, "rb") as handle:
            data = json.loads(handle.read())
        if not isinstance(data, dict) or data.get("format") != CACHE_FORMAT:
            return None
        read = data.get("read", {})
        if not isinstance(read, dict) or any(_file_digest(str(path)) != digest for path, digest in read.items()):
            return None
        found = [Diagnostic.from_dict(item) for item in data["findings"]]
    except FileNotFoundError:
        return None
    except Exception:
        log.debug("flake8-fastapi-antipatterns: ignored a damaged cache entry %s", entry.path, exc_info=True)
        return None
    for diagnostic in found:
        diagnostic.filename = filename
    return found


def store(entry: Entry, findings: list[Diagnostic]) -> None:
    """Keep ``findings`` at ``entry``, with the modules read from outside the project's text."""
    try:
        index = process_index()
        directory = os.path.dirname(entry.path)
        texts = index.project_texts(entry.source)
        outside = [p for p in index.parsed_paths() if texts is None or p not in texts]
        data: dict[str, Any] = {
            "format": CACHE_FORMAT,
            "read": {path: _file_digest(path) for path in outside},
            "findings": [{**d.to_dict(), "filename": ""} for d in findings],
        }
        text = json.dumps(data, separators=(",", ":"), default=str)
        handle, temporary = tempfile.mkstemp(dir=directory, prefix=".entry-", suffix=".tmp")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(text)
            os.replace(temporary, entry.path)
        except BaseException:
            os.unlink(temporary)
            raise
    except Exception:
        log.debug("flake8-fastapi-antipatterns: could not keep the findings at %s", entry.path, exc_info=True)


def _state_directory(index: ProjectIndex, real: str, settings: Settings) -> str | None:
    root = index.project_root(real)
    key = (root, settings.cache_dir)
    if key in _STATES:
        return _STATES[key]
    state: str | None = None
    texts = index.project_texts(real)
    if texts is not None:
        # In the working directory, as other linters keep theirs: linting a file elsewhere (an installed
        # package, another checkout) never writes into that tree.
        base = os.path.abspath(settings.cache_dir[0] if settings.cache_dir else DEFAULT_DIRECTORY)
        project = hashlib.sha256(
            f"{root}\0{texts.fingerprint()}\0{deployment_facts(root).digest}".encode("utf-8", "surrogateescape")
        ).hexdigest()[:32]
        plugin = os.path.join(base, _plugin_fingerprint()[:16])
        state = os.path.join(plugin, project)
        try:
            _prepare(base)
            existed = os.path.isdir(state)
            os.makedirs(state, exist_ok=True)
            os.utime(state)  # the most recently used states are the ones kept
            if not existed:
                _prune(base, plugin)
        except OSError:
            log.debug("flake8-fastapi-antipatterns: the cache directory %s cannot be used", base, exc_info=True)
            state = None
    if len(_STATES) > 64:
        _STATES.clear()
    _STATES[key] = state
    return state


def _prepare(base: str) -> None:
    """Create the cache directory, which tells git and backup tools to leave it alone."""
    if os.path.isdir(base):
        return
    os.makedirs(base, exist_ok=True)
    for name, text in ((".gitignore", _IGNORE_ALL), ("CACHEDIR.TAG", _CACHEDIR_TAG)):
        with open(os.path.join(base, name), "w", encoding="utf-8") as out:
            out.write(text)


def _prune(base: str, plugin: str) -> None:
    """Remove the older states of this plugin, and plugin directories long unused."""
    states = sorted((entry for entry in os.scandir(plugin) if entry.is_dir()), key=_modified, reverse=True)
    for old in states[KEPT_STATES:]:
        shutil.rmtree(old.path, ignore_errors=True)
    unused_since = _now(plugin) - STALE_PLUGIN_SECONDS
    for other in os.scandir(base):
        if other.is_dir() and other.path != plugin and _modified(other) < unused_since:
            shutil.rmtree(other.path, ignore_errors=True)


def _modified(entry: os.DirEntry[str]) -> float:
    try:
        return entry.stat().st_mtime
    except OSError:
        return 0.0


def _now(path: str) -> float:
    """The file system's time, read off a directory just touched (clocks of network mounts differ)."""
    return os.stat(path).st_mtime


def _plugin_fingerprint() -> str:
    """This plugin's version, its source and the interpreter: another of any of them may find otherwise."""
    if not _PLUGIN:
        digest = hashlib.sha256(f"{CACHE_FORMAT}\0{__version__}\0{sys.version}".encode())
        package = Path(__file__).resolve().parent
        for source in sorted(package.rglob("*.py")):
            digest.update(str(source.relative_to(package)).encode("utf-8", "surrogateescape") + b"\0")
            digest.update(source.read_bytes())
        _PLUGIN.append(digest.hexdigest())
    return _PLUGIN[0]


def _lines_of(text: bytes) -> bytes:
    """The text as flake8 hands it to a plugin: no byte-order mark, every line end written ``\\n``."""
    text = text.removeprefix(codecs.BOM_UTF8)
    return text.replace(b"\r\n", b"\n").replace(b"\r", b"\n") if b"\r" in text else text


def _file_digest(path: str) -> str | None:
    """The hash of a file's bytes; None when it cannot be read (gone, a directory)."""
    try:
        stat = os.stat(path)
    except OSError:
        return None
    key = (path, stat.st_mtime, stat.st_size)
    if key not in _DIGESTS:
        if len(_DIGESTS) > 4096:
            _DIGESTS.clear()
        try:
            with open(path, "rb") as handle:
                _DIGESTS[key] = hashlib.sha256(handle.read()).hexdigest()
        except OSError:
            _DIGESTS[key] = None
    return _DIGESTS[key]


__all__ = ["DEFAULT_DIRECTORY", "ENABLED", "Entry", "entry_for", "load", "store"]
