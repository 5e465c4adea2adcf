"""The finding record shared by the static plugin and the runtime guard.

Imports only the standard library (and the catalogue), so a staging app that
mounts the runtime guard never pulls in flake8 or astroid.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Severity = Literal["error", "warning", "note"]
Source = Literal["static", "runtime"]

SEVERITIES: tuple[Severity, ...] = ("error", "warning", "note")
SOURCES: tuple[Source, ...] = ("static", "runtime")


@dataclass
class Diagnostic:
    """One finding: a catalogue code at a place in the user's source."""

    code: str
    message: str
    filename: str
    line: int
    col: int = 0
    severity: Severity = "warning"
    source: Source = "static"
    details: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity must be one of {SEVERITIES}, not {self.severity!r}")
        if self.source not in SOURCES:
            raise ValueError(f"source must be one of {SOURCES}, not {self.source!r}")

    @property
    def title(self) -> str:
        from flake8_fastapi_antipatterns.catalogue import CATALOGUE

        rule = CATALOGUE.get(self.code)
        return rule.title if rule else self.code

    def location_key(self) -> tuple[str, str, int]:
        """What makes two findings "the same" for de-duplication."""
        return (self.code, self.filename, self.line)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Diagnostic:
        """Rebuild a finding from ``to_dict()`` output; unknown keys are ignored."""
        try:
            return cls(
                code=str(data["code"]),
                message=str(data["message"]),
                filename=str(data.get("filename", "")),
                line=int(data.get("line", 0) or 0),
                col=int(data.get("col", 0) or 0),
                severity=data.get("severity", "warning"),
                source=data.get("source", "static"),
                details=dict(data.get("details") or {}),
            )
        except KeyError as exc:
            raise ValueError(f"finding record lacks the field {exc.args[0]!r}: {data!r}") from None

    def format_text(self) -> str:
        """``path:line:col: CODE message``, the shape flake8 prints."""
        return f"{self.filename}:{self.line}:{self.col + 1}: {self.code} {self.message}"
