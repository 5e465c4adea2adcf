"""Imports between the files of the project being linted.

Real apps are split into modules: ``main.py`` includes routers from
``routers/*.py``, ``db.py`` holds the engine and ``get_db``, ``crud.py`` the
sync helpers.  ``ProjectIndex`` finds the file an import names, parses it
once, and hands back its ``Names``, so a rule can follow a call or a binding
into another module.

Design notes:
- Files are found on disk near the file being linted (its package root and
  its ancestors), so namespace-package layouts (``app/`` with no
  ``__init__.py``) resolve too.  Third-party imports are simply not found.
- One index per process, keyed by path and checked against mtime/size.
  flake8's ``-j`` workers each build their own lazily, which keeps the
  results identical to a serial run.
- Memory is bounded: a parsed module is kept while the files being linted use it (dropped after
  ``YOUNG_MODULE_FILES`` linted files without use, ``SHARED_MODULE_FILES`` for one several files
  used), and at most ``MAX_MODULES`` are kept (least recently used out).
- Nothing here raises on bad input: an unreadable or unparsable module is
  "unknown", and rules stay silent about what they cannot see.
- Some looks go the other way: which files mount an app (``mounting_files``),
  so an app that ``main.py`` mounts is not judged as if served on its own, and
  which files mention a name (``files_mentioning``: where a project exception
  class is raised). They read the project's files once per process, bounded
  in count, and keep their bytes (``analysis/project_text.py``).
"""

from __future__ import annotations

import ast
import os
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from flake8_fastapi_antipatterns.analysis.project_text import DefinedNames, ProjectTexts, imported_words

if TYPE_CHECKING:
    from flake8_fastapi_antipatterns.analysis.names import FunctionNode, Names

MAX_MODULES = 1024
# A parsed module is dropped once this many linted files went by without using it: a module only
# one file has used, or one that several files use (and at most ``MAX_MODULES`` are kept, least
# recently used out: about 90 KB each, so some 100 MB at most). A module kept is not walked by the
# garbage collector (what outlives a file's analysis is frozen, ``gc_pacing.py``), and what later
# stages worked out about it is kept with it: on the largest real app, keeping every module instead
# of dropping a module one file used after 16 files (128 for a shared one) cut the analysis by a
# fifth, for 60 MB. The two windows stay separate settings for projects where memory matters more.
YOUNG_MODULE_FILES = 1024
SHARED_MODULE_FILES = 1024
# How far above a file to look for the directory an absolute import starts from.
MAX_ROOT_DEPTH = 6
MAX_FILE_BYTES = 2_000_000
# The search for the files that mount an app built elsewhere (``mounting_files``): how many
# files it reads at most, and the directories it never enters (environments, builds, caches).
MAX_SCANNED_FILES = 20_000
MAX_SCANNED_BYTES = 256 * 1024 * 1024
SKIPPED_DIRECTORIES = frozenset({"node_modules", "site-packages", "__pycache__", "build", "dist", "venv", "env"})
_MOUNT_MARKERS = (b".mount(", b"Mount(", b"Host(")
# Libraries the rules know by qualified name (``fastapi.Depends``, ``requests.get``,
# ``sqlalchemy.orm.Session``).  An absolute import of one of them is never looked for
# on disk: a checkout of the library next to the linted code (linting FastAPI's own
# repository) would otherwise be parsed and followed, to learn nothing the qualified
# name does not already say.  Standard-library names are still looked for: a project
# may have its own ``calendar.py``, and no project holds a copy of the standard library.
MODELLED_LIBRARIES = frozenset(
    {
        "fastapi", "starlette", "pydantic", "pydantic_core", "sqlalchemy", "sqlmodel", "httpx", "requests",
        "aiohttp", "urllib3", "uvicorn", "gunicorn", "anyio", "redis", "psycopg", "psycopg2", "pymongo",
        "motor", "boto3", "botocore", "openai", "anthropic", "slowapi", "pytest", "databases", "asyncpg",
        "aiosqlite", "jinja2", "yaml", "orjson", "ujson", "jwt", "jose", "passlib", "celery", "elasticsearch",
        "llama_cpp",
    }
)


