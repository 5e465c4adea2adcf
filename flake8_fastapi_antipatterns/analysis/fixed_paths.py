"""Fixed file paths: a path made only of constants, ``__file__``, settings and the environment.

Reading a small file at such a path (a bundled template, a Docker ``*_FILE`` secret, the
app's own state file under its configured directory) costs microseconds and is the same
file on every request: FAA102 leaves such reads alone unless ``faa-fixed-file-reads``
asks for them. A path that takes any part from a request (a parameter, a value read from
the body or the database) is not fixed, and neither is a write, a directory walk, a
subprocess or the network: those stay FAA102 whatever their path.

The judgement follows local variables, module constants (here and in the project modules
they are imported from) and the ``return`` of project helpers that take no request value
(``def _record_path(): return Path(settings.config_dir) / "migration.json"``). Anything
it cannot follow is not fixed.
"""

from __future__ import annotations

import ast
import re

from flake8_fastapi_antipatterns.analysis.blocking import name_words
from flake8_fastapi_antipatterns.analysis.names import FunctionNode, Names, Scope
from flake8_fastapi_antipatterns.analysis.nodes import last_name, spells_any

MAX_DEPTH = 6
# Words that name the app's configuration: ``settings.data_dir``, ``config.STATIC_ROOT``, ``constants.X``.
CONFIG_WORDS = frozenset({"settings", "setting", "config", "configs", "constants", "const", "conf", "cfg", "env"})
# Calls that make a path out of paths (fixed when every argument and the receiver are).
PATH_BUILDERS = frozenset(
    {
        "Path", "PurePath", "PosixPath", "join", "joinpath", "expanduser", "expandvars", "abspath", "realpath",
        "normpath", "dirname", "basename", "resolve", "absolute", "with_suffix", "with_name", "with_stem", "str",
        "fspath", "format", "home", "cwd", "gettempdir",
    }
)  # fmt: skip
# Calls that read the environment or the app's settings.
ENVIRONMENT_READS = frozenset({"getenv", "get_settings", "get_settings_service", "get_config"})
# ``open`` modes that only read.
READ_MODES = frozenset({"r", "rb", "rt", "br", "tr"})


def _says_config(name: str) -> bool:
    return bool(name_words(name) & CONFIG_WORDS)


def _words_say_config(node: ast.expr) -> bool:
    while isinstance(node, (ast.Attribute, ast.Call, ast.Subscript)):
        if isinstance(node, ast.Attribute) and _says_config(node.attr):
            return True
        node = node.func if isinstance(node, ast.Call) else node.value
    return isinstance(node, ast.Name) and _says_config(node.id)


