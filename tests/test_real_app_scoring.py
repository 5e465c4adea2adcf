"""The real-app benchmark's scoring: verdict files, matching findings to verdicts, the kept files."""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import real_apps  # noqa: E402
from scoring import (  # noqa: E402
    HEADER,
    VERDICTS,
    Finding,
    Verdict,
    VerdictFileError,
    compare,
    read_verdicts,
    write_verdicts,
)


def finding(code: str, path: str, line: int, col: int = 0) -> Finding:
    return Finding(code, path, line, col, "message")


def verdict(code: str, path: str, line: int, kind: str) -> Verdict:
    return Verdict(code, path, line, kind, "why")


def test_findings_are_counted_by_their_verdicts() -> None:
    findings = [
        finding("FAA102", "a.py", 1),
        finding("FAA102", "a.py", 2),
        finding("FAA102", "a.py", 3),
        finding("FAA102", "a.py", 4),
        finding("FAA303", "b.py", 9),
    ]
    verdicts = [
        verdict("FAA102", "a.py", 1, "TP"),
        verdict("FAA102", "a.py", 2, "FP"),
        verdict("FAA102", "a.py", 3, "NOISE"),
        verdict("FAA102", "c.py", 7, "MISS"),
    ]
    outcome = compare(findings, verdicts)
    score = outcome.scores["FAA102"]
    assert (score.findings, score.tp, score.fp, score.noise, score.unreviewed, score.miss) == (4, 1, 1, 1, 1, 1)
    assert score.precision == pytest.approx(1 / 3)
    assert score.recall == pytest.approx(1 / 2)
    assert [f.key for f in outcome.unreviewed] == [("FAA102", "a.py", 4), ("FAA303", "b.py", 9)]
    assert outcome.scores["FAA303"].precision is None


def test_a_tp_no_longer_reported_is_lost_and_counts_against_recall() -> None:
    outcome = compare([], [verdict("FAA101", "a.py", 5, "TP"), verdict("FAA101", "a.py", 6, "FP")])
    score = outcome.scores["FAA101"]
    assert score.lost == 1 and score.tp == 0
    assert score.recall == 0.0
    assert [v.key for v in outcome.lost] == [("FAA101", "a.py", 5)]
    assert [v.key for v in outcome.gone] == [("FAA101", "a.py", 6)]


def test_a_miss_the_plugin_now_reports_is_caught_and_counts_as_tp() -> None:
    outcome = compare([finding("FAA101", "repo.py", 12)], [verdict("FAA101", "repo.py", 12, "MISS")])
    score = outcome.scores["FAA101"]
    assert (score.tp, score.miss, score.caught) == (1, 0, 1)
    assert score.recall == 1.0
    assert [v.key for v in outcome.caught] == [("FAA101", "repo.py", 12)]


def test_one_row_covers_every_finding_of_its_code_on_the_line() -> None:
    # FAA203 reports on_startup= and on_shutdown= of one call separately, on one line.
    findings = [finding("FAA203", "main.py", 3, 10), finding("FAA203", "main.py", 3, 40)]
    outcome = compare(findings, [verdict("FAA203", "main.py", 3, "TP")])
    assert outcome.scores["FAA203"].tp == 2
    assert outcome.scores["FAA203"].unreviewed == 0


def test_verdict_files_round_trip(tmp_path: Path) -> None:
    rows = [verdict("FAA303", "z.py", 2, "NOISE"), Verdict("FAA102", "a.py", 10, "TP", "reads\ta file")]
    path = tmp_path / "p.tsv"
    write_verdicts(path, rows)
    assert path.read_text().splitlines()[0] == "\t".join(HEADER)
    back = read_verdicts(path)
    assert [v.key for v in back] == [("FAA102", "a.py", 10), ("FAA303", "z.py", 2)]
    assert back[0].reason == "reads a file"


@pytest.mark.parametrize(
    ("body", "complaint"),
    [
        ("FAA101\ta.py\t3\tMAYBE\twhy\n", "not one of"),
        ("FAA101\ta.py\tx\tTP\twhy\n", "not a number"),
        ("FAA101\ta.py\t3\tTP\t \n", "needs a reason"),
        ("FAA101\ta.py\t3\tTP\n", "columns"),
        ("FAA101\ta.py\t3\tTP\twhy\nFAA101\ta.py\t3\tFP\tother\n", "judged already on row 2"),
    ],
)
def test_a_bad_verdict_row_is_named(tmp_path: Path, body: str, complaint: str) -> None:
    path = tmp_path / "bad.tsv"
    path.write_text("\t".join(HEADER) + "\n" + body)
    with pytest.raises(VerdictFileError, match=complaint):
        read_verdicts(path)


