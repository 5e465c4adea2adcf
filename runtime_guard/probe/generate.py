"""Valid requests for an operation, drawn with hypothesis from its parameters and body schema.

Drawing happens before the app starts (and before the guard's watchdog
runs): hypothesis is CPU work on the event loop's thread, and the watchdog
must only ever see the app's own stalls.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import quote

from hypothesis import strategies as st

from runtime_guard.probe.forms import FilePart, FormValue, form_fields, form_strategy
from runtime_guard.probe.plan import Body, Operation
from runtime_guard.probe.reproducible import draw
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
    files: list[FilePart] | None = None
    """Multipart file parts: (field, (filename, content, content type))."""
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
        if body.is_form:
            drawn = form_strategy(form_fields(body.schema, strategies.resolver), strategies, _text)
        else:
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
    if isinstance(value, FormValue):
        form: dict[str, list[str]] = {}
        for name, text in value.fields:
            form.setdefault(name, []).append(text)
        return replace(request, form=form, files=value.files or None, body_value=value.as_dict())
    return request


def requests_for(operation: Operation, resolver: Resolver, count: int, *, random_seed: int = 0) -> list[ProbeRequest]:
    """``count`` distinct valid requests for ``operation`` (fewer when its inputs allow fewer)."""
    strategy = request_strategy(operation, Strategies(resolver))
    unique: dict[tuple[Any, ...], ProbeRequest] = {}
    for request in draw(strategy, count, random_seed=random_seed):
        key = (request.path, tuple(request.query), tuple(request.headers), request.content, repr(request.form), repr(request.files))
        unique.setdefault(key, request)
    return list(unique.values())
