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
from dataclasses import dataclass
from typing import Any, Literal

from runtime_guard.probe.fields import BodyField
from runtime_guard.probe.generate import ProbeRequest
from runtime_guard.probe.plan import Operation
from runtime_guard.probe.schema import Resolver, is_free_form_object, merge_all_of, types_of

MAX_FIELDS = 4
PADDING_KEY = "runtime_guard_probe_padding"
NOT_JSON = b'{"runtime_guard_probe": '
# Values no lax validator coerces into a scalar, a list or a model of another shape.
WRONG_OBJECT: dict[str, Any] = {"runtime_guard_probe": [1, 2, 3]}
WRONG_ARRAY: list[Any] = [{"runtime_guard_probe": None}]


BadKind = Literal["oversized-field", "free-form", "malformed", "undeclared"]


@dataclass(frozen=True)
class BadBody:
    request: ProbeRequest
    kind: BadKind
    """What was wrong: a grown string field, a padded free-form object, a wrong type or not JSON, a body
    sent to a route that declares none."""
    field: BodyField | None = None
    """The grown string field (``oversized-field`` only)."""
    size: str = ""
    """How big the grown value is ("1 MiB", "301 characters")."""

    @property
    def note(self) -> str:
        return self.request.note


def bad_bodies(operation: Operation, valid: ProbeRequest, resolver: Resolver, oversized_bytes: int) -> Iterator[BadBody]:
    """The bad variants of ``valid`` worth sending to ``operation``, most telling first."""
    body = operation.body
    if body is None:
        if operation.may_read_body:
            padded = valid.with_json({PADDING_KEY: "x" * oversized_bytes}, note=f"an oversized body ({_size(oversized_bytes)})")
            yield BadBody(padded, "undeclared")
            yield BadBody(valid.with_content(NOT_JSON, "application/json", note="a malformed body (not JSON)"), "undeclared")
        return
    if not body.is_json:
        return  # forms: the generated request already sends what the schema allows; field sizes are not probed yet
    value = valid.body_value
    if is_free_form_object(body.schema, resolver):
        padded = valid.with_json(
            {**(value if isinstance(value, dict) else {}), PADDING_KEY: "x" * oversized_bytes},
            note=f"an oversized body ({_size(oversized_bytes)} in a free-form object)",
        )
        yield BadBody(padded, "free-form")
    for found in _string_fields(body.schema, value, resolver):
        length = found.limit + 1 if found.limit is not None else oversized_bytes
        grown = _set(value, found.path, _grow(_get(value, found.path), length))
        note = f"an oversized body ({_size(length)} in `{found.label}`)"
        yield BadBody(valid.with_json(grown, note=note), "oversized-field", found, _size(length))
    wrong = _wrong_value(body.schema, value, resolver)
    if wrong is not None:
        where, bad = wrong
        label = ".".join(str(part) for part in where) or "the body"
        yield BadBody(valid.with_json(_set(value, where, bad), note=f"a malformed body (`{label}` of the wrong type)"), "malformed")
    yield BadBody(valid.with_content(NOT_JSON, "application/json", note="a malformed body (not JSON)"), "malformed")


def _size(length: int) -> str:
    return f"{length / 1048576:g} MiB" if length >= 1048576 else f"{length} characters"


