"""runtime_guard.frames: user code vs library code, and where handlers are defined."""

from __future__ import annotations

import copy
import functools
import json
import os
import sys
from pathlib import Path
from typing import Any

import fastapi
import pytest

import flake8_fastapi_antipatterns.diagnostics
import runtime_guard.frames
from runtime_guard.frames import (
    FrameInfo,
    endpoint_codes,
    endpoint_location,
    innermost_user_frame,
    is_user_file,
    user_frame_from_traceback,
)

HERE = os.path.abspath(__file__)
REPO = Path(HERE).parents[2]


def line_of(marker: str) -> int:
    """The line of this file carrying ``# <marker>`` (keeps expectations next to the code)."""
    for number, text in enumerate(Path(HERE).read_text().splitlines(), 1):
        if text.rstrip().endswith(f"# {marker}"):
            return number
    raise AssertionError(f"marker {marker!r} not found")


# -- is_user_file --------------------------------------------------------------


def test_this_test_file_is_user_code() -> None:
    assert is_user_file(HERE)


def test_project_tests_and_examples_are_user_code() -> None:
    assert is_user_file(str(REPO / "tests" / "runtime" / "anything.py"))
    assert is_user_file(str(REPO / "examples" / "app.py"))


@pytest.mark.parametrize(
    "path",
    [
        os.__file__,  # stdlib
        json.__file__,
        fastapi.__file__,  # installed package
        runtime_guard.frames.__file__,  # the guard itself
        flake8_fastapi_antipatterns.diagnostics.__file__,
        "/opt/app/venv/lib/python3.12/site-packages/somelib/mod.py",
        "/usr/lib/python3/dist-packages/somelib/mod.py",
        "<frozen importlib._bootstrap>",
        "<string>",
        "<stdin>",
        "",
    ],
)
def test_library_and_pseudo_files_are_not_user_code(path: str) -> None:
    assert path is not None
    assert not is_user_file(path)


def test_is_user_file_is_cached() -> None:
    is_user_file(HERE)
    before = is_user_file.cache_info().hits
    is_user_file(HERE)
    assert is_user_file.cache_info().hits == before + 1


# -- innermost_user_frame --------------------------------------------------------


class _CapturesLibraryFrame:
    """``copy.deepcopy`` (pure-Python stdlib) calls back into this user method."""

    library_file = ""
    found: FrameInfo | None = None

    def __deepcopy__(self, memo: dict[int, Any]) -> _CapturesLibraryFrame:
        library_frame = sys._getframe().f_back  # copy.deepcopy's own frame
        assert library_frame is not None
        # Read while the stack is live: a frame's line moves on once it resumes.
        _CapturesLibraryFrame.library_file = library_frame.f_code.co_filename
        _CapturesLibraryFrame.found = innermost_user_frame(library_frame)
        return self


def test_innermost_user_frame_skips_library_frames() -> None:
    copy.deepcopy(_CapturesLibraryFrame())  # marker: deepcopy-call
    assert not is_user_file(_CapturesLibraryFrame.library_file)
    assert _CapturesLibraryFrame.found == FrameInfo(
        HERE, line_of("marker: deepcopy-call"), "test_innermost_user_frame_skips_library_frames"
    )


def test_innermost_user_frame_of_a_user_frame_is_itself() -> None:
    found = innermost_user_frame(sys._getframe())  # marker: self-frame
    assert found is not None
    assert (found.filename, found.line) == (HERE, line_of("marker: self-frame"))


def test_innermost_user_frame_of_none_is_none() -> None:
    assert innermost_user_frame(None) is None


# -- user_frame_from_traceback ---------------------------------------------------


def _raise_here() -> None:
    raise ValueError("boom")  # marker: raise-site


def test_traceback_points_at_the_user_raise_site() -> None:
    try:
        _raise_here()
    except ValueError as exc:
        found = user_frame_from_traceback(exc.__traceback__)
    assert found == FrameInfo(HERE, line_of("marker: raise-site"), "_raise_here")


def test_traceback_raised_inside_a_library_points_at_the_user_call() -> None:
    try:
        json.loads("{not json")  # marker: library-raise
    except ValueError as exc:
        found = user_frame_from_traceback(exc.__traceback__)
    assert found is not None
    assert (found.filename, found.line) == (HERE, line_of("marker: library-raise"))


def test_traceback_of_none_is_none() -> None:
    assert user_frame_from_traceback(None) is None


# -- endpoint_location -----------------------------------------------------------


def plain_handler() -> None:  # marker: plain-def
    pass


async def async_handler() -> None:  # marker: async-def
    pass


def _logged(func: Any) -> Any:
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return func(*args, **kwargs)

    return wrapper


def _tagged(*tags: str) -> Any:
    def decorate(func: Any) -> Any:
        return func

    return decorate


@_tagged(
    "several",
    "lines",
)
@_logged
async def decorated_handler() -> None:  # marker: decorated-def
    pass


class Controller:
    def list_items(self) -> None:  # marker: method-def
        pass


class CallableEndpoint:
    async def __call__(self) -> None:  # marker: call-def
        pass


class ClassEndpoint:  # marker: class-def
    async def get(self) -> None:
        pass


def test_endpoint_location_of_a_function_is_its_def_line() -> None:
    assert endpoint_location(plain_handler) == FrameInfo(HERE, line_of("marker: plain-def"), "plain_handler")
    assert endpoint_location(async_handler) == FrameInfo(HERE, line_of("marker: async-def"), "async_handler")


def test_endpoint_location_of_a_decorated_function_is_the_def_not_the_decorator() -> None:
    found = endpoint_location(decorated_handler)
    assert found == FrameInfo(HERE, line_of("marker: decorated-def"), "decorated_handler")


def test_endpoint_location_unwraps_partials_and_bound_methods() -> None:
    assert endpoint_location(functools.partial(plain_handler)) == endpoint_location(plain_handler)
    found = endpoint_location(Controller().list_items)
    assert found == FrameInfo(HERE, line_of("marker: method-def"), "list_items")


def test_endpoint_location_of_a_callable_instance_is_its_call_method() -> None:
    found = endpoint_location(CallableEndpoint())
    assert found == FrameInfo(HERE, line_of("marker: call-def"), "__call__")


def test_endpoint_location_of_a_class_endpoint_is_the_class_line() -> None:
    found = endpoint_location(ClassEndpoint)
    assert found == FrameInfo(HERE, line_of("marker: class-def"), "ClassEndpoint")


def test_endpoint_location_of_a_lambda_is_its_line() -> None:
    handler = lambda: None  # noqa: E731 # marker: lambda
    found = endpoint_location(handler)
    assert found is not None and found.line == line_of("marker: lambda")


def test_endpoint_location_without_source_is_none() -> None:
    assert endpoint_location(len) is None
    assert endpoint_location(object()) is None


def test_endpoint_codes_cover_what_runs() -> None:
    assert endpoint_codes(decorated_handler) == (decorated_handler.__wrapped__.__code__,)
    assert endpoint_codes(CallableEndpoint()) == (CallableEndpoint.__call__.__code__,)
    assert ClassEndpoint.get.__code__ in endpoint_codes(ClassEndpoint)
    assert endpoint_codes(len) == ()
