"""User-tunable settings of the static rules, and their flake8 option specs.

The specs are plain data so that this module does not import flake8; the
plugin registers them with flake8's option manager (command line and
``[flake8]`` in setup.cfg / tox.ini / .flake8).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields

DEFAULT_HEALTH_PATHS: tuple[str, ...] = ("/health", "/healthz", "/ready", "/readyz", "/live", "/livez", "/ping")


# Settings that say where findings are kept, not what they are.
_STORAGE_FIELDS = frozenset({"cache", "cache_dir"})


@dataclass(frozen=True)
class Settings:
    """Every field is a tuple of names; the empty tuple means "built-in defaults only"."""

    health_paths: tuple[str, ...] = DEFAULT_HEALTH_PATHS
    blocking_calls: tuple[str, ...] = ()
    db_modules: tuple[str, ...] = ()
    llm_calls: tuple[str, ...] = ()
    rate_limit_names: tuple[str, ...] = ()
    breaker_names: tuple[str, ...] = ()
    scope: tuple[str, ...] = ()
    """``("all",)`` judges every function; empty (the default) or ``("serving",)`` only what an app reaches."""

    fixed_file_reads: tuple[str, ...] = ()
    """``("yes",)`` reports reads of small files at fixed paths as FAA102 too."""

    operator_routes: tuple[str, ...] = ()
    """``("judge",)`` judges routes only an administrator can call like any other; empty (the
    default) or ``("quiet",)`` leaves out what only matters at a public route's rate or audience."""

    cache: tuple[str, ...] = ()
    """``("off",)`` works every file out afresh; empty (the default) keeps findings between runs."""

    cache_dir: tuple[str, ...] = ()
    """Where findings are kept between runs; empty (the default) is ``.faa_cache`` in the working directory."""

    @property
    def cache_enabled(self) -> bool:
        return self.cache != ("off",)

    def analysis_key(self) -> str:
        """The settings that change findings, as text: findings kept between runs are keyed by it."""
        return repr([(f.name, getattr(self, f.name)) for f in fields(self) if f.name not in _STORAGE_FIELDS])

    @property
    def quiet_operator_routes(self) -> bool:
        return self.operator_routes != ("judge",)

    @property
    def serving_scope(self) -> bool:
        return self.scope != ("all",)


@dataclass(frozen=True)
class OptionSpec:
    field: str
    flag: str
    help: str


OPTION_SPECS: tuple[OptionSpec, ...] = (
    OptionSpec(
        "health_paths",
        "--faa-health-paths",
        "FAA401: comma-separated route paths that count as health/readiness checks "
        f"(default: {','.join(DEFAULT_HEALTH_PATHS)}).",
    ),
    OptionSpec(
        "blocking_calls",
        "--faa-blocking-calls",
        "FAA102: extra dotted names of blocking calls (e.g. mylib.fetch_sync,boto3.client).",
    ),
    OptionSpec(
        "db_modules",
        "--faa-db-modules",
        "FAA101: extra modules whose calls are synchronous database I/O (e.g. cx_Oracle,ibm_db).",
    ),
    OptionSpec(
        "llm_calls",
        "--faa-llm-calls",
        "FAA103: extra dotted names or method names of LLM/agent calls (e.g. myagents.run,.kickoff).",
    ),
    OptionSpec(
        "rate_limit_names",
        "--faa-rate-limit-names",
        "FAA305: extra names (modules, classes, functions) that count as a rate limiter.",
    ),
    OptionSpec(
        "breaker_names",
        "--faa-breaker-names",
        "FAA205: extra names (decorators, context managers, wrappers) that count as a circuit breaker.",
    ),
    OptionSpec(
        "fixed_file_reads",
        "--faa-fixed-file-reads",
        "FAA102: 'yes' also reports reads of small files at fixed paths (made only of constants, __file__, "
        "settings and the environment: a bundled template, a *_FILE secret); default 'no'.",
    ),
    OptionSpec(
        "operator_routes",
        "--faa-operator-routes",
        "FAA102, FAA204, FAA205, FAA303: 'quiet' (default) leaves alone routes only an administrator can "
        "call (a dependency named admin or superuser): their local file work, per-call HTTP clients, "
        "missing circuit breakers and error text shown to the operator; 'judge' reports them like any route.",
    ),
    OptionSpec(
        "scope",
        "--faa-scope",
        "FAA101, FAA102, FAA103, FAA204, FAA205, FAA303, FAA402: 'serving' (default) reports only code a "
        "running app reaches while serving requests (routes, dependencies, middleware, exception handlers, "
        "background work); 'all' reports every function, command-line programs and start-up code included.",
    ),
    OptionSpec(
        "cache",
        "--faa-cache",
        "'on' (default) keeps each file's findings between runs, keyed by the contents of the project's "
        "Python and deployment files, the settings, the interpreter and this plugin's version; a change to "
        "any of them works every file out again. 'off' never reads or writes the cache.",
    ),
    OptionSpec(
        "cache_dir",
        "--faa-cache-dir",
        "Where the findings are kept (default: .faa_cache in the working directory, which ignores itself in git).",
    ),
)
SCOPES = ("serving", "all")
OPERATOR_ROUTES = ("quiet", "judge")
SWITCH_VALUES = ("yes", "no", "true", "false", "1", "0")
CACHE_VALUES = ("on", "off", *SWITCH_VALUES)


def _clean(values: Iterable[str] | str | None) -> tuple[str, ...]:
    if values is None:
        return ()
    if isinstance(values, str):
        values = values.split(",")
    return tuple(v.strip() for v in values if v and v.strip())


def _single(cleaned: dict[str, tuple[str, ...]], field: str, allowed: tuple[str, ...], takes: str, *, fold: bool = False) -> str | None:
    """The one value given for ``field`` (lower-cased with ``fold``), None when none was; a ValueError
    naming the flag and what it takes when several were given or the value is not ``allowed``."""
    given = cleaned.get(field, ())
    if not given:
        return None
    value = given[0].lower() if fold else given[0]
    if len(given) != 1 or value not in allowed:
        flag = next(spec.flag for spec in OPTION_SPECS if spec.field == field)
        raise ValueError(f"{flag} takes {takes}, not {','.join(given)!r}")
    return value


def settings_from(values: dict[str, Iterable[str] | str | None]) -> Settings:
    """Settings from option values by field name; empty or missing keeps the default."""
    known = {f.name for f in fields(Settings)}
    cleaned = {name: _clean(value) for name, value in values.items() if name in known}
    _single(cleaned, "scope", SCOPES, f"one of {', '.join(SCOPES)}")
    _single(cleaned, "operator_routes", OPERATOR_ROUTES, f"one of {', '.join(OPERATOR_ROUTES)}")
    switch = _single(cleaned, "fixed_file_reads", SWITCH_VALUES, "yes or no", fold=True)
    if switch is not None:
        cleaned["fixed_file_reads"] = ("yes",) if switch in ("yes", "true", "1") else ()
    cache = _single(cleaned, "cache", CACHE_VALUES, "on or off", fold=True)
    if cache is not None:
        cleaned["cache"] = ("off",) if cache in ("off", "no", "false", "0") else ()
    if len(cleaned.get("cache_dir", ())) > 1:
        raise ValueError(f"--faa-cache-dir takes one directory, not {','.join(cleaned['cache_dir'])!r}")
    return Settings(**{name: value for name, value in cleaned.items() if value})
