"""Import the app to probe from ``module:attribute`` (or ``module:factory()``), as uvicorn does."""

from __future__ import annotations

import importlib
import os
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from runtime_guard.detectors.location import app_location
from runtime_guard.frames import FrameInfo, endpoint_location, is_user_file


class AppLoadError(Exception):
    """The app could not be loaded; the message says what to fix."""


@dataclass
class LoadedApp:
    app: Callable[..., Any]
    site: FrameInfo | None
    """Where app-level findings point: the ``app = FastAPI(...)`` line, or the factory's ``def``."""


def load_app(target: str, *, app_dir: str = ".", factory: bool = False) -> LoadedApp:
    module_name, sep, attribute = target.partition(":")
    if not sep or not module_name or not attribute:
        raise AppLoadError(f"APP must look like `module:attribute` (e.g. `main:app`), not {target!r}")
    if attribute.endswith("()"):
        attribute, factory = attribute[:-2], True
    directory = os.path.abspath(app_dir)
    if directory not in sys.path:
        sys.path.insert(0, directory)
    module = _import(module_name)
    obj: Any = module
    for part in attribute.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise AppLoadError(f"module {module_name!r} has no attribute {attribute!r}") from None
    site: FrameInfo | None = None
    if factory:
        if not callable(obj):
            raise AppLoadError(f"{target} is not callable, so it cannot be an app factory")
        site = endpoint_location(obj)
        try:
            obj = obj()
        except Exception as exc:
            raise AppLoadError(f"the app factory {module_name}:{attribute}() raised {_describe(exc)}") from None
    if not callable(obj):
        raise AppLoadError(f"{module_name}:{attribute} is not an ASGI application (it is a {type(obj).__name__})")
    return LoadedApp(obj, app_location(obj) or site)


def _import(name: str) -> Any:
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and (name == exc.name or name.startswith(exc.name + ".")):
            raise AppLoadError(
                f"cannot import module {name!r}: {exc} (is it on the path? --app-dir adds a directory, default '.')"
            ) from None
        raise AppLoadError(f"importing {name!r} failed: {_describe(exc)}") from None
    except Exception as exc:
        raise AppLoadError(f"importing {name!r} failed: {_describe(exc)}") from None


def _describe(exc: BaseException) -> str:
    """``Type: message``, and the user's line it came from when there is one."""
    text = f"{type(exc).__name__}: {exc}"
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if is_user_file(f.filename)]
    if frames:
        text += f" (at {frames[-1].filename}:{frames[-1].lineno})"
    return text
