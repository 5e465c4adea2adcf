"""A body field the probe named, and where it is declared: the line a missing bound is fixed on.

The OpenAPI document names a model by its component (``#/components/schemas/Item``,
FastAPI uses the class name); the class itself is found among the types the
handler's parameters are annotated with, and their fields' types, to a few
levels.  The field's line is read from the class's source.  Anything that does
not resolve cleanly (a generated class, no source, two classes of one name)
leaves the finding on the handler's ``def``.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from runtime_guard.frames import FrameInfo

MAX_TYPES = 200
MAX_DEPTH = 4


@dataclass(frozen=True)
class BodyField:
    """A string the probe grew: where it is in the body, the field that holds it, its declared bound."""

    path: tuple[Any, ...]
    """Keys and list indexes from the body's root."""
    model: str | None
    """The component (model) name of the schema holding the field; None for a bare body or a free-form object."""
    name: str | None
    """The property name; None when the body itself is the string."""
    in_list: bool
    """The string is an item of a list field."""
    limit: int | None
    """The declared ``maxLength``, None when there is none."""
    nullable: bool = False
    """The field also takes null (``str | None``)."""

    @property
    def label(self) -> str:
        if self.name is None:
            return "the body"
        shown = f"{self.model}.{self.name}" if self.model else ".".join(str(p) for p in self.path)
        return shown + ("[]" if self.in_list else "")

    def fix(self) -> str:
        """What to write for this field (the finding's fix replaces the catalogue's generic one)."""
        if self.limit is not None:
            return (
                f"the schema declares maxLength {self.limit} but the request got past it: the handler must take "
                f"the model as its body parameter so FastAPI validates it (not `model_construct` or a raw `request.json()`)"
            )
        if self.name is None:
            return "bound it: `body: Annotated[str, Body(max_length=...)]`"
        where = f" in `{self.model}`" if self.model else ""
        if self.in_list:
            return (
                f"bound its items{where}: `{self.name}: list[Annotated[str, StringConstraints(max_length=...)]]` "
                "(and the list with `Field(max_length=...)`)"
            )
        if self.nullable:
            return (
                f"bound the field{where}: `{self.name}: str | None = Field(default=None, max_length=...)`, or "
                f"`{self.name}: Annotated[str, StringConstraints(max_length=...)] | None = None`"
            )
        return (
            f"bound the field{where}: `{self.name}: str = Field(max_length=...)`, or "
            f"`{self.name}: Annotated[str, StringConstraints(max_length=...)]`"
        )


def _types_in(annotation: Any) -> Iterator[Any]:
    """Classes an annotation mentions: ``Annotated[Item, Body()]``, ``list[Item]``, ``Item | None``..."""
    if isinstance(annotation, type):
        yield annotation
    for argument in typing.get_args(annotation):
        if not isinstance(argument, (str, int, float, bool, bytes)) and argument is not None:
            yield from _types_in(argument)


def _hints(target: Any) -> dict[str, Any]:
    try:
        return typing.get_type_hints(target, include_extras=True)
    except Exception:  # noqa: BLE001 - unresolvable forward references: no hints, no field line
        return {}


def find_model(endpoint: Any, name: str) -> type | None:
    """The class called ``name`` among the handler's parameter types and their fields' types."""
    seen: set[int] = set()
    found: list[type] = []
    pending: list[tuple[Any, int]] = [(endpoint, 0)]
    while pending and len(seen) < MAX_TYPES:
        target, depth = pending.pop()
        if id(target) in seen or depth > MAX_DEPTH:
            continue
        seen.add(id(target))
        if isinstance(target, type) and target.__name__ == name and target not in found:
            found.append(target)
        if isinstance(target, type) and target.__module__ == "builtins":
            continue
        for annotation in _hints(target).values():
            pending.extend((kind, depth + 1) for kind in _types_in(annotation))
    return found[0] if len(found) == 1 else None


def field_line(model: type, name: str) -> FrameInfo | None:
    """The line of ``name: ...`` in the class body of ``model`` (or of a base class)."""
    for klass in model.__mro__:
        if klass.__module__ == "builtins":
            break
        try:
            lines, first = inspect.getsourcelines(klass)
            filename = inspect.getsourcefile(klass)
        except (OSError, TypeError):
            continue
        if filename is None:
            continue
        try:
            tree = ast.parse(textwrap.dedent("".join(lines)))
        except SyntaxError:
            continue
        cls = tree.body[0] if tree.body else None
        if not isinstance(cls, ast.ClassDef):
            continue
        for statement in cls.body:
            if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name) and statement.target.id == name:
                return FrameInfo(filename, first + statement.lineno - 1, klass.__name__)
    return None


def field_site(endpoint: Any, field: BodyField) -> FrameInfo | None:
    if endpoint is None or field.model is None or field.name is None:
        return None
    try:
        model = find_model(endpoint, field.model)
        return field_line(model, field.name) if model is not None else None
    except Exception:  # noqa: BLE001 - a strange class must not stop the probe: the finding stays on the def
        return None
