"""Scoring the plugin's findings against reviewed verdicts (the real-app corpus).

A verdict file (``benchmarks/verdicts/<project>.tsv``) has one row per finding a
reviewer judged, plus MISS rows for anti-patterns found by hand that the plugin
does not report.  Columns, tab-separated, with a header row:

    code  path  line  verdict  reason

``verdict`` is one of:

- ``TP``: the code does what the message says and an experienced FastAPI engineer would fix it;
- ``FP``: the claim is false (it does not block, it is not on the loop, the handler exists elsewhere...);
- ``NOISE``: it matches the letter of the rule, but a reviewer would not want it reported
  (a CLI command, a script, a migration, run-once start-up code, dead code...);
- ``MISS``: an anti-pattern of the catalogue at that line that the plugin does not report.

A row covers every finding of its code at that path and line (a line can carry
two findings of one code, one per keyword).  Findings are keyed by line, not by
message, because the corpus is pinned: its lines never move, and messages change
with the rules.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

VERDICTS = ("TP", "FP", "NOISE", "MISS")
HEADER = ("code", "path", "line", "verdict", "reason")

Key = tuple[str, str, int]
"""(code, path relative to the project's root, line)."""


class VerdictFileError(ValueError):
    """A verdict file that cannot be read as verdicts (the message names the file and row)."""


@dataclass(frozen=True)
class Finding:
    code: str
    path: str
    line: int
    col: int
    message: str

    @property
    def key(self) -> Key:
        return (self.code, self.path, self.line)


@dataclass(frozen=True)
class Verdict:
    code: str
    path: str
    line: int
    verdict: str
    reason: str

    @property
    def key(self) -> Key:
        return (self.code, self.path, self.line)


def read_verdicts(path: Path) -> list[Verdict]:
    """The rows of one verdict file; a missing file is no verdicts yet.

    Plain tab-separated lines (no quoting: a reason holds no tab), so the files read and diff as text.
    """
    if not path.is_file():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    if not lines:
        return []
    header = lines[0].split("\t")
    if tuple(header) != HEADER:
        raise VerdictFileError(f"{path}: the header must be {' '.join(HEADER)!r}, not {' '.join(header)!r}")
    rows: list[Verdict] = []
    seen: dict[Key, int] = {}
    for number, text in enumerate(lines[1:], start=2):
        if not text.strip():
            continue
        row = text.split("\t")
        if len(row) != len(HEADER):
            raise VerdictFileError(f"{path}:{number}: {len(row)} columns, expected {len(HEADER)}")
        code, rel, line, verdict, reason = row
        if verdict not in VERDICTS:
            raise VerdictFileError(f"{path}:{number}: verdict {verdict!r} is not one of {', '.join(VERDICTS)}")
        if not line.isdigit():
            raise VerdictFileError(f"{path}:{number}: line {line!r} is not a number")
        if not reason.strip():
            raise VerdictFileError(f"{path}:{number}: a verdict needs a reason")
        item = Verdict(code, rel, int(line), verdict, reason.strip())
        if item.key in seen:
            raise VerdictFileError(f"{path}:{number}: {code} {rel}:{line} is judged already on row {seen[item.key]}")
        seen[item.key] = number
        rows.append(item)
    return rows


def one_line(text: str) -> str:
    return " ".join(text.split())


def write_verdicts(path: Path, rows: Iterable[Verdict]) -> None:
    """Write rows sorted by path, line and code (so that diffs of the file stay readable)."""
    ordered = sorted(rows, key=lambda v: (v.path, v.line, v.code))
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["\t".join(HEADER)]
    lines.extend("\t".join([v.code, v.path, str(v.line), v.verdict, one_line(v.reason)]) for v in ordered)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@dataclass
class Score:
    """One code's (or one project's) counts; precision and recall are None when undefined."""

    findings: int = 0
    tp: int = 0
    fp: int = 0
    noise: int = 0
    unreviewed: int = 0
    miss: int = 0
    """MISS rows the plugin still does not report."""
    caught: int = 0
    """MISS rows the plugin now reports (counted as TP; the row wants turning into a TP row)."""
    lost: int = 0
    """TP rows the plugin no longer reports (counted as misses)."""

    def add(self, other: Score) -> None:
        for name in ("findings", "tp", "fp", "noise", "unreviewed", "miss", "caught", "lost"):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def precision(self) -> float | None:
        judged = self.tp + self.fp + self.noise
        return self.tp / judged if judged else None

    @property
    def recall(self) -> float | None:
        wanted = self.tp + self.miss + self.lost
        return self.tp / wanted if wanted else None


@dataclass
class Outcome:
    """Everything the comparison of one project's findings with its verdicts tells."""

    scores: dict[str, Score] = field(default_factory=dict)
    unreviewed: list[Finding] = field(default_factory=list)
    lost: list[Verdict] = field(default_factory=list)
    caught: list[Verdict] = field(default_factory=list)
    gone: list[Verdict] = field(default_factory=list)
    """FP/NOISE rows whose finding is no longer reported (fixed; the row can go)."""

    def score(self, code: str) -> Score:
        return self.scores.setdefault(code, Score())

    def total(self) -> Score:
        total = Score()
        for score in self.scores.values():
            total.add(score)
        return total


def compare(findings: Iterable[Finding], verdicts: Iterable[Verdict]) -> Outcome:
    """Match findings to verdict rows by (code, path, line) and count."""
    by_key = {v.key: v for v in verdicts}
    outcome = Outcome()
    reported: set[Key] = set()
    for finding in findings:
        score = outcome.score(finding.code)
        score.findings += 1
        verdict = by_key.get(finding.key)
        first_time = finding.key not in reported
        reported.add(finding.key)
        if verdict is None:
            score.unreviewed += 1
            outcome.unreviewed.append(finding)
        elif verdict.verdict == "TP":
            score.tp += 1
        elif verdict.verdict == "FP":
            score.fp += 1
        elif verdict.verdict == "NOISE":
            score.noise += 1
        else:  # a MISS row the plugin now reports: the anti-pattern is caught
            score.tp += 1
            if first_time:
                score.caught += 1
                outcome.caught.append(verdict)
    for verdict in by_key.values():
        if verdict.key in reported:
            continue
        score = outcome.score(verdict.code)
        if verdict.verdict == "MISS":
            score.miss += 1
        elif verdict.verdict == "TP":
            score.lost += 1
            outcome.lost.append(verdict)
        else:
            outcome.gone.append(verdict)
    return outcome


def ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


SCORE_COLUMNS = ("findings", "TP", "FP", "NOISE", "to review", "MISS", "lost", "precision", "recall")


def score_cells(score: Score) -> list[str]:
    return [
        str(score.findings), str(score.tp), str(score.fp), str(score.noise), str(score.unreviewed),
        str(score.miss), str(score.lost), ratio(score.precision), ratio(score.recall),
    ]
