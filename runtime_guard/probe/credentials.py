"""What the user hands the probe to get past authentication: headers, cookies, an httpx ``Auth``.

From the command line, ``--header 'Authorization: Bearer x'`` (repeatable);
from code, ``--client-factory module:function``: a function (plain or async)
called once after the app has started, with the app when it takes an
argument, that returns one of

* ``None``: it prepared the app itself (``app.dependency_overrides``);
* a mapping: headers;
* a :class:`ClientSetup`: headers, cookies and/or an httpx ``Auth``;
* a client (httpx, requests, Starlette's ``TestClient``): its headers,
  cookies and auth are copied, and it is closed.

What the user gives wins over what the probe generated: a generated header
parameter or cookie of the same name is replaced.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any

import httpx

_TOKEN = frozenset("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


class ClientSetupError(Exception):
    """A ``--header`` or ``--client-factory`` the probe cannot use; the message says what to fix."""


@dataclass
class ClientSetup:
    """Headers, cookies and an httpx ``Auth`` sent with every request of the probe."""

    headers: list[tuple[str, str]] = field(default_factory=list)
    cookies: dict[str, str] = field(default_factory=dict)
    auth: httpx.Auth | None = None

    def merged(self, other: ClientSetup) -> ClientSetup:
        """``other`` on top of this one (a later header of the same name replaces an earlier one)."""
        names = {name.lower() for name, _ in other.headers}
        headers = [(k, v) for k, v in self.headers if k.lower() not in names] + list(other.headers)
        return ClientSetup(headers, {**self.cookies, **other.cookies}, other.auth or self.auth)

    def apply(self, generated: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
        """The headers of one request: the generated ones, the user's replacing those of the same name."""
        mine = {name.lower() for name, _ in self.headers}
        cookies: dict[str, str] = {}
        headers: list[tuple[str, str]] = []
        for name, value in generated:
            if name.lower() == "cookie":
                cookies.update(_parse_cookies(value))
            elif name.lower() not in mine:
                headers.append((name, value))
        headers.extend(self.headers)
        cookies.update(self.cookies)
        if cookies and "cookie" not in mine:
            headers.append(("cookie", "; ".join(f"{name}={value}" for name, value in cookies.items())))
        return headers

    @property
    def described(self) -> str:
        parts = [f"header {name}" for name, _ in self.headers]
        parts += [f"cookie {name}" for name in self.cookies]
        if self.auth is not None:
            parts.append(f"auth {type(self.auth).__name__}")
        return ", ".join(parts)


def _parse_cookies(text: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for part in text.split(";"):
        name, sep, value = part.strip().partition("=")
        if sep and name:
            found[name] = value
    return found


def parse_header(text: str) -> tuple[str, str]:
    """``'Name: value'`` as a header (the name must be an HTTP token)."""
    name, sep, value = text.partition(":")
    name = name.strip()
    if not sep or not name or any(ch not in _TOKEN for ch in name):
        raise ClientSetupError(f"--header must look like 'Name: value' (e.g. 'Authorization: Bearer x'), not {text!r}")
    return name, value.strip()


def load_factory(target: str) -> Any:
    """The function named by ``module:function`` (the app directory is already on ``sys.path``)."""
    module_name, sep, attribute = target.partition(":")
    if not sep or not module_name or not attribute:
        raise ClientSetupError(f"--client-factory must look like `module:function`, not {target!r}")
    try:
        obj: Any = importlib.import_module(module_name)
    except Exception as exc:
        raise ClientSetupError(f"--client-factory: importing {module_name!r} failed: {type(exc).__name__}: {exc}") from None
    for part in attribute.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            raise ClientSetupError(f"--client-factory: {module_name!r} has no attribute {attribute!r}")
    if not callable(obj):
        raise ClientSetupError(f"--client-factory: {target} is not callable")
    return obj


def _takes_an_argument(factory: Any) -> bool:
    try:
        parameters = inspect.signature(factory).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(
        p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.VAR_POSITIONAL)
        for p in parameters
    )


async def call_factory(factory: Any, app: Any) -> ClientSetup:
    """Call the user's factory (with the app when it takes an argument) and read what it returned."""
    name = getattr(factory, "__qualname__", repr(factory))
    try:
        result = factory(app) if _takes_an_argument(factory) else factory()
        if inspect.isawaitable(result):
            result = await result
    except Exception as exc:
        raise ClientSetupError(f"the client factory {name} raised {type(exc).__name__}: {exc}") from None
    return await _setup_from(result, name)


async def _setup_from(result: Any, name: str) -> ClientSetup:
    if result is None:
        return ClientSetup()
    if isinstance(result, ClientSetup):
        return result
    if isinstance(result, Mapping):
        return ClientSetup(headers=[(str(k), str(v)) for k, v in result.items()])
    headers = getattr(result, "headers", None)
    cookies = getattr(result, "cookies", None)
    if headers is None and cookies is None:
        raise ClientSetupError(
            f"the client factory {name} returned a {type(result).__name__}; return None, a mapping of headers, "
            "a ClientSetup, or a client (httpx, requests, TestClient)"
        )
    setup = ClientSetup(
        headers=[(str(k), str(v)) for k, v in (headers.items() if headers is not None else ())],
        cookies=_cookie_values(cookies),
        auth=getattr(result, "auth", None) if isinstance(getattr(result, "auth", None), httpx.Auth) else None,
    )
    await _close(result)
    return setup


def _cookie_values(cookies: Any) -> dict[str, str]:
    if cookies is None:
        return {}
    if isinstance(cookies, SimpleCookie):
        return {name: morsel.value for name, morsel in cookies.items()}
    try:
        return {str(k): str(v) for k, v in dict(cookies).items()}
    except (TypeError, ValueError):
        return {}


async def _close(client: Any) -> None:
    closer = getattr(client, "aclose", None) or getattr(client, "close", None)
    if callable(closer):
        result = closer()
        if inspect.isawaitable(result):
            await result
