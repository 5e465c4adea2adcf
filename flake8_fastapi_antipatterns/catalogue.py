"""The FAA rule catalogue: every code as data, with its documentation.

This module is the single source of the rule texts: the flake8 plugin's
messages, the generated docs pages (``docs/rules/``), ``--help`` and the
SARIF rule metadata all read from here.  It imports nothing outside the
standard library so that the runtime guard can use it in a staging app.

Codes are stable: never renumber, never reuse.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RuleDoc:
    """A rule's documentation, in the five-part shape every rule page uses."""

    what: str
    """What it does: one paragraph."""
    why: str
    """Why is this bad: one or two paragraphs."""
    example: str
    """Example: Python source that triggers the rule (no fences)."""
    instead: str
    """Use instead: the fixed version of ``example`` (no fences)."""
    options: str
    """Options: the flake8 options and runtime-guard parameters that tune it."""


@dataclass(frozen=True)
class Rule:
    code: str
    """``FAA101`` ..."""
    slug: str
    """kebab-case name used for docs file names and SARIF ``name``."""
    title: str
    seed: int
    """Section number in the seed document this rule comes from (0 for none)."""
    default_on: bool
    """False for opt-in codes, which go to flake8's default ignore list."""
    static: str
    """What the source shows (one line, from the catalogue contract)."""
    runtime: str | None
    """What the running app shows, or None when only static analysis reports it."""
    fix: str
    """One line saying what to write instead; ends every message of this code."""
    doc: RuleDoc


CATALOGUE: dict[str, Rule] = {}


def _add(rule: Rule) -> None:
    if rule.code in CATALOGUE:
        raise ValueError(f"duplicate rule code {rule.code}")
    CATALOGUE[rule.code] = rule


# -- rule entries ------------------------------------------------------------
# (filled in below; keep them in code order)


def get(code: str) -> Rule:
    """The rule for ``code``; raises KeyError with the known codes listed."""
    try:
        return CATALOGUE[code]
    except KeyError:
        raise KeyError(f"unknown FAA code {code!r}; known: {', '.join(CATALOGUE)}") from None


def opt_in_codes() -> list[str]:
    """Codes that are off unless selected (flake8's default ignore list)."""
    return [code for code, rule in CATALOGUE.items() if not rule.default_on]
