"""Drawing with hypothesis so that one seed gives the same requests anywhere.

Left to itself, hypothesis lets the environment into the values it draws:

* an example database (off: ``database=None``);
* constants mined from the source of every "local" module loaded in the
  process (any file outside site-packages and the standard library, except
  under ``tests/``), mixed into a few percent of the draws.  Which modules
  count depends on where the project sits, on what is installed in
  development mode, and on every literal in them, so the same seed sent
  different requests from two checkouts, or after an unrelated edit;
* a cache directory under the working directory (moved to the temporary
  directory unless the user chose one).

The constants are switched off for the duration of a draw, and only then:
a test suite of the user's that imports the probe keeps hypothesis as it was.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st


def _no_constant(*args: Any, **kwargs: Any) -> None:
    return None


@contextlib.contextmanager
def _without_source_constants() -> Iterator[None]:
    """Hypothesis's provider draws no mined constants (hypothesis 6.131+ has them; older ones do not)."""
    try:
        from hypothesis.internal.conjecture import providers
    except ImportError:  # pragma: no cover - a hypothesis without the module has no constants either
        yield
        return
    provider = getattr(providers, "HypothesisProvider", None)
    original = vars(provider).get("_maybe_draw_constant") if provider is not None else None
    if provider is None or original is None:
        yield
        return
    provider._maybe_draw_constant = _no_constant
    try:
        yield
    finally:
        provider._maybe_draw_constant = original


@contextlib.contextmanager
def _private_storage() -> Iterator[None]:
    """Keep hypothesis's caches out of the user's working directory (unless they chose a place)."""
    from hypothesis import configuration

    chosen = os.environ.get("HYPOTHESIS_STORAGE_DIRECTORY") or vars(configuration).get("__hypothesis_home_directory")
    setter = getattr(configuration, "set_hypothesis_home_dir", None)
    if chosen is not None or setter is None:
        yield
        return
    setter(Path(tempfile.gettempdir()) / "runtime-guard-hypothesis")
    try:
        yield
    finally:
        setter(None)


def draw(strategy: st.SearchStrategy[Any], count: int, *, random_seed: int = 0) -> list[Any]:
    """Up to ``count`` values of ``strategy``, the same for one seed in any folder (simplest first)."""
    found: list[Any] = []
    if count <= 0:
        return found

    @seed(random_seed)
    @settings(
        max_examples=count,
        database=None,
        deadline=None,
        derandomize=False,  # with derandomize the seed would come from this function, not from `random_seed`
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )
    @given(strategy)
    def collect(value: Any) -> None:
        if len(found) < count:
            found.append(value)

    with _private_storage(), _without_source_constants():
        collect()
    return found
