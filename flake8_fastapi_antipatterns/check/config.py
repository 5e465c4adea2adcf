"""The settings of one ``faa check`` run: command line > ``[tool.faa]`` > ``[flake8]`` > defaults.

``[tool.faa]`` in ``pyproject.toml`` (the first one holding it, from the working directory
upwards) takes every key; the ``[flake8]`` section of ``setup.cfg`` / ``tox.ini`` / ``.flake8``
(found the way flake8 finds it) is read for the ``faa-*`` options only, so that a project keeps
one set of rule settings for both the flake8 plugin and ``faa check``. Keys of ``[tool.faa]`` are
spelled like ruff's, in kebab case, and the rule options drop flake8's ``faa-`` prefix
(``faa-scope`` in ``[flake8]`` is ``scope`` in ``[tool.faa]``).
"""

from __future__ import annotations

import configparser
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flake8_fastapi_antipatterns.check.dependencies import toml_module
from flake8_fastapi_antipatterns.check.selection import Selection, code_prefixes
from flake8_fastapi_antipatterns.options import OPTION_SPECS, Settings, settings_from

PYPROJECT = "pyproject.toml"
FLAKE8_FILES = ("setup.cfg", "tox.ini", ".flake8")
FLAKE8_SECTION = "flake8"

CODE_KEYS = ("select", "extend-select", "ignore", "extend-ignore")
LIST_KEYS = (*CODE_KEYS, "exclude", "extend-exclude")
PER_FILE_IGNORES = "per-file-ignores"
# [tool.faa] key -> Settings field, and [flake8] key -> Settings field.
TOOL_OPTION_KEYS = {spec.flag.removeprefix("--faa-"): spec.field for spec in OPTION_SPECS}
FLAKE8_OPTION_KEYS = {spec.flag.removeprefix("--"): spec.field for spec in OPTION_SPECS}
TOOL_KEYS = (*LIST_KEYS, PER_FILE_IGNORES, *TOOL_OPTION_KEYS)
LIST_SEPARATORS = re.compile(r"[,\s]+")


class ConfigError(ValueError):
    """A configuration that cannot be used; the message names the file, the key and what to write."""


@dataclass
class CommandLine:
    """What the command line set (None: not given)."""

    select: str | None = None
    extend_select: str | None = None
    ignore: str | None = None
    extend_ignore: str | None = None
    exclude: str | None = None
    extend_exclude: str | None = None
    options: dict[str, str] = field(default_factory=dict)
    """Rule options by ``Settings`` field."""


@dataclass(frozen=True)
class CheckConfig:
    root: Path
    """The directory that ``exclude`` and ``per-file-ignores`` patterns are relative to: that of the
    ``[tool.faa]`` file, else the working directory."""
    selection: Selection
    settings: Settings
    exclude: tuple[str, ...] | None
    """None: the default exclusions (discovery.DEFAULT_EXCLUDE)."""
    extend_exclude: tuple[str, ...] = ()
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    files: tuple[Path, ...] = ()
    """The configuration files read."""


@dataclass
class _Layer:
    """The values one source set, in [tool.faa] key spelling."""

    lists: dict[str, tuple[str, ...]] = field(default_factory=dict)
    per_file_ignores: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)
    options: dict[str, str] = field(default_factory=dict)


def _split(value: str) -> tuple[str, ...]:
    """flake8's reading of a list: commas and/or whitespace between the items."""
    return tuple(part for part in LIST_SEPARATORS.split(value) if part)


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return _split(value)
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return tuple(item.strip() for item in value if item.strip())
    raise ConfigError(f"{where} takes a list of strings (or one comma-separated string), not {value!r}")


def _codes(values: tuple[str, ...], where: str) -> tuple[str, ...]:
    try:
        return code_prefixes(values, where)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


def _list(key: str, values: tuple[str, ...], where: str) -> tuple[str, ...]:
    return _codes(values, where) if key in CODE_KEYS else values


def _check_option(field_name: str, value: str, where: str) -> None:
    try:
        settings_from({field_name: value})
    except ValueError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def _tool_layer(table: Mapping[str, Any], path: Path) -> _Layer:
    layer = _Layer()
    for key, value in table.items():
        where = f"{key} in [tool.faa] of {path}"
        if key in LIST_KEYS:
            layer.lists[key] = _list(key, _strings(value, where), where)
        elif key == PER_FILE_IGNORES:
            if not isinstance(value, dict):
                raise ConfigError(f'{where} takes a table of pattern = ["CODES"], e.g. "tests/*" = ["FAA101"]')
            layer.per_file_ignores = [
                (str(pattern), _codes(_strings(codes, f"{where} {pattern!r}"), f"{where} {pattern!r}"))
                for pattern, codes in value.items()
            ]
        elif key in TOOL_OPTION_KEYS:
            if isinstance(value, bool) and key == "fixed-file-reads":
                value = "yes" if value else "no"
            text = ",".join(_strings(value, where))
            _check_option(TOOL_OPTION_KEYS[key], text, where)
            layer.options[TOOL_OPTION_KEYS[key]] = text
        else:
            raise ConfigError(f"unknown key {key!r} in [tool.faa] of {path}; {_suggest(key)}")
    return layer


def _suggest(key: str) -> str:
    bare = key.removeprefix("faa-").replace("_", "-")
    if bare in TOOL_KEYS:
        return f"write {bare!r}"
    return "known keys: " + ", ".join(TOOL_KEYS)


