"""Test-wide settings."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from flake8_fastapi_antipatterns import result_cache


@pytest.fixture(autouse=True)
def _no_findings_kept_in_process() -> Iterator[None]:
    """In this process, findings are always worked out: a test that patches the analysis must not
    keep (or read) what it found. Runs of flake8 in a subprocess use the cache as users do."""
    saved = result_cache.ENABLED
    result_cache.ENABLED = False
    yield
    result_cache.ENABLED = saved