def _grow(current: Any, length: int) -> str:
    seed = current if isinstance(current, str) and current else "x"
    return (seed * (length // len(seed) + 1))[:length]


def _string_fields(schema: Any, value: Any, resolver: Resolver) -> Iterator[BodyField]:
    """The string fields present in ``value``, at most MAX_FIELDS."""
    for found, _ in zip(_walk_strings(schema, value, resolver, (), 0, None, None, False), range(MAX_FIELDS)):
        yield found


def _component(schema: Any) -> str | None:
    """``Item`` for a ``{"$ref": "#/components/schemas/Item"}``."""
    ref = schema.get("$ref") if isinstance(schema, Mapping) else None
    return ref.rsplit("/", 1)[-1] if isinstance(ref, str) else None


def _walk_strings(
    schema: Any,
    value: Any,
    resolver: Resolver,
    where: tuple[Any, ...],
    depth: int,
    model: str | None,
    name: str | None,
    in_list: bool,
) -> Iterator[BodyField]:
    """Strings of ``value`` with the field holding each: the nearest named model and its property."""
    branch = _branch(schema, value, resolver)
    model_here = _component(schema) or _component(branch) or model
    resolved = _single(resolver.resolve(branch), value, resolver)
    if not isinstance(resolved, Mapping) or depth > 6:
        return
    if isinstance(value, str) and "enum" not in resolved and "const" not in resolved and resolved.get("format") is None:
        limit = resolved.get("maxLength")
        yield BodyField(where, model, name, in_list, int(limit) if isinstance(limit, int) else None, _admits_null(schema, resolver))
    elif isinstance(value, dict):
        properties = resolved.get("properties") or {}
        for key, sub in properties.items():
            if key in value:
                yield from _walk_strings(sub, value[key], resolver, (*where, key), depth + 1, model_here, key, False)
        # Optional plain-string fields the valid example left out are grown too (`description: str | None = None`).
        for key, sub in properties.items():
            if key not in value:
                plain = _plain_string(sub, resolver)
                if plain is not None:
                    limit = plain.get("maxLength")
                    bound = int(limit) if isinstance(limit, int) else None
                    yield BodyField((*where, key), model_here, key, False, bound, _admits_null(sub, resolver))
    elif isinstance(value, list) and value:
        yield from _walk_strings(resolved.get("items", {}), value[0], resolver, (*where, 0), depth + 1, model, name, True)


def _admits_null(schema: Any, resolver: Resolver) -> bool:
    kinds = types_of(schema, resolver)
    return kinds is not None and "null" in kinds


def _plain_string(schema: Any, resolver: Resolver) -> Mapping[str, Any] | None:
    """The schema when it takes any text ("x" repeated fits it): a string, or a string or null."""
    resolved = resolver.resolve(schema)
    if isinstance(resolved, Mapping):
        options = resolved.get("anyOf") or resolved.get("oneOf")
        if isinstance(options, list):
            kept = [resolver.resolve(o) for o in options if not (isinstance(o, Mapping) and o.get("type") == "null")]
            resolved = kept[0] if len(kept) == 1 else None
    if not isinstance(resolved, Mapping) or resolved.get("type") != "string":
        return None
    if any(key in resolved for key in ("enum", "const", "format", "pattern", "contentMediaType")):
        return None
    return resolved


def _branch(schema: Any, value: Any, resolver: Resolver) -> Any:
    """The anyOf/oneOf option ``value`` was drawn from, unresolved (so its ``$ref`` still names the model)."""
    resolved = resolver.resolve(schema)
    if not isinstance(resolved, Mapping):
        return schema
    for key in ("anyOf", "oneOf"):
        options = resolved.get(key)
        if isinstance(options, list):
            option = _fitting(options, value, resolver)
            if option is not None:
                return option
    return schema


def _fitting(options: list[Any], value: Any, resolver: Resolver) -> Any:
    """The first option whose JSON types admit ``value`` (an option of unknown types admits anything)."""
    kind = _kind(value)
    for option in options:
        kinds = types_of(option, resolver)
        if kinds is None or kind in kinds:
            return option
    return None


def _single(schema: Any, value: Any, resolver: Resolver) -> Any:
    """The branch of an anyOf/oneOf/allOf that ``value`` was drawn from (by JSON type)."""
    if not isinstance(schema, Mapping):
        return schema
    if isinstance(schema.get("allOf"), list):
        return merge_all_of(schema, resolver)
    for key in ("anyOf", "oneOf"):
        options = schema.get(key)
        if isinstance(options, list):
            option = _fitting(options, value, resolver)
            return resolver.resolve(option) if option is not None else {}
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
        if isinstance(value, dict) and part not in value:
            return None  # an optional field the valid example left out
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