def _flake8_layer(section: Mapping[str, str], path: Path) -> _Layer:
    layer = _Layer()
    for raw_key, value in section.items():
        key = raw_key.replace("_", "-")
        if not key.startswith("faa-"):
            continue  # flake8's own options and other plugins' are flake8's business
        if key not in FLAKE8_OPTION_KEYS:
            raise ConfigError(f"unknown option {raw_key!r} in [flake8] of {path}; known: {', '.join(FLAKE8_OPTION_KEYS)}")
        text = ",".join(_split(value))
        _check_option(FLAKE8_OPTION_KEYS[key], text, f"{raw_key} in [flake8] of {path}")
        layer.options[FLAKE8_OPTION_KEYS[key]] = text
    return layer


def _command_line_layer(cli: CommandLine) -> _Layer:
    layer = _Layer()
    for key in LIST_KEYS:
        value = getattr(cli, key.replace("-", "_"))
        if value is not None:
            layer.lists[key] = _list(key, _split(value), "--" + key)
    for field_name, value in cli.options.items():
        flag = next(spec.flag for spec in OPTION_SPECS if spec.field == field_name)
        _check_option(field_name, value, flag)
        layer.options[field_name] = value
    return layer


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        data: dict[str, Any] = toml_module().loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None
    except ValueError as exc:  # tomllib.TOMLDecodeError, UnicodeDecodeError
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None
    return data


def _tool_table(path: Path, *, required: bool) -> dict[str, Any] | None:
    if not required:
        try:
            if "faa" not in path.read_text(encoding="utf-8", errors="replace"):
                return None  # no need for a TOML parser (tomli on 3.10) to learn that
        except OSError:
            return None
    tool = _read_toml(path).get("tool", {})
    table = tool.get("faa") if isinstance(tool, dict) else None
    if table is None:
        if required:
            raise ConfigError(f"{path} has no [tool.faa] table")
        return None
    if not isinstance(table, dict):
        raise ConfigError(f"tool.faa in {path} must be a table")
    return table


def _flake8_section(path: Path, *, required: bool) -> dict[str, str] | None:
    parser = configparser.RawConfigParser()
    try:
        parser.read(path, encoding="utf-8")
    except (configparser.Error, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path} cannot be read as an INI file: {exc}") from None
    if not parser.has_section(FLAKE8_SECTION):
        if required:
            raise ConfigError(f"{path} has no [flake8] section")
        return None
    return dict(parser.items(FLAKE8_SECTION))


def _upwards(start: Path) -> list[Path]:
    start = start.resolve()
    return [start, *start.parents]


def find_tool_table(start: Path) -> tuple[Path, dict[str, Any]] | None:
    for directory in _upwards(start):
        candidate = directory / PYPROJECT
        if candidate.is_file():
            table = _tool_table(candidate, required=False)
            if table is not None:
                return candidate, table
    return None


def find_flake8_section(start: Path) -> tuple[Path, dict[str, str]] | None:
    for directory in _upwards(start):
        for name in FLAKE8_FILES:
            candidate = directory / name
            if candidate.is_file():
                section = _flake8_section(candidate, required=False)
                if section is not None:
                    return candidate, section
    return None


def load_config(cwd: Path, cli: CommandLine, *, config_file: Path | None = None, isolated: bool = False) -> CheckConfig:
    """The run's settings. ``config_file`` is then the only file read (a ``.toml`` file for its
    ``[tool.faa]``, any other for its ``[flake8]`` section); ``isolated`` reads no file."""
    layers: list[_Layer] = []  # lowest precedence first
    root = cwd
    files: list[Path] = []
    if config_file is not None and not isolated:
        if not config_file.is_file():
            raise ConfigError(f"--config {config_file}: no such file")
        if config_file.suffix == ".toml":
            table = _tool_table(config_file, required=True)
            assert table is not None
            layers.append(_tool_layer(table, config_file))
            root = config_file.resolve().parent
        else:
            section = _flake8_section(config_file, required=True)
            assert section is not None
            layers.append(_flake8_layer(section, config_file))
        files.append(config_file)
    elif not isolated:
        flake8 = find_flake8_section(cwd)
        if flake8 is not None:
            layers.append(_flake8_layer(flake8[1], flake8[0]))
            files.append(flake8[0])
        tool = find_tool_table(cwd)
        if tool is not None:
            layers.append(_tool_layer(tool[1], tool[0]))
            files.append(tool[0])
            root = tool[0].parent
    layers.append(_command_line_layer(cli))
    return _merge(layers, root, tuple(files))


def _merge(layers: list[_Layer], root: Path, files: tuple[Path, ...]) -> CheckConfig:
    # select/ignore/exclude: the highest layer that sets the key wins; the extend-* keys add up.
    chosen: dict[str, tuple[str, ...]] = {}
    extended: dict[str, list[str]] = {"extend-select": [], "extend-ignore": [], "extend-exclude": []}
    options: dict[str, str] = {}
    per_file: list[tuple[str, tuple[str, ...]]] = []
    for layer in layers:
        for key, values in layer.lists.items():
            if key in extended:
                extended[key].extend(values)
            else:
                chosen[key] = values
        options.update(layer.options)
        per_file.extend(layer.per_file_ignores)
    selection = Selection(
        select=chosen.get("select"),
        extend_select=tuple(extended["extend-select"]),
        ignore=chosen.get("ignore", ()),
        extend_ignore=tuple(extended["extend-ignore"]),
    )
    try:
        settings = settings_from(dict(options))
    except ValueError as exc:  # each layer's values were checked already; kept for safety
        raise ConfigError(str(exc)) from None
    return CheckConfig(
        root=root,
        selection=selection,
        settings=settings,
        exclude=chosen.get("exclude"),
        extend_exclude=tuple(extended["extend-exclude"]),
        per_file_ignores=tuple(per_file),
        files=files,
    )