def test_a_wrong_header_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bad.tsv"
    path.write_text("code\tfile\tline\tverdict\treason\n")
    with pytest.raises(VerdictFileError, match="header"):
        read_verdicts(path)


def test_the_committed_verdicts_are_valid_and_name_known_projects() -> None:
    folder = BENCHMARKS / "verdicts"
    files = sorted(folder.glob("*.tsv"))
    assert files, "benchmarks/verdicts/ holds the reviewed verdicts"
    names = {app.name for app in real_apps.APPS}
    kept_prefixes = {app.name: app.keep for app in real_apps.APPS}
    misses = 0
    for path in files:
        assert path.stem in names, f"{path.name} names no project of real_apps.APPS"
        rows = read_verdicts(path)
        assert all(v.verdict in VERDICTS for v in rows)
        for row in rows:
            assert row.path.startswith(kept_prefixes[path.stem]), f"{path.name}: {row.path} is outside the kept code"
        # A miss the rules learn to report turns into a TP row that says it was one.
        misses += sum(v.verdict == "MISS" or (v.verdict == "TP" and "was MISS" in v.reason) for v in rows)
    assert misses >= 40, "the by-hand hunt found at least 40 misses"


def test_application_files_leave_out_tests_migrations_and_named_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(real_apps, "CORPUS", tmp_path)
    app = real_apps.RealApp("demo", "demo", "demo-1.0.tar.gz", "", "", ("pkg", "launcher.py"), ("pkg/static",))
    layout = [
        "pkg/api/routes.py", "pkg/tests/test_routes.py", "pkg/api/conftest.py", "pkg/api/test_x.py",
        "pkg/migrations/versions/001.py", "pkg/static/vendored.py", "pkg/readme.txt", "launcher.py", "other/x.py",
    ]
    for rel in layout:
        target = app.root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("x = 1\n")
    assert real_apps.application_files(app) == ["launcher.py", "pkg/api/routes.py"]


def test_a_companions_packages_are_unpacked_beside_the_application(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(real_apps, "CORPUS", tmp_path)
    archives = tmp_path / "archives"
    archives.mkdir()
    wheel = archives / "engine-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as built:
        built.writestr("engine/__init__.py", "")
        built.writestr("engine/errors.py", "class EngineError(Exception):\n    pass\n")
        built.writestr("engine-1.0.dist-info/METADATA", "Name: engine\n")
    companion = real_apps.Companion(wheel.name, "", real_apps.sha256_of(wheel), ("engine",))
    app = real_apps.RealApp("demo", "demo", "demo-1.0.tar.gz", "", "", ("app",), companions=(companion,))
    (app.root / "app").mkdir(parents=True)
    (app.root / "app" / "main.py").write_text("from engine.errors import EngineError\n")
    assert real_apps.fetch(app) == app.root
    assert (app.root / "engine" / "errors.py").is_file()
    assert not (app.root / "engine-1.0.dist-info").exists()
    # Read as project code, never linted: the kept files are still the application's alone.
    assert real_apps.application_files(app) == ["app/main.py"]
    assert sorted(p.name for p in app.root.iterdir()) == ["app", "engine"]


def test_a_kept_path_missing_from_the_distribution_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(real_apps, "CORPUS", tmp_path)
    app = real_apps.RealApp("demo", "demo", "demo-1.0.tar.gz", "", "", ("nowhere",))
    (tmp_path / "demo-1.0").mkdir()
    with pytest.raises(SystemExit, match="nowhere"):
        real_apps.application_files(app)


def test_crash_lines_of_the_engine_are_recognised() -> None:
    stderr = (
        "flake8-fastapi-antipatterns: LeakChecker failed on app/routes.py; its findings are skipped\n"
        "Traceback (most recent call last):\n"
        "flake8-fastapi-antipatterns could not index app/broken.py; skipped\n"
    )
    found = sorted(m["indexed"] or m["failed"] for m in real_apps.CRASH_LINE.finditer(stderr))
    assert found == ["app/broken.py", "app/routes.py"]