@dataclass(eq=False)
class ModuleInfo:
    """One parsed project module (compared and hashed by identity: what later stages work out about a
    module is kept beside it, weakly, for as long as the index keeps the module)."""

    path: Path
    names: Names


NamesFactory = Callable[[ast.Module, "Resolver"], "Names"]
_NAMES_FACTORY: list[NamesFactory] = []


def use_names(factory: NamesFactory) -> None:
    """How a parsed module becomes its ``Names``: set by the names stage when it loads, so that this
    stage (files and imports) does not import the stages built on it."""
    _NAMES_FACTORY[:] = [factory]


@dataclass(frozen=True)
class Symbol:
    """A module-level definition found in some project module."""

    module: ModuleInfo
    name: str
    node: ast.AST
    """A FunctionDef/AsyncFunctionDef/ClassDef, or the expression assigned to the name."""


class ProjectIndex:
    """Where the modules a file imports are, and what they define (one per process).

    Paths are kept as plain strings: a ``Path`` is several objects that every full garbage
    collection of the flake8 run walks again, and a fresh one is formatted to be hashed.
    """

    def __init__(
        self, max_modules: int = MAX_MODULES, young_files: int = YOUNG_MODULE_FILES, shared_files: int = SHARED_MODULE_FILES
    ) -> None:
        self._modules: OrderedDict[str, tuple[tuple[float, int], ModuleInfo | None]] = OrderedDict()
        self._max = max_modules
        # Which linted file (epoch) last used each module, and whether another one did before: kept
        # after the module is dropped, so that a module a second file asks for is then kept longer.
        self._uses: dict[str, tuple[int, bool]] = {}
        # The modules kept, by the epoch that last used them, least recently used first: those one
        # file has used, and those several have, each with how many files may go by without them.
        self._young: OrderedDict[str, int] = OrderedDict()
        self._shared: OrderedDict[str, int] = OrderedDict()
        self._keep_for = ((self._young, young_files), (self._shared, shared_files))
        self._file_cache: dict[tuple[str, str], str | None] = {}
        # Every file of a project asks the same questions (``from .db import get_db``, ``fastapi.Depends``):
        # answers about where a name lives are kept, like ``_file_cache``, for the life of the process.
        self._located: dict[tuple[str, str], tuple[str, tuple[str, ...]] | None] = {}
        self._resolved: dict[str, str] = {}
        # Directory listings as dicts of names: unlike sets, the collector does not track them.
        self._listings: dict[str, dict[str, None]] = {}
        self._roots: dict[str, tuple[str, ...]] = {}
        # What a qualified name refers to, per importing file: a file asks about ``Depends`` or
        # ``crud.get_user`` once per call site.  Each answer lists the modules it read; those are
        # re-checked (mtime/size) once per linted file, and dropping a module drops the answers that
        # read it (``_consulted_by``), so that answers never keep dropped modules alive.
        self._symbols: dict[tuple[str, str], tuple[Symbol | None, tuple[str, ...], int]] = {}
        self._consulted_by: dict[str, set[tuple[str, str]]] = {}
        self._verified: set[str] = set()
        self._real_directories: dict[str, str] = {}
        self._epoch = 0
        """Counts ``new_file`` calls: an answer checked in the current epoch is not checked again."""
        self._mounting: dict[str, dict[str, frozenset[str]] | None] = {}
        self._texts: dict[str, ProjectTexts | None] = {}
        self._directories: dict[tuple[str, str], bool] = {}
        self._mentions: dict[tuple[str, str], list[str] | None] = {}
        self._import_words: dict[str, frozenset[str]] = {}
        self._defined: dict[str, DefinedNames | None] = {}
        # Every file parsed from disk in this process, kept after its module is dropped: what a
        # linted file's findings may have been worked out from (``parsed_paths``).
        self._parsed: dict[str, None] = {}

    # -- files ------------------------------------------------------------
    def module(self, path: Path | str, tree: ast.Module | None = None) -> ModuleInfo | None:
        """The parsed module at ``path`` (``tree`` when the caller already parsed it)."""
        if not _NAMES_FACTORY:
            raise RuntimeError("analysis.names is not loaded: import it before asking for a module's names")
        make_names = _NAMES_FACTORY[0]
        try:
            real = self._resolve(os.fspath(path))
            stat = os.stat(real)
        except (OSError, RuntimeError, TypeError, ValueError):
            return None
        key = (stat.st_mtime, stat.st_size)
        self._used(real)
        cached = self._modules.get(real)
        if cached is not None and cached[0] == key:
            self._modules.move_to_end(real)
            return cached[1]
        info: ModuleInfo | None = None
        if tree is None and stat.st_size <= MAX_FILE_BYTES:
            self._parsed[real] = None
            try:
                with open(real, "rb") as source:
                    tree = ast.parse(source.read(), filename=real)
            except (SyntaxError, ValueError, OSError, RecursionError, MemoryError):
                tree = None
        if tree is not None:
            info = ModuleInfo(path=Path(real), names=make_names(tree, Resolver(self, real)))
        self._modules[real] = (key, info)
        while len(self._modules) > self._max:
            self._drop(next(iter(self._modules)))
        return info

    def module_read(self, path: str) -> ModuleInfo | None:
        """The module at ``path`` if the index has already parsed it as it is on disk now; None
        otherwise (nothing is parsed). A linted file another file's analysis read a moment ago is
        analysed on that tree, its symbols and node index already worked out."""
        try:
            real = self._resolve(os.fspath(path))
            stat = os.stat(real)
        except (OSError, RuntimeError, TypeError, ValueError):
            return None
        cached = self._modules.get(real)
        if cached is None or cached[0] != (stat.st_mtime, stat.st_size) or cached[1] is None:
            return None
        self._used(real)
        self._modules.move_to_end(real)
        return cached[1]

    def _used(self, real: str) -> None:
        """Record that the file being linted uses the module at ``real``."""
        last = self._uses.get(real)
        if last is not None and last[0] == self._epoch:
            return
        shared = last is not None
        if len(self._uses) > 16 * self._max:
            self._uses.clear()
        self._uses[real] = (self._epoch, shared)
        kept = self._shared if shared else self._young
        if shared:
            self._young.pop(real, None)
        kept[real] = self._epoch
        kept.move_to_end(real)

    def _drop(self, real: str) -> None:
        """Forget a parsed module, and the symbol answers that read it."""
        self._modules.pop(real, None)
        self._young.pop(real, None)
        self._shared.pop(real, None)
        for key in self._consulted_by.pop(real, ()):
            self._symbols.pop(key, None)

    def _listing(self, directory: str) -> dict[str, None]:
        names = self._listings.get(directory)
        if names is None:
            try:
                names = dict.fromkeys(os.listdir(directory))
            except OSError:
                names = {}
            if len(self._listings) > 8 * self._max:
                self._listings.clear()
            self._listings[directory] = names
        return names

    def resolve_linted(self, filename: str) -> str:
        """The real path of a file given relative to the working directory (flake8's ``./app/main.py``).

        The files of a directory share the resolution of the directory: only the file itself
        is checked for being a symlink.
        """
        directory, name = os.path.split(os.path.abspath(filename))
        real_directory = self._real_directories.get(directory)
        if real_directory is None:
            if len(self._real_directories) > 8 * self._max:
                self._real_directories.clear()
            real_directory = self._real_directories[directory] = os.path.realpath(directory)
        candidate = os.path.join(real_directory, name)
        path = os.path.realpath(candidate) if os.path.islink(candidate) else candidate
        self._resolved[path] = path
        return path

    def real_path(self, path: Path | str) -> str:
        """``os.path.realpath(path)``, remembered (asked again for every app of a project)."""
        return self._resolve(os.fspath(path))

    def _resolve(self, path: str) -> str:
        resolved = self._resolved.get(path)
        if resolved is None:
            if len(self._resolved) > 8 * self._max:
                self._resolved.clear()
            resolved = self._resolved[path] = os.path.realpath(path)
        return resolved

    def _candidate_roots(self, directory: str) -> tuple[str, ...]:
        roots = self._roots.get(directory)
        if roots is None:
            if len(self._roots) > 8 * self._max:
                self._roots.clear()
            found: list[str] = []
            current = directory
            for _ in range(MAX_ROOT_DEPTH):
                found.append(current)
                parent = os.path.dirname(current)
                if parent == current:
                    break
                current = parent
            roots = self._roots[directory] = tuple(found)
        return roots

    def _find_file(self, base: str, dotted: str) -> str | None:
        cache_key = (base, dotted)
        if cache_key in self._file_cache:
            return self._file_cache[cache_key]
        found: str | None = None
        parts = [p for p in dotted.split(".") if p]
        if parts:
            # ``base/a/b.py`` or ``base/a/b/__init__.py``.  A directory listing read once per
            # directory: most candidates are ruled out without a stat.
            directory = os.path.join(base, *parts[:-1])
            module_file = parts[-1] + ".py"
            package = os.path.join(directory, parts[-1])
            listing = self._listing(directory)
            # A package wins over a module of the same name, as in Python's own import system:
            # ``a/b/__init__.py`` beside ``a/b.py`` makes ``a.b`` the package (``shadowed``).
            if (
                parts[-1] in listing
                and "__init__.py" in self._listing(package)
                and os.path.isfile(os.path.join(package, "__init__.py"))
            ):
                found = os.path.join(package, "__init__.py")
            elif module_file in listing and os.path.isfile(os.path.join(directory, module_file)):
                found = os.path.join(directory, module_file)
        if len(self._file_cache) > 8 * self._max:
            self._file_cache.clear()
        self._file_cache[cache_key] = found
        return found

    def shadowed(self, path: str) -> bool:
        """Whether the module file ``path`` can never be imported: a package of the same name sits
        beside it (``providers/__init__.py`` next to ``providers.py``), and ``import`` finds the package."""
        directory, name = os.path.split(path)
        stem, extension = os.path.splitext(name)
        if extension != ".py" or stem == "__init__" or stem not in self._listing(directory):
            return False
        return "__init__.py" in self._listing(os.path.join(directory, stem))

    def find_module(self, importer: Path | str, dotted: str) -> tuple[Path, list[str]] | None:
        """The file of the longest module prefix of ``dotted`` and the attribute path after it.

        ``dotted`` is a qualified name as ``Names`` spells it: relative ones keep their
        leading dots (``.db.get_db``, ``..core.settings``).
        """
        located = self._find_module(os.fspath(importer), dotted)
        return None if located is None else (Path(located[0]), list(located[1]))

    def _find_module(self, importer: str, dotted: str) -> tuple[str, tuple[str, ...]] | None:
        # The answer depends on the importer's directory only, unless it names the importer
        # itself (which must be skipped): every file of a directory shares one lookup.
        located = self._located_from(os.path.dirname(importer), dotted, None)
        if located is not None and self._resolve(located[0]) == self._resolve(importer):
            located = self._located_from(importer, dotted, importer)
        return located

    def _located_from(self, key_path: str, dotted: str, exclude: str | None) -> tuple[str, tuple[str, ...]] | None:
        key = (key_path, dotted)
        if key in self._located:
            return self._located[key]
        if len(self._located) > 8 * self._max:
            self._located.clear()
        directory = key_path if exclude is None else os.path.dirname(exclude)
        located = self._located[key] = self._locate(directory, dotted, exclude)
        return located

    def _locate(self, directory: str, dotted: str, exclude: str | None) -> tuple[str, tuple[str, ...]] | None:
        level = len(dotted) - len(dotted.lstrip("."))
        parts = [p for p in dotted[level:].split(".") if p]
        if not level and parts and parts[0] in MODELLED_LIBRARIES:
            return None
        excluded = self._resolve(exclude) if exclude is not None else None
        bases: tuple[str, ...]
        if level:
            base = directory
            for _ in range(level - 1):
                base = os.path.dirname(base)
            bases = (base,)
        else:
            bases = self._candidate_roots(directory)
        for cut in range(len(parts), -1, -1):
            module_parts, rest = parts[:cut], parts[cut:]
            for base in bases:
                if not module_parts:
                    if level:
                        init = os.path.join(base, "__init__.py")
                        if os.path.isfile(init):
                            return init, tuple(rest)
                    continue
                found = self._find_file(base, ".".join(module_parts))
                if found is not None and (excluded is None or self._resolve(found) != excluded):
                    return found, tuple(rest)
        return None

    def symbol(self, importer: Path | str, dotted: str, _depth: int = 0) -> Symbol | None:
        """The project definition a qualified name refers to, following re-exports."""
        importer = os.fspath(importer)
        # The files of a directory share answers (like ``find_module``), unless the name's
        # module is the importer itself, which ``find_module`` then skips for that file only.
        directory = os.path.dirname(importer)
        neutral = self._located_from(directory, dotted, None)
        own = neutral is not None and self._resolve(neutral[0]) == self._resolve(importer)
        key = (importer if own else directory, dotted)
        known = self._symbols.get(key)
        if known is not None and not _depth:
            if known[2] == self._epoch:
                return known[0]
            if self._fresh(known[1]):
                self._symbols[key] = (known[0], known[1], self._epoch)
                return known[0]
        consulted: list[str] = []
        found = self._symbol(importer, dotted, _depth, consulted)
        if not _depth:
            if len(self._symbols) > 64 * self._max:
                self._symbols.clear()
                self._consulted_by.clear()
            self._symbols[key] = (found, tuple(consulted), self._epoch)
            for path in consulted:
                self._consulted_by.setdefault(path, set()).add(key)
        return found

    def parsed_paths(self) -> list[str]:
        """The real paths of every module this process has read from disk, in reading order."""
        return list(self._parsed)

    # -- reverse look-ups -------------------------------------------------
    def project_root(self, path: str) -> str:
        """Where the project holding ``path`` starts: the working directory when ``path`` is under
        it (flake8 runs from the project's top), else the directory above ``path``'s top package."""
        real = self._resolve(path)
        try:
            cwd = self._resolve(os.getcwd())
        except OSError:  # the working directory was removed under the process
            cwd = None
        if cwd is not None and real.startswith(cwd.rstrip(os.sep) + os.sep):
            return cwd
        directory = os.path.dirname(real)
        for _ in range(MAX_ROOT_DEPTH):
            if "__init__.py" not in self._listing(directory):
                break
            directory = os.path.dirname(directory)
        return directory

    def project_texts(self, path: str) -> ProjectTexts | None:
        """The text of every Python file of ``path``'s project, by real path.

        Read once per project root and process (a file added later is not seen until the next
        run); None when the project is larger than ``MAX_SCANNED_FILES`` files or ``MAX_SCANNED_BYTES``, so a caller knows
        an answer drawn from it would be incomplete. Environments, builds and hidden directories
        are skipped. Bytes are kept, not trees: they cost the garbage collector nothing to walk.
        """
        root = self.project_root(path)
        if root in self._texts:
            return self._texts[root]
        found: dict[str, bytes] = {}
        complete = True
        total = 0
        for directory, subdirectories, files in os.walk(root):
            subdirectories[:] = sorted(
                d
                for d in subdirectories
                if not d.startswith(".")
                and d not in SKIPPED_DIRECTORIES
                and not os.path.exists(os.path.join(directory, d, "pyvenv.cfg"))
            )
            for name in sorted(files):
                if not name.endswith(".py"):
                    continue
                if len(found) >= MAX_SCANNED_FILES:
                    complete = False
                    break
                candidate = os.path.join(directory, name)
                try:
                    size = os.path.getsize(candidate)
                    if size > MAX_FILE_BYTES:
                        continue
                    total += size
                    if total > MAX_SCANNED_BYTES:
                        complete = False
                        break
                    with open(candidate, "rb") as source:
                        # The directory's real path is shared by its files (only a file that is a
                        # link is resolved on its own): ``realpath`` per file costs a stat per component.
                        found[self.resolve_linted(candidate)] = source.read()
                except OSError:
                    continue
            if not complete:
                break
        result = ProjectTexts(found) if complete else None
        if len(self._texts) > 4:
            self._texts.clear()
        self._texts[root] = result
        return result

    def files_mentioning(self, path: str, word: str) -> list[str] | None:
        """The files of ``path``'s project whose text holds ``word`` as a whole word, sorted;
        None when the project is too large to have been read whole."""
        root = self.project_root(path)
        key = (root, word)
        if key in self._mentions:
            return self._mentions[key]
        texts = self.project_texts(path)
        found: list[str] | None = None
        if texts is not None:
            found = texts.mentioning(word)
        if len(self._mentions) > 64 * self._max:
            self._mentions.clear()
        self._mentions[key] = found
        return found

    def modules_mentioning(self, path: str, word: str, at_most: int) -> list[ModuleInfo] | None:
        """The parsed modules of the files of ``path``'s project whose text holds ``word``; None when
        the project was not read whole, more than ``at_most`` files hold it, or one does not parse
        (an answer drawn from the rest would be incomplete)."""
        return self._modules_of(self.files_mentioning(path, word), at_most)

    def files_deriving(self, path: str, word: str) -> list[str] | None:
        """The files of ``path``'s project that may derive a class from ``word`` (``ProjectTexts.deriving``),
        sorted, worked out once per word; None when the project is too large to have been read whole."""
        root = self.project_root(path)
        key = (root, "class (" + word)  # no word holds a space: apart from ``files_mentioning``'s keys
        if key in self._mentions:
            return self._mentions[key]
        texts = self.project_texts(path)
        files = texts.deriving(word) if texts is not None else None
        if len(self._mentions) > 64 * self._max:
            self._mentions.clear()
        self._mentions[key] = files
        return files

    def modules_deriving(self, path: str, word: str, at_most: int) -> list[ModuleInfo] | None:
        """``modules_mentioning`` narrowed to the files that may derive a class from ``word``: a base
        class many modules import and annotate with is derived from in a few."""
        return self._modules_of(self.files_deriving(path, word), at_most)

    def _modules_of(self, files: list[str] | None, at_most: int) -> list[ModuleInfo] | None:
        """The parsed modules of ``files``; None for no list, more than ``at_most`` files, or a file
        that does not parse (an answer drawn from the rest would be incomplete)."""
        if files is None or len(files) > at_most:
            return None
        found: list[ModuleInfo] = []
        for file in files:
            module = self.module(file)
            if module is None:
                return None
            found.append(module)
        return found

    def has_directory(self, path: str, name: str) -> bool:
        """Whether ``path``'s project has a directory ``name`` holding Python files (a package the
        imports of another member of a workspace may name); True when the project was too large to
        read whole."""
        root = self.project_root(path)
        key = (root, name)
        known = self._directories.get(key)
        if known is None:
            texts = self.project_texts(path)
            marker = f"{os.sep}{name}{os.sep}"
            known = texts is None or any(marker in file[len(root):] for file in texts.paths)
            if len(self._directories) > 64 * self._max:
                self._directories.clear()
            self._directories[key] = known
        return known

    def mentioned_only_in(self, path: str, word: str) -> bool:
        """Whether the project was read whole and no file of it but ``path`` (or a link to it) holds
        ``word``: then nothing outside ``path`` can use what ``path`` defines under that name."""
        mentioning = self.files_mentioning(path, word)
        if mentioning is None:
            return False
        real = self.real_path(path)
        return all(self.real_path(file) == real for file in mentioning)

    def defined_names(self, path: str) -> DefinedNames | None:
        """Every name ``path``'s project defines with ``def`` or ``class``; None when the project was
        too large to read whole (then any name may be a project one)."""
        root = self.project_root(path)
        if root in self._defined:
            return self._defined[root]
        texts = self.project_texts(path)
        result: DefinedNames | None = None
        if texts is not None:
            result = texts.defined_names()
        if len(self._defined) > 4:
            self._defined.clear()
        self._defined[root] = result
        return result

    def import_words(self, path: str) -> frozenset[str]:
        """The words of a project file's import statements (``from .crud import get_user`` -> from,
        crud, import, get_user), read from its text; empty for a file outside the read project."""
        real = self._resolve(path)
        known = self._import_words.get(real)
        if known is None:
            texts = self._texts.get(self.project_root(real))
            text = texts.get(real) if texts is not None else None
            known = imported_words(text) if text is not None else frozenset()
            if len(self._import_words) > 16 * self._max:
                self._import_words.clear()
            self._import_words[real] = known
        return known

    def mounting_files(self, path: str) -> dict[str, frozenset[str]] | None:
        """The Python files of ``path``'s project whose text mounts something (``.mount(``, ``Mount(``, ``Host(``),
        each with the words of its import statements: a file whose imports never name a module
        cannot mount an app imported from it. None when the project was too large to read whole.
        """
        root = self.project_root(path)
        if root in self._mounting:
            return self._mounting[root]
        texts = self.project_texts(path)
        result = (
            None
            if texts is None
            else {p: imported_words(texts.get(p) or b"") for p in texts.containing(_MOUNT_MARKERS)}
        )
        if len(self._mounting) > self._max:
            self._mounting.clear()
        self._mounting[root] = result
        return result

    @property
    def epoch(self) -> int:
        """Changes whenever a new file is linted (answers cached under another epoch are re-checked)."""
        return self._epoch

    def new_file(self) -> None:
        """A new file is being linted: modules read before are checked for changes again, and those
        that went unused for long enough (``young_files``, ``shared_files``) are dropped."""
        self._verified.clear()
        self._epoch += 1
        for kept, files in self._keep_for:
            while kept:
                oldest, epoch = next(iter(kept.items()))
                if epoch >= self._epoch - files:
                    break
                self._drop(oldest)

    def _fresh(self, paths: tuple[str, ...]) -> bool:
        for path in paths:
            if path in self._verified:
                continue
            cached = self._modules.get(path)
            if cached is None or self.module(path) is not cached[1]:
                return False  # evicted, or re-read because it changed
            self._verified.add(path)
        return True

    def _symbol(self, importer: str, dotted: str, _depth: int, consulted: list[str]) -> Symbol | None:
        if _depth > 8:
            return None
        located = self._find_module(importer, dotted)
        if located is None:
            return None
        path, rest = located
        info = self.module(path)
        consulted.append(self._resolve(path))
        if info is None or len(rest) != 1:
            # ``pkg.module`` itself (no attribute) or deeper attribute chains are not definitions.
            return None
        name = rest[0]
        names = info.names
        if name in names.functions:
            return Symbol(info, name, names.functions[name])
        if name in names.classes:
            return Symbol(info, name, names.classes[name])
        if name in names.bindings:
            return Symbol(info, name, names.bindings[name])
        if name in names.imports:
            # ``from .crud import get_user`` in a package __init__: follow the re-export.
            return self._symbol(path, names.imports[name], _depth + 1, consulted)
        return None


