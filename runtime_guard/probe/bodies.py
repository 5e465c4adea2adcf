"""Bad bodies for the FAA302 probe: oversized ones and malformed ones, derived from a valid request.

A route that validates its body answers these with 4xx (422, 413, 400).
Accepting one (2xx) means the body reached the handler unchecked.

* oversized: each declared string field (up to a few) one character past its
  ``maxLength``, or ``oversized_bytes`` long when it declares no bound (the
  valid value repeated, so a ``pattern`` still matches and only the size is
  wrong); a free-form object (``dict``, ``Any``) padded to ``oversized_bytes``;
* malformed: JSON that breaks the declared schema (a value of the wrong type
  that no lax coercion turns into the right one), and text that is not JSON.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from typing import Any

from runtime_guard.probe.generate import ProbeRequest
from runtime_guard.probe.plan import Operation
from runtime_guard.probe.schema import Resolver, is_free_form_object, merge_all_of, types_of

MAX_FIELDS = 4
PADDING_KEY = "runtime_guard_probe_padding"
NOT_JSON = b'{"runtime_guard_probe": '
# Values no lax validator coerces into a scalar, a list or a model of another shape.
WRONG_OBJECT: dict[str, Any] = {"runtime_guard_probe": [1, 2, 3]}
WRONG_ARRAY: list[Any] = [{"runtime_guard_probe": None}]


def bad_bodies(operation: Operation, valid: ProbeRequest, resolver: Resolver, oversized_bytes: int) -> Iterator[ProbeRequest]:
    """The bad variants of ``valid`` worth sending to ``operation``, most telling first."""
    body = operation.body
    if body is None:
        if operation.may_read_body:
            yield valid.with_json({PADDING_KEY: "x" * oversized_bytes}, note=f"an oversized body ({_size(oversized_bytes)})")
            yield valid.with_content(NOT_JSON, "application/json", note="a malformed body (not JSON)")
        return
    if not body.is_json:
        return  # forms: nothing but the field sizes could be wrong, and those are checked like JSON fields below
    value = valid.body_value
    if is_free_form_object(body.schema, resolver):
        yield valid.with_json(
            {**(value if isinstance(value, dict) else {}), PADDING_KEY: "x" * oversized_bytes},
            note=f"an oversized body ({_size(oversized_bytes)} in a free-form object)",
        )
    for where, length in _string_fields(body.schema, value, resolver, oversized_bytes):
        grown = _set(value, where, _grow(_get(value, where), length))
        label = ".".join(str(part) for part in where) or "the body"
        yield valid.with_json(grown, note=f"an oversized body ({_size(length)} in `{label}`)")
    wrong = _wrong_value(body.schema, value, resolver)
    if wrong is not None:
        where, bad = wrong
        label = ".".join(str(part) for part in where) or "the body"
        yield valid.with_json(_set(value, where, bad), note=f"a malformed body (`{label}` of the wrong type)")
    yield valid.with_content(NOT_JSON, "application/json", note="a malformed body (not JSON)")


def _size(length: int) -> str:
    return f"{length / 1048576:g} MiB" if length >= 1048576 else f"{length} characters"


def _grow(current: Any, length: int) -> str:
    seed = current if isinstance(current, str) and current else "x"
    return (seed * (length // len(seed) + 1))[:length]


def _string_fields(schema: Any, value: Any, resolver: Resolver, oversized: int) -> Iterator[tuple[tuple[Any, ...], int]]:
    """(path, length to send) for string fields present in ``value``, at most MAX_FIELDS."""
    found = 0
    for path, declared in _walk_strings(schema, value, resolver, (), 0):
        yield path, (declared + 1 if declared is not None else oversized)
        found += 1
        if found >= MAX_FIELDS:
            return


def _walk_strings(
    schema: Any, value: Any, resolver: Resolver, where: tuple[Any, ...], depth: int
) -> Iterator[tuple[tuple[Any, ...], int | None]]:
    schema = _single(resolver.resolve(schema), value, resolver)
    if not isinstance(schema, Mapping) or depth > 6:
        return
    if isinstance(value, str) and "enum" not in schema and "const" not in schema and schema.get("format") is None:
        limit = schema.get("maxLength")
        yield where, int(limit) if isinstance(limit, int) else None
    elif isinstance(value, dict):
        properties = schema.get("properties") or {}
        for name, sub in properties.items():
            if name in value:
                yield from _walk_strings(sub, value[name], resolver, (*where, name), depth + 1)
    elif isinstance(value, list) and value:
        yield from _walk_strings(schema.get("items", {}), value[0], resolver, (*where, 0), depth + 1)


def _single(schema: Any, value: Any, resolver: Resolver) -> Any:
    """The branch of an anyOf/oneOf/allOf that ``value`` was drawn from (by JSON type)."""
    if not isinstance(schema, Mapping):
        return schema
    if isinstance(schema.get("allOf"), list):
        return merge_all_of(schema, resolver)
    for key in ("anyOf", "oneOf"):
        options = schema.get(key)
        if isinstance(options, list):
            kind = _kind(value)
            for option in options:
                kinds = types_of(option, resolver)
                if kinds is None or kind in kinds:
                    return resolver.resolve(option)
            return {}
    return schema


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _wrong_value(schema: Any, value: Any, resolver: Resolver) -> tuple[tuple[Any, ...], Any] | None:
    """A place in the body and a value of a type the schema rejects there."""
    resolved = _single(resolver.resolve(schema), value, resolver)
    if isinstance(resolved, Mapping) and isinstance(value, dict):
        properties = resolved.get("properties") or {}
        required = [name for name in resolved.get("required") or [] if name in properties]
        for name in [*required, *(n for n in properties if n not in required)]:
            if name in value:
                bad = _rejected(properties[name], resolver)
                if bad is not None:
                    return (name,), bad
    bad = _rejected(schema, resolver)
    return ((), bad) if bad is not None else None


def _rejected(schema: Any, resolver: Resolver) -> Any:
    kinds = types_of(schema, resolver)
    if kinds is None:
        return None
    if "object" not in kinds:
        return copy.deepcopy(WRONG_OBJECT)
    if "array" not in kinds:
        return copy.deepcopy(WRONG_ARRAY)
    return None


def _get(value: Any, where: tuple[Any, ...]) -> Any:
    for part in where:
        value = value[part]
    return value


def _set(value: Any, where: tuple[Any, ...], new: Any) -> Any:
    if not where:
        return new
    root = copy.deepcopy(value)
    node = root
    for part in where[:-1]:
        node = node[part]
    node[where[-1]] = new
    return root
