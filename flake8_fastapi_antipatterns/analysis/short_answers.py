"""Model calls that ask for a short answer: side calls, not the long-running work FAA103 is about.

A route that asks a model for a title, a safety verdict or a few extracted fields waits for one
completion of a few tokens: a second or two, like any slow dependency. What FAA103 is about is
the open-ended run (an agent, a long generation) whose latency has a tail of minutes. A call asks
for a short answer when

- it caps the output at a few tokens (``max_tokens=64``; the cap is ``SHORT_OUTPUT_TOKENS``);
- it asks for a structured answer (``response_format={"type": "json_object"}``, a response
  schema or model, ``format="json"``): a classification or an extraction, whose size the schema
  bounds; or
- the function making it is named for a small derived value (``create_title``,
  ``check_if_safe_prompt``, ``classify_intent``).

Names are read as words (``name_words``), the same way ``llm_like_name`` reads them.
"""

from __future__ import annotations

import ast

from flake8_fastapi_antipatterns.analysis.blocking import name_words

SHORT_OUTPUT_TOKENS = 256
"""The largest output cap still read as a short answer (a few sentences at most)."""

OUTPUT_CAPS = frozenset(
    {"max_tokens", "max_completion_tokens", "max_output_tokens", "max_new_tokens", "num_predict", "maxTokens"}
)
# Keywords whose value, when given, makes the answer structured: a schema or model to fill.
SCHEMA_KEYWORDS = frozenset({"response_schema", "response_model", "output_schema", "json_schema"})
# Keywords that select the answer's format: structured when they name JSON or give a schema.
FORMAT_KEYWORDS = frozenset({"response_format", "response_type", "format", "output_format"})

SMALL_VALUE_WORDS = frozenset(
    {
        "title",
        "titles",
        "subject",
        "headline",
        "caption",
        "label",
        "labels",
        "tag",
        "tags",
        "classify",
        "classification",
        "categorize",
        "categorise",
        "category",
        "moderate",
        "moderation",
        "safe",
        "safety",
        "sentiment",
        "intent",
    }
)


def small_value_name(name: str) -> bool:
    """A function named for a small derived value: ``acreate_title_from_history``, ``is_safe_prompt``.

    Not ``safe_run_agent``: a leading "safe" names a wrapper that handles the call's errors, not a
    safety verdict.
    """
    found = name_words(name) & SMALL_VALUE_WORDS
    if found == {"safe"} and name.lstrip("_").lower().startswith("safe"):
        return False
    return bool(found)


def asks_short_answer(call: ast.Call) -> bool:
    """Whether the call's own arguments bound its answer: a small output cap or a structured format."""
    for keyword in call.keywords:
        if keyword.arg is None:
            continue
        value = keyword.value
        if keyword.arg in OUTPUT_CAPS:
            if _small_cap(value):
                return True
        elif keyword.arg in SCHEMA_KEYWORDS:
            if not (isinstance(value, ast.Constant) and value.value is None):
                return True
        elif keyword.arg in FORMAT_KEYWORDS and _structured_format(value):
            return True
    return False


def _small_cap(value: ast.expr) -> bool:
    return (
        isinstance(value, ast.Constant)
        and isinstance(value.value, int)
        and not isinstance(value.value, bool)
        and 0 < value.value <= SHORT_OUTPUT_TOKENS
    )


def _structured_format(value: ast.expr) -> bool:
    """``"json"``, ``"json_object"``, ``{"type": "json_schema", ...}``, or a schema class (``Verdict``)."""
    if isinstance(value, ast.Constant):
        return isinstance(value.value, str) and "json" in value.value.lower()
    if isinstance(value, ast.Dict):
        return any(
            isinstance(k, ast.Constant) and k.value == "type" and _structured_format(v)
            for k, v in zip(value.keys, value.values)
        )
    if isinstance(value, (ast.Name, ast.Attribute)):
        # A class handed over as the format (``response_format=Verdict``) is the schema to fill; a
        # lower-case name is a variable that may hold "text" as well.
        last = value.id if isinstance(value, ast.Name) else value.attr
        return last[:1].isupper() and not last.isupper()
    return False