class Resolver:
    """What one module's ``Names`` uses to look into the other project modules."""

    def __init__(self, index: ProjectIndex, filename: str) -> None:
        self.index = index
        self.filename = filename

    @property
    def path(self) -> Path:
        return Path(self.filename)

    def symbol(self, dotted: str) -> Symbol | None:
        try:
            return self.index.symbol(self.filename, dotted)
        except (OSError, RecursionError, ValueError):
            return None

    def module(self, dotted: str) -> ModuleInfo | None:
        """The project module an import names as a whole (``from app.routers import ops``)."""
        try:
            located = self.index._find_module(self.filename, dotted)
        except (OSError, RecursionError, ValueError):
            return None
        if located is None or located[1]:
            return None
        return self.index.module(located[0])

    def function(self, dotted: str) -> tuple[Names, FunctionNode] | None:
        found = self.symbol(dotted)
        if found is not None and isinstance(found.node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return found.module.names, found.node
        return None


_PROCESS_INDEX: ProjectIndex | None = None


def process_index() -> ProjectIndex:
    """The index shared by every file this process lints (one per flake8 worker)."""
    global _PROCESS_INDEX
    if _PROCESS_INDEX is None:
        _PROCESS_INDEX = ProjectIndex()
    return _PROCESS_INDEX


def resolver_for(filename: str, tree: ast.Module) -> Resolver | None:
    """A resolver for a real file on disk; None for stdin and in-memory sources."""
    if not filename or filename in ("-", "stdin") or filename.startswith("<"):
        return None
    if not os.path.isfile(filename):
        return None
    index = process_index()
    index.new_file()
    return Resolver(index, filename if os.path.isabs(filename) else index.resolve_linted(filename))


__all__ = ["ModuleInfo", "ProjectIndex", "Resolver", "Symbol", "process_index", "resolver_for"]
