"""Valid requests for an operation, drawn with hypothesis from its parameters and body schema.

Drawing happens before the app starts (and before the guard's watchdog
runs): hypothesis is CPU work on the event loop's thread, and the watchdog
must only ever see the app's own stalls.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import quote

from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

from runtime_guard.probe.plan import Body, Operation
from runtime_guard.probe.schema import Resolver, Strategies

# What header and cookie values may hold (HTTP allows only visible ASCII without separators to be safe).
_TOKEN_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~")


@dataclass
class ProbeRequest:
    """One request the probe sends (already serialised: only strings and bytes)."""

    method: str
    template: str
    path: str
    query: list[tuple[str, str]] = field(default_factory=list)
    headers: list[tuple[str, str]] = field(default_factory=list)
    content: bytes | None = None
    form: dict[str, list[str]] | None = None
    files: dict[str, tuple[str, bytes]] | None = None
    body_value: Any = None
    """The JSON value of the body, kept for the body probes to derive bad bodies from."""
    has_json_body: bool = False
    note: str = ""
    """What this request is for, when it is not a plain valid request (shown in the summary)."""

    @property
    def label(self) -> str:
        return f"{self.method} {self.template}"

    def with_json(self, value: Any, *, note: str) -> ProbeRequest:
        return self.with_content(json.dumps(value).encode("utf-8"), "application/json", note=note, value=value)

    def with_content(self, content: bytes, content_type: str, *, note: str, value: Any = None) -> ProbeRequest:
        headers = [(k, v) for k, v in self.headers if k.lower() != "content-type"] + [("content-type", content_type)]
        return replace(
            self, content=content, headers=headers, form=None, files=None, body_value=value, has_json_body=True, note=note
        )


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value)) if abs(value) < 1e15 else repr(value)
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def _token(value: Any) -> str:
    text = "".join(ch for ch in _text(value) if ch in _TOKEN_SAFE)
    return text or "probe"


def request_strategy(operation: Operation, strategies: Strategies) -> st.SearchStrategy[ProbeRequest]:
    """Requests for ``operation`` whose parameters and body follow its schema."""
    path_parts = {p.name: strategies.path_value(p.schema) for p in operation.parameters if p.location == "path"}
    required: dict[str, st.SearchStrategy[Any]] = {}
    optional: dict[str, st.SearchStrategy[Any]] = {}
    for parameter in operation.parameters:
        if parameter.location == "path":
            continue
        target = required if parameter.required else optional
        target[f"{parameter.location}:{parameter.name}"] = strategies.value(parameter.schema)
    body = operation.body
    body_strategy: st.SearchStrategy[Any] = st.just(None)
    if body is not None:
        drawn = strategies.value(body.schema)
        body_strategy = drawn if body.required else st.one_of(st.none(), drawn)
    parts = st.fixed_dictionaries(
        {
            "path": st.fixed_dictionaries(path_parts),
            "params": st.fixed_dictionaries(required, optional=optional),
            "body": body_strategy,
        }
    )
    return parts.map(lambda drawn: _assemble(operation, drawn))


def _assemble(operation: Operation, drawn: Mapping[str, Any]) -> ProbeRequest:
    path = operation.path
    for name, value in drawn["path"].items():
        path = path.replace("{" + name + "}", quote(_text(value), safe=""))
    request = ProbeRequest(operation.method, operation.path, path)
    cookies: list[str] = []
    for key, value in drawn["params"].items():
        location, name = key.split(":", 1)
        if value is None:
            continue
        if location == "query":
            values = value if isinstance(value, list) else [value]
            request.query.extend((name, _text(item)) for item in values if item is not None)
        elif location == "header":
            request.headers.append((name, _token(value)))
        elif location == "cookie":
            cookies.append(f"{_token(name)}={_token(value)}")
    if cookies:
        request.headers.append(("cookie", "; ".join(cookies)))
    body = operation.body
    if body is not None and drawn["body"] is not None:
        request = _with_body(request, body, drawn["body"])
    return request


def _with_body(request: ProbeRequest, body: Body, value: Any) -> ProbeRequest:
    if body.is_json:
        return request.with_json(value, note="")
    form: dict[str, list[str]] = {}
    files: dict[str, tuple[str, bytes]] = {}
    if isinstance(value, Mapping):
        for name, item in value.items():
            if item is None:
                continue
            for one in item if isinstance(item, list) else [item]:
                if body.media_type == "multipart/form-data" and _looks_binary(body, name):
                    files[str(name)] = (f"{name}.bin", _text(one).encode("utf-8"))
                else:
                    form.setdefault(str(name), []).append(_text(one))
    return replace(request, form=form, files=files or None, body_value=value)


def _looks_binary(body: Body, name: str) -> bool:
    schema = body.schema if isinstance(body.schema, Mapping) else {}
    prop = (schema.get("properties") or {}).get(name) or {}
    return isinstance(prop, Mapping) and (prop.get("format") == "binary" or "contentMediaType" in prop)


@contextlib.contextmanager
def _private_hypothesis_storage() -> Iterator[None]:
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
    """Up to ``count`` values of ``strategy``, reproducible for one seed (simplest first)."""
    found: list[Any] = []
    if count <= 0:
        return found

    @seed(random_seed)
    @settings(
        max_examples=count,
        database=None,
        deadline=None,
        derandomize=False,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )
    @given(strategy)
    def collect(value: Any) -> None:
        if len(found) < count:
            found.append(value)

    with _private_hypothesis_storage():
        collect()
    return found


def requests_for(operation: Operation, resolver: Resolver, count: int, *, random_seed: int = 0) -> list[ProbeRequest]:
    """``count`` distinct valid requests for ``operation`` (fewer when its inputs allow fewer)."""
    strategy = request_strategy(operation, Strategies(resolver))
    unique: dict[tuple[Any, ...], ProbeRequest] = {}
    for request in draw(strategy, count, random_seed=random_seed):
        key = (request.path, tuple(request.query), tuple(request.headers), request.content, repr(request.form))
        unique.setdefault(key, request)
    return list(unique.values())
