"""Rule documentation rendered from the catalogue (docs pages, ``explain``, SARIF help)."""

from __future__ import annotations

from pathlib import Path

from flake8_fastapi_antipatterns.catalogue import CATALOGUE, Rule


def _default_note(rule: Rule) -> str:
    if rule.default_on:
        return "On by default."
    return f"Off by default (opt-in): enable it with `flake8 --extend-select {rule.code}`."


def rule_markdown(rule: Rule, *, heading_level: int = 1) -> str:
    """One rule's page: the five sections every rule documents, plus where it is reported."""
    h = "#" * heading_level
    runtime = rule.runtime or "not reported at runtime (only the source shows it)."
    return (
        f"{h} {rule.code}: {rule.title}\n\n"
        f"`{rule.slug}` · seed section {rule.seed or '—'} · {_default_note(rule)}\n\n"
        f"{h}# What it does\n\n{rule.doc.what}\n\n"
        f"{h}# Why is this bad?\n\n{rule.doc.why}\n\n"
        f"{h}# Example\n\n```python\n{rule.doc.example}\n```\n\n"
        f"{h}# Use instead\n\n```python\n{rule.doc.instead}\n```\n\n"
        f"{h}# Options\n\n{rule.doc.options}\n\n"
        f"{h}# Where it is reported\n\n"
        f"- **flake8 plugin**: {rule.static}\n"
        f"- **runtime guard**: {runtime}\n\n"
        f"Fix in one line: {rule.fix}\n"
    )


def rule_text(rule: Rule) -> str:
    """Plain-text form for the terminal (``python -m flake8_fastapi_antipatterns explain FAA101``)."""
    return rule_markdown(rule).replace("```python\n", "").replace("```\n", "")


def index_markdown() -> str:
    lines = [
        "# Rules",
        "",
        "Generated from `flake8_fastapi_antipatterns/catalogue.py` by "
        "`python -m flake8_fastapi_antipatterns docs`; do not edit by hand.",
        "",
        "| code | title | default | runtime guard |",
        "|---|---|---|---|",
    ]
    for rule in CATALOGUE.values():
        default = "on" if rule.default_on else "off (opt-in)"
        runtime = "yes" if rule.runtime else "—"
        lines.append(f"| [{rule.code}]({rule.code}.md) | {rule.title} | {default} | {runtime} |")
    return "\n".join(lines) + "\n"


README_START = "<!-- rules-table -->"
README_END = "<!-- /rules-table -->"


def readme_table() -> str:
    """One line per code for the README (the block between the rules-table markers)."""
    lines = ["| code | what it catches | default |", "|---|---|---|"]
    for rule in CATALOGUE.values():
        default = "on" if rule.default_on else "opt-in"
        lines.append(f"| [{rule.code}](docs/rules/{rule.code}.md) | {rule.title} | {default} |")
    return "\n".join(lines) + "\n"


def with_readme_table(readme: str) -> str:
    """``readme`` with its rules-table block regenerated (unchanged if it has no markers)."""
    start = readme.find(README_START)
    if start < 0:
        return readme
    end = readme.find(README_END, start)
    tail = readme[end + len(README_END) :] if end >= 0 else readme[start + len(README_START) :]
    return f"{readme[:start]}{README_START}\n{readme_table()}{README_END}{tail}"


def render_pages() -> dict[str, str]:
    """File name -> content of every generated page."""
    pages = {f"{rule.code}.md": rule_markdown(rule) for rule in CATALOGUE.values()}
    pages["README.md"] = index_markdown()
    return pages


def write_pages(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, content in render_pages().items():
        path = directory / name
        path.write_text(content, encoding="utf-8")
        written.append(path)
    return written


def stale_pages(directory: Path) -> list[str]:
    """Pages that are missing or differ from what the catalogue renders."""
    stale = []
    for name, content in render_pages().items():
        path = directory / name
        if not path.exists() or path.read_text(encoding="utf-8") != content:
            stale.append(name)
    return stale