class FixedPaths:
    """Judges path expressions of one module (and the project modules its names lead to)."""

    def __init__(self, names: Names) -> None:
        self.names = names

    def fixed(self, expr: ast.expr, funcs: tuple[FunctionNode, ...], depth: int = 0) -> bool:
        """Whether ``expr``, evaluated in ``funcs[0]`` (enclosed by the rest), is a fixed path."""
        if depth > MAX_DEPTH:
            return False

        def again(child: ast.expr) -> bool:
            return self.fixed(child, funcs, depth + 1)

        if isinstance(expr, ast.Constant):
            return isinstance(expr.value, (str, bytes))
        if isinstance(expr, ast.JoinedStr):
            return all(again(part.value) for part in expr.values if isinstance(part, ast.FormattedValue))
        if isinstance(expr, ast.BinOp) and isinstance(expr.op, (ast.Div, ast.Add, ast.Mod)):
            return again(expr.left) and again(expr.right)
        if isinstance(expr, ast.Name):
            return self._name(expr.id, funcs, depth)
        if isinstance(expr, ast.Attribute):
            if expr.attr in ("parent", "name", "stem", "suffix", "parents"):
                return again(expr.value)
            if _words_say_config(expr):
                return True
            symbol = self._project_symbol(expr)
            if symbol is not None:
                module, value = symbol
                return FixedPaths(module).fixed(value, (), depth + 1)
            return False
        if isinstance(expr, ast.Subscript):
            # ``os.environ["DATA_DIR"]``, ``PATHS["templates"]``, ``settings.paths[0]``
            if isinstance(expr.value, ast.Attribute) and expr.value.attr == "environ":
                return True
            return again(expr.value) and (not isinstance(expr.slice, ast.expr) or again(expr.slice) or
                                          isinstance(expr.slice, ast.Constant))
        if isinstance(expr, ast.Call):
            return self._call(expr, funcs, depth)
        return False

    def _name(self, name: str, funcs: tuple[FunctionNode, ...], depth: int) -> bool:
        names = self.names
        if name == "__file__":
            return True
        for index, func in enumerate(funcs):
            scope: Scope = names.scope(func)
            if name in scope.params or name in scope.unknown:
                return False  # a parameter: what a caller (a request) passes
            if name in scope.values:
                return self.fixed(scope.values[name], funcs[index:], depth + 1)
        if name in names.bindings and name not in names.imports:
            return self.fixed(names.bindings[name], (), depth + 1)
        if _says_config(name):
            return True  # an imported settings object or constant
        if name in names.imports and names.resolver is not None:
            symbol = names.resolver.symbol(names.imports[name])
            if symbol is not None and isinstance(symbol.node, ast.expr):
                return FixedPaths(symbol.module.names).fixed(symbol.node, (), depth + 1)
        return False

    def _project_symbol(self, expr: ast.Attribute) -> tuple[Names, ast.expr] | None:
        """``constants.app_env_filepath``: the value a project module binds to the name."""
        symbol = self.names.project_symbol(expr)
        if symbol is None or not isinstance(symbol.node, ast.expr):
            return None
        return symbol.module.names, symbol.node

    def _call(self, call: ast.Call, funcs: tuple[FunctionNode, ...], depth: int) -> bool:
        name = last_name(call.func)
        arguments = [*call.args, *(k.value for k in call.keywords)]
        if name in ENVIRONMENT_READS or (name is not None and _says_config(name)):
            return all(self.fixed(a, funcs, depth + 1) for a in arguments)
        if name in PATH_BUILDERS:
            receiver_fixed = not isinstance(call.func, ast.Attribute) or self._receiver(call.func.value, funcs, depth)
            return receiver_fixed and all(self.fixed(a, funcs, depth + 1) for a in arguments)
        if name == "get" and isinstance(call.func, ast.Attribute) and isinstance(call.func.value, ast.Attribute) \
                and call.func.value.attr == "environ":
            return True
        # A project helper: fixed when what it returns is, given only fixed arguments.
        if not all(self.fixed(a, funcs, depth + 1) for a in arguments):
            return False
        scope = self.names.scope(funcs[0]) if funcs else None
        found = self.names.resolve_function(call.func, scope)
        if found is None:
            return False
        module, helper = found
        if helper.args.args and not call.args and not call.keywords and not all(
            d is not None for d in helper.args.defaults
        ):
            return False
        returns = [n.value for n in ast.walk(helper) if isinstance(n, ast.Return) and n.value is not None]
        judge = FixedPaths(module)
        return bool(returns) and all(judge.fixed(value, (helper,), depth + 1) for value in returns)

    def _receiver(self, receiver: ast.expr, funcs: tuple[FunctionNode, ...], depth: int) -> bool:
        """The object a path method is called on: a module (``os.path.join``) or a fixed path."""
        if isinstance(receiver, ast.Name) and receiver.id in self.names.imports:
            qualified = self.names.imports[receiver.id]
            if qualified.split(".")[0] in ("os", "pathlib", "posixpath", "ntpath", "tempfile"):
                return True
        if isinstance(receiver, ast.Attribute) and self.names.qualify(receiver) in ("os.path",):
            return True
        return self.fixed(receiver, funcs, depth + 1)


# ``os.open`` flags that write to the file or make it.
_WRITE_FLAGS = frozenset({"O_WRONLY", "O_RDWR", "O_CREAT", "O_TRUNC", "O_APPEND", "O_EXCL", "O_TMPFILE"})


