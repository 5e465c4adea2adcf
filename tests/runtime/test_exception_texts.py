"""Which code the exception-text watch finds in a module's namespace (``detectors/exceptions.py``)."""

from __future__ import annotations

import functools
import pathlib
import sys
import types
from typing import Any

import pytest

from runtime_guard.detectors import exceptions
from runtime_guard.detectors.exceptions import _functions_of


class Touchy:
    """A lazy proxy, like a settings object or a request-bound local: asking it anything fails."""

    def __getattribute__(self, name: str) -> Any:
        raise RuntimeError(f"working outside of a context (asked for {name})")


def plain() -> None:
    pass


def decorator(func: Any) -> Any:
    @functools.wraps(func)
    def wrapper(*args: Any) -> Any:
        return func(*args)

    return wrapper


@decorator
def decorated() -> None:
    pass


class Service:
    def method(self) -> None:
        pass

    @staticmethod
    def static() -> None:
        pass

    @classmethod
    def build(cls) -> None:
        pass

    @property
    def value(self) -> int:
        return 1

    class Inner:
        def deep(self) -> None:
            pass


def names_of(codes: list[types.CodeType]) -> set[str]:
    return {code.co_name for code in codes}


def test_functions_methods_properties_and_wrapped_functions_are_found() -> None:
    found = names_of(_functions_of(dict(globals()), __name__))
    assert {"plain", "decorator", "wrapper", "decorated", "method", "static", "build", "value", "deep"} <= found


def test_a_proxy_that_fails_on_every_question_is_passed_over() -> None:
    namespace = {"settings": Touchy(), "plain": plain, "Service": Service}
    assert {"plain", "method"} <= names_of(_functions_of(namespace, __name__))


def test_classes_and_functions_imported_from_elsewhere_are_not_scanned_as_this_modules() -> None:
    # A class defined in another module (here: the standard library) is that module's to scan.
    found = names_of(_functions_of({"partial": functools.partial, "Service": Service}, __name__))
    assert "method" in found and "__new__" not in found


@pytest.mark.skipif(sys.version_info < (3, 12), reason="the watch uses sys.monitoring (3.12+)")
def test_each_module_is_scanned_once_while_the_watch_is_installed(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scanned: list[str] = []
    scan = exceptions._functions_of

    def counting(namespace: dict[str, Any], module: str, depth: int = 0) -> list[types.CodeType]:
        if depth == 0:
            scanned.append(module)
        return scan(namespace, module, depth)

    monkeypatch.setattr(exceptions, "_functions_of", counting)

    def new_module(name: str) -> types.ModuleType:
        module = types.ModuleType(name)
        module.__file__ = str(tmp_path / f"{name}.py")  # the app's own file, not a library's
        exec("def handler():\n    return 1\n", module.__dict__)
        sys.modules[name] = module
        return module

    assert exceptions.install()
    try:
        name = "scanned_once_app_module"
        new_module(name)
        exceptions.watch_new_modules()
        for _ in range(3):  # guards starting and stopping in turn, as a test suite's do
            assert exceptions.install()
            exceptions.uninstall()
            exceptions.watch_new_modules()
        assert scanned.count(name) == 1
        del sys.modules[name]
        exceptions.watch_new_modules()  # the name left sys.modules: forgotten
        new_module(name)  # imported afresh under the same name: a new module, scanned again
        exceptions.watch_new_modules()
        assert scanned.count(name) == 2
    finally:
        sys.modules.pop("scanned_once_app_module", None)
        exceptions.uninstall()
