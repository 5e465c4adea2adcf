"""Form and multipart bodies drawn from the OpenAPI schema of a ``Form()``/``File()`` route.

FastAPI documents such a body as a ``$ref`` to a ``Body_...`` object whose
properties are the fields: text fields by their JSON type, files as
``{"type": "string", "format": "binary"}`` (OpenAPI 3.0) or
``contentMediaType`` (3.1), lists of files as arrays of those.  Two things
make a valid form differ from a valid JSON body:

* a file field must arrive as a file part (``filename=...``), not as text;
* an empty text value counts as missing (FastAPI reads ``""`` in a form as
  "not sent"), so a required field needs at least one character, and a
  required list at least one item.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from runtime_guard.probe.schema import Resolver, Strategies, Strategy, merge_all_of

MAX_FILE_BYTES = 64
FILE_ITEMS = 2

FormPart = tuple[str, str]
"""A text field: (name, value)."""
FilePart = tuple[str, tuple[str, bytes, str]]
"""A file field: (name, (filename, content, content type)), as httpx takes ``files``."""


@dataclass(frozen=True)
class FormField:
    name: str
    schema: Any
    """The field's schema, its null branch dropped (a form cannot send null)."""
    required: bool
    file: bool
    many: bool
    """A list: the field is sent once per item."""


@dataclass(frozen=True)
class FormValue:
    fields: list[FormPart]
    files: list[FilePart]

    def as_dict(self) -> dict[str, Any]:
        """The value the body probes and the request log see (file contents by size)."""
        value: dict[str, Any] = {}
        for name, text in self.fields:
            value.setdefault(name, []).append(text)
        for name, (filename, content, _) in self.files:
            value.setdefault(name, []).append(f"<file {filename}: {len(content)} bytes>")
        return {k: v[0] if len(v) == 1 else v for k, v in value.items()}


def is_file_schema(schema: Any, resolver: Resolver) -> bool:
    schema = _not_null(resolver.resolve(schema), resolver)
    return isinstance(schema, Mapping) and (
        schema.get("format") == "binary" or "contentMediaType" in schema or "contentEncoding" in schema
    )


def form_fields(schema: Any, resolver: Resolver) -> list[FormField]:
    """The fields of a form body schema, ``$ref`` and ``allOf`` followed."""
    schema = resolver.resolve(schema)
    if isinstance(schema, Mapping) and isinstance(schema.get("allOf"), list):
        schema = merge_all_of(schema, resolver)
    if not isinstance(schema, Mapping):
        return []
    properties: Mapping[str, Any] = schema.get("properties") or {}
    required = set(schema.get("required") or ())
    fields: list[FormField] = []
    for name, raw in properties.items():
        sub = _not_null(resolver.resolve(raw), resolver)
        items = sub.get("items") if isinstance(sub, Mapping) and sub.get("type") == "array" else None
        many = items is not None
        target = _not_null(resolver.resolve(items), resolver) if many else sub
        fields.append(FormField(str(name), target, name in required, is_file_schema(target, resolver), many))
    return fields


def _not_null(schema: Any, resolver: Resolver) -> Any:
    """``X | None`` as ``X``: the first option of an anyOf/oneOf that is not null."""
    if not isinstance(schema, Mapping):
        return schema
    for key in ("anyOf", "oneOf"):
        options = schema.get(key)
        if isinstance(options, list):
            for option in options:
                option = resolver.resolve(option)
                if not (isinstance(option, Mapping) and option.get("type") == "null"):
                    return option
    return schema


def _non_empty(schema: Any) -> Any:
    """A string schema with at least one character (anything else unchanged)."""
    if isinstance(schema, Mapping) and (schema.get("type") == "string" or "maxLength" in schema or "pattern" in schema):
        return {**schema, "minLength": max(1, int(schema.get("minLength", 0) or 0))}
    return schema


def _file(field: FormField) -> Strategy:
    schema = field.schema if isinstance(field.schema, Mapping) else {}
    media = schema.get("contentMediaType")
    content_type = media if isinstance(media, str) and "/" in media else "application/octet-stream"
    return st.binary(min_size=1, max_size=MAX_FILE_BYTES).map(lambda data: (f"{field.name}.bin", data, content_type))


def form_strategy(fields: list[FormField], strategies: Strategies, text: Any) -> Strategy:
    """Values for ``fields`` as a :class:`FormValue`; ``text`` turns a drawn value into form text."""
    required: dict[str, Strategy] = {}
    optional: dict[str, Strategy] = {}
    for field in fields:
        one = _file(field) if field.file else strategies.value(_non_empty(field.schema)).filter(lambda v: v is not None)
        drawn = st.lists(one, min_size=1, max_size=FILE_ITEMS) if field.many else one.map(lambda v: [v])
        (required if field.required else optional)[field.name] = drawn
    by_name = {field.name: field for field in fields}

    def assemble(values: Mapping[str, list[Any]]) -> FormValue:
        parts: list[FormPart] = []
        files: list[FilePart] = []
        for name, items in values.items():
            for item in items:
                if by_name[name].file:
                    files.append((name, item))
                else:
                    parts.append((name, text(item)))
        return FormValue(parts, files)

    return st.fixed_dictionaries(required, optional=optional).map(assemble)