def read_only_open(call: ast.Call, what: str) -> bool:
    """Whether a blocking file call (``open``, ``Path.read_text``...) only reads."""
    if what.endswith(("read_text", "read_bytes")):
        return True
    if not what.endswith("open"):
        return False
    if what == "os.open":
        # ``os.open(path, os.O_RDONLY | os.O_NOFOLLOW)``: a read unless a flag asks to write or create.
        flags = call.args[1] if len(call.args) > 1 else next((k.value for k in call.keywords if k.arg == "flags"), None)
        return flags is not None and not spells_any(flags, _WRITE_FLAGS)
    mode_position = 1 if what in ("open", "builtins.open", "io.open") else 0
    mode = next((k.value for k in call.keywords if k.arg == "mode"), None)
    if mode is None and len(call.args) > mode_position:
        mode = call.args[mode_position]
    if mode is None:
        return True
    return isinstance(mode, ast.Constant) and isinstance(mode.value, str) and mode.value in READ_MODES


def opened_path(call: ast.Call, what: str) -> ast.expr | None:
    """The path a blocking file call reads: ``open(p)``'s argument, ``p.read_text()``'s receiver."""
    if what in ("open", "builtins.open", "io.open", "os.open"):
        if call.args:
            return call.args[0]
        return next((k.value for k in call.keywords if k.arg in ("file", "path")), None)
    if isinstance(call.func, ast.Attribute):
        return call.func.value
    return None


# Pseudo-filesystems whose files the kernel makes up from memory when they are read or written.
KERNEL_FILE_ROOTS = ("/proc/", "/sys/")


def kernel_file(path: ast.expr | None) -> bool:
    """Whether ``path`` is written as a file of a kernel pseudo-filesystem (``"/proc/meminfo"``,
    ``f"/proc/{pid}/stat"``, ``"/sys/fs/cgroup/" + name``): opening one does no disk or network I/O."""
    text = _spelled(path)
    if text is None or _THROUGH_TO_DISK.match(text):
        return False  # ``/proc/{pid}/cwd/uploads/x``: a process's view of the real filesystem
    return text.startswith(KERNEL_FILE_ROOTS) or f"{text}/" in KERNEL_FILE_ROOTS


# Links under /proc/<pid>/ that lead back into the real filesystem.
_THROUGH_TO_DISK = re.compile(r"/proc/[^/]+/(?:root|cwd|fd|map_files)(?:/|$)")


def _spelled(path: ast.expr | None, depth: int = 0) -> str | None:
    """The text of a path as written, ``*`` for each part computed at run time (``f"/proc/{pid}/stat"``
    -> ``/proc/*/stat``); None when its start is not written out."""
    if path is None or depth > MAX_DEPTH:
        return None
    if isinstance(path, ast.Constant):
        return path.value if isinstance(path.value, str) else None
    if isinstance(path, ast.JoinedStr):
        parts = [v.value if isinstance(v, ast.Constant) and isinstance(v.value, str) else "*" for v in path.values]
        return "".join(parts) if parts and parts[0] != "*" else None
    if isinstance(path, ast.BinOp) and isinstance(path.op, (ast.Add, ast.Mod, ast.Div)):
        left = _spelled(path.left, depth + 1)
        if left is None:
            return None
        right = _spelled(path.right, depth + 1) or "*"
        return f"{left}/{right}" if isinstance(path.op, ast.Div) else f"{left}{right}"
    if isinstance(path, ast.Call) and last_name(path.func) in ("Path", "PurePath", "PosixPath", "join") and path.args:
        # ``Path("/proc/self/status")``, ``os.path.join("/proc", pid, "stat")``
        first = _spelled(path.args[0], depth + 1)
        if first is None:
            return None
        rest = [_spelled(a, depth + 1) or "*" for a in path.args[1:]]
        return "/".join([first, *rest])
    return None


__all__ = ["FixedPaths", "kernel_file", "opened_path", "read_only_open"]
