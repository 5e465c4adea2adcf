"""Which codes the probe reports, from the project's configuration files.

The probe's own table in ``pyproject.toml``::

    [tool.runtime-guard.probe]
    ignore = ["FAA305", "FAA401"]     # or "FAA305,FAA401"
    # select, extend-select, extend-ignore: as flake8's options of the same names

When no ``pyproject.toml`` has that table, the ``[flake8]`` section of
``setup.cfg``, ``tox.ini`` or ``.flake8`` is read instead (``select``,
``ignore``, ``extend-select``, ``extend-ignore``), so a project that already
tells flake8 which FAA codes it accepts tells the probe too.  Files are looked
for in the app's directory and then in each parent up to the repository root
(the first directory holding ``.git``); the first directory with a match wins.
Command-line ``--select``/``--ignore`` replace the file's ``select``/``ignore``.
"""

from __future__ import annotations

import configparser
import importlib
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PYPROJECT = "pyproject.toml"
TABLE = "[tool.runtime-guard.probe]"
FLAKE8_FILES = ("setup.cfg", "tox.ini", ".flake8")
KEYS = ("select", "ignore", "extend-select", "extend-ignore")
RUNTIME_PREFIX = "FAA"


class ConfigError(Exception):
    """A configuration file the probe cannot read; the message names it."""


@dataclass
class CodeChoice:
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    extend_select: tuple[str, ...] = ()
    extend_ignore: tuple[str, ...] = ()
    source: str | None = None
    """``pyproject.toml [tool.runtime-guard.probe]`` or ``setup.cfg [flake8]`` (with its path), None without a file."""
    notes: list[str] = field(default_factory=list)

    def resolved(self, cli_select: Iterable[str], cli_ignore: Iterable[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """(select, ignore) for ``code_filter``: the command line over the file, flake8's rules."""
        select = tuple(cli_select) or self.select
        ignore = tuple(cli_ignore) or self.ignore
        # extend-select widens an explicit select; with none, everything is selected already.
        return (select + self.extend_select if select else ()), ignore + self.extend_ignore


def _codes(value: Any, where: str, key: str) -> tuple[str, ...]:
    if isinstance(value, str):
        parts = re.split(r"[,\s]+", value)
    elif isinstance(value, list) and all(isinstance(item, str) for item in value):
        parts = list(value)
    else:
        raise ConfigError(f"{where}: `{key}` must be a list of codes or a comma-separated string")
    return tuple(part.strip().upper() for part in parts if part.strip() and not part.strip().startswith("#"))


def _load_toml(path: Path) -> dict[str, Any]:
    try:
        tomllib: Any = importlib.import_module("tomllib" if sys.version_info >= (3, 11) else "tomli")
    except ImportError:  # pragma: no cover - Python 3.10 without the probe extra
        raise ConfigError(f"{path}: reading pyproject.toml on Python 3.10 needs `pip install tomli`") from None
    try:
        with path.open("rb") as handle:
            loaded: dict[str, Any] = tomllib.load(handle)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path}: {exc}") from None
    return loaded


def _from_pyproject(path: Path) -> CodeChoice | None:
    table = _load_toml(path).get("tool", {}).get("runtime-guard", {}).get("probe")
    if table is None:
        return None
    where = f"{path} {TABLE}"
    if not isinstance(table, dict):
        raise ConfigError(f"{where} must be a table")
    choice = CodeChoice(source=where)
    for key, value in table.items():
        name = key.replace("_", "-")
        if name not in KEYS:
            choice.notes.append(f"{where}: unknown key `{key}` ignored (known: {', '.join(KEYS)})")
            continue
        setattr(choice, name.replace("-", "_"), _codes(value, where, key))
    return choice


def _from_flake8(path: Path) -> CodeChoice | None:
    parser = configparser.RawConfigParser()
    try:
        parser.read(path, encoding="utf-8")
    except (OSError, configparser.Error) as exc:
        raise ConfigError(f"{path}: {exc}") from None
    if not parser.has_section("flake8"):
        return None
    section = {key.replace("_", "-"): value for key, value in parser.items("flake8")}
    if not any(key in section for key in KEYS):
        return None
    where = f"{path} [flake8]"
    choice = CodeChoice(source=where)
    for key in KEYS:
        if key in section:
            setattr(choice, key.replace("-", "_"), _codes(section[key], where, key))
    if choice.select and not any(code.startswith(RUNTIME_PREFIX) or RUNTIME_PREFIX.startswith(code) for code in choice.select):
        # flake8's select names only other plugins' codes: taken literally it would hide every finding.
        choice.notes.append(f"{where}: `select` names no FAA code; the probe reports every code it selects otherwise")
        choice.select = ()
    return choice


def read_config(path: Path) -> CodeChoice:
    """``--config FILE``: its probe table (pyproject.toml) or its ``[flake8]`` section."""
    if not path.is_file():
        raise ConfigError(f"--config {path}: no such file")
    found = _from_pyproject(path) if path.suffix == ".toml" else _from_flake8(path)
    if found is None:
        wanted = TABLE if path.suffix == ".toml" else "[flake8] with select/ignore"
        raise ConfigError(f"--config {path}: no {wanted} in it")
    return found


def find_config(start: Path) -> CodeChoice:
    """The first directory from ``start`` upwards with a probe table or a ``[flake8]`` code list."""
    directory = start.resolve()
    while True:
        pyproject = directory / PYPROJECT
        if pyproject.is_file():
            found = _from_pyproject(pyproject)
            if found is not None:
                return found
        for name in FLAKE8_FILES:
            candidate = directory / name
            if candidate.is_file():
                found = _from_flake8(candidate)
                if found is not None:
                    return found
        if (directory / ".git").exists() or directory.parent == directory:
            return CodeChoice()
        directory = directory.parent
