"""The plugin on production FastAPI servers: findings scored against reviewed verdicts.

Fetches pinned distributions of production FastAPI servers from the package
index (sha256-checked, cached in ``benchmarks/.corpus/real/``, gitignored),
keeps only each project's application code (its tests, docs, migrations and
build scripts are left out; ``APPS`` says which folders are kept), unpacks beside
it the packages of its companions (a package of the same team's monorepo that it
imports, as a wheel: read by the analysis, never linted), and lints it with every
FAA code selected:

    flake8 --isolated --select FAA --extend-select FAA205,FAA403 -j N FILES...

run from the project's unpacked root, in a virtualenv holding flake8 and this
working tree (``benchmarks/.venvs/``, rebuilt when the sources change).  Every
finding is then matched with the reviewed verdicts in
``benchmarks/verdicts/<project>.tsv`` (see scoring.py for the format) and the
script prints, per code and per project: findings, TP, FP, NOISE, findings not
reviewed yet, MISS rows still missed, TP rows no longer reported ("lost"),
precision = TP / (TP + FP + NOISE) and recall = TP / (TP + MISS + lost).

It also counts the files that do not parse under the interpreter (named, never
skipped silently) and the plugin's crashes (a rule family that raised on a file,
which the plugin logs and skips; the goal is 0).

Usage:
    python benchmarks/real_apps.py                      # the table, CPython running this script
    python benchmarks/real_apps.py --python python3.13  # the same under another interpreter
    python benchmarks/real_apps.py --markdown --project prefect
    python benchmarks/real_apps.py --to-review DIR      # write the unreviewed findings, one TSV a project

Exit status 1 when a TP verdict is lost or the plugin crashed, 0 otherwise.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import urllib.request
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from plugin_cost import VARIANTS, ensure_venv  # noqa: E402
from scoring import (  # noqa: E402
    SCORE_COLUMNS,
    Finding,
    Outcome,
    Score,
    Verdict,
    compare,
    read_verdicts,
    score_cells,
    write_verdicts,
)

CORPUS = HERE / ".corpus" / "real"
VERDICTS_DIR = HERE / "verdicts"
FILES_HOST = "https://files.pythonhosted.org/packages/"

# Folders and files below a kept folder that are not application code.
LEFT_OUT_DIRS = frozenset({"tests", "test", "testing", "migrations", "_migrations", "alembic", "__pycache__", "node_modules"})
TEST_FILE = re.compile(r"^(test_.*|.*_test|conftest)\.py$")
FLAKE8_LINE = re.compile(r"^(?P<path>.+?):(?P<line>\d+):(?P<col>\d+): (?P<code>FAA\d{3}) (?P<message>.*)$")
# What the engine logs when a rule family raises on a file (it skips the family and goes on).
CRASH_LINE = re.compile(r"flake8-fastapi-antipatterns(?: could not index (?P<indexed>[^\s;]+)|: \S+ failed on (?P<failed>[^\s;]+))")


@dataclass(frozen=True)
class Companion:
    """A package the project's own team ships as a separate distribution and the application imports
    throughout (one package of a monorepo: langflow's flow engine ``lfx``). Its packages are unpacked
    into the project's root beside the application's, as they sit side by side in the team's
    repository and in an installed environment: the analysis reads them as the project's code (an
    exception the companion raises with its own message is the project's own, a blocking call behind
    its functions is reached). Never linted, never scored."""

    distribution: str
    url_path: str
    sha256: str
    packages: tuple[str, ...]
    """The top-level folders taken from the distribution (a wheel)."""


@dataclass(frozen=True)
class RealApp:
    name: str
    """The verdict file's stem."""
    kind: str
    distribution: str
    """The file on the package index (an sdist, or the wheel where the project publishes no sdist)."""
    url_path: str
    sha256: str
    keep: tuple[str, ...]
    """Folders and files of the application code, relative to the unpacked root."""
    leave_out: tuple[str, ...] = ()
    """Further paths below ``keep`` that are not application code."""
    companions: tuple[Companion, ...] = ()

    @property
    def root(self) -> Path:
        return CORPUS / self.distribution.removesuffix(".tar.gz").removesuffix("-py3-none-any.whl")


APPS: tuple[RealApp, ...] = (
    RealApp(
        "prefect", "an orchestrator's API server", "prefect-3.9.1.tar.gz",
        "e8/e9/cccc6b9cdc16e55edaf8ce2bd0850d713b6591cfbf9777cbfcff42fbcf02/prefect-3.9.1.tar.gz",
        "56f091cd49a06e6c3f98eea93648208f6750361d1dd0aeb60b5faa0e9cb5c458",
        ("src/prefect/server",),
    ),
    RealApp(
        "airflow", "a platform's API server", "apache_airflow_core-3.3.2.tar.gz",
        "45/47/bcf1e5ebc134c6a39f06fe00534a8981ea195e7191ea2d60dabb7af0428e/apache_airflow_core-3.3.2.tar.gz",
        "53f38e7749a2689a1d67c6e661284ecddaa687c1f7f3cae2d76b2eca7758210f",
        ("src/airflow/api_fastapi",),
    ),
    RealApp(
        "open-webui", "an LLM chat backend", "open_webui-0.12.4.tar.gz",
        "65/4a/996ae3dd9914b5508e6d9e3a874ba32a74243fea2bd41e94d3ea980efe6b/open_webui-0.12.4.tar.gz",
        "04bff683181768a4c0ab32cd7b4f208f512622fe0066b4e5df22a05a96ac4628",
        ("backend/open_webui",),
    ),
    RealApp(
        "openhands", "an agent platform's server", "openhands_ai-1.11.0.tar.gz",
        "a9/03/d77dc8e3265b783569ca1c97aa256c5bf76a748f4bacfae8fe4cc99bbd59/openhands_ai-1.11.0.tar.gz",
        "95bf563bd3d34876ea6284e28321c034fa44491a46b21e32bf5cc54d118bbf78",
        ("openhands",),
    ),
    RealApp(
        "langflow", "a flow builder's API server", "langflow_base-1.13.0-py3-none-any.whl",
        "48/5f/4766c4d4ea355ee026e8ca6f3aee7e0656bd57280912fc7b59730b135619/langflow_base-1.13.0-py3-none-any.whl",
        "e15db23e16cf27d6d1ac8fcc5030cf25ad3a04356a9581862b4e97de739dd3a2",
        (
            "langflow/api", "langflow/agentic", "langflow/services", "langflow/main.py", "langflow/middleware.py",
            "langflow/server.py", "langflow/plugin_routes.py", "langflow/__main__.py",
        ),
        companions=(
            Companion(
                "lfx-1.13.0-py3-none-any.whl",
                "14/09/fcd474a6426eabf93531ec6e6198032f2aad63eddb5ab2d4741ba07d3a06/lfx-1.13.0-py3-none-any.whl",
                "8d2e90f6438a4c6258256086676dd4d7b9f6ded2110d51ad1c96afa37eb8ac3b",
                ("lfx",),
            ),
        ),
    ),
    RealApp(
        "vllm", "a model server (OpenAI-compatible API)", "vllm-0.33.0.tar.gz",
        "f7/25/aa5684e9c59d6fc75f78926b7f15e8d9adc7de2d9e6e7575b80776ad8169/vllm-0.33.0.tar.gz",
        "f4c33c2503d52bb411146afa9618a4f48bed68912f617e6803ac8d76e4c74112",
        ("vllm/entrypoints",),
    ),
    RealApp(
        "khoj", "a personal AI assistant's server", "khoj-1.42.10.tar.gz",
        "38/86/e5cd699f8af0ad3233e7a8176e14206f337a5077b606a8cef1d8660d9fe2/khoj-1.42.10.tar.gz",
        "c79cfb4036ea1fd5c22f7693d5c69a81dd720feb4a53cd72935e0caadd8267f7",
        ("src/khoj",),
        ("src/khoj/interface",),
    ),
    RealApp(
        "fastapi-users", "a user-management library's routers", "fastapi_users-15.0.5.tar.gz",
        "8d/79/98b9d733274cfe0c776fde637dc53b421a0142f51a9e3e9fecd72741f7c1/fastapi_users-15.0.5.tar.gz",
        "097f69701894e650c346df89b1cdb0a09cf139234f4cb9a8ece275af4e98e202",
        ("fastapi_users",),
    ),
    RealApp(
        "chromadb", "a vector database's HTTP server", "chromadb-1.5.9.tar.gz",
        "92/d1/5e33b26985f0c7046a0be1cee2158ada1748ee700d2545057fde1468d74d/chromadb-1.5.9.tar.gz",
        "5c20e62a455c28bacac927f26116a73fd8e1799e0d908be8e8a4f02197a54731",
        ("chromadb/server", "chromadb/auth", "chromadb/rate_limit", "chromadb/quota"),
    ),
    # Added in the fourteenth round as held-out projects: no rule was written with them in view
    # before their first review (benchmarks/README.md, "Fourteenth round").
    RealApp(
        "chainlit", "a conversational AI app framework's server", "chainlit-2.12.0.tar.gz",
        "ca/44/7af8f57c9c1b4c2213cfd9b569e7673b44936abf67a0312e1c999e902003/chainlit-2.12.0.tar.gz",
        "53ca71c66fd98d417039ca5fa9c68349eb8eda771b7e0235a7da531f610fe5d0",
        ("chainlit",),
    ),
    RealApp(
        "argilla", "a data-annotation platform's API server", "argilla_server-2.8.0.tar.gz",
        "93/95/842d32b51c2a12aca23c2072d9181e9d7f5225d1e6908096ac76063813c5/argilla_server-2.8.0.tar.gz",
        "c3ca464f7e024d1232fde23dbd6014e2c82a7cebd0382de03d7cb3cfae71e4b0",
        ("src/argilla_server",),
    ),
    RealApp(
        "gradio", "an ML demo framework's server", "gradio-6.31.0.tar.gz",
        "68/98/a76721a95bebc678b8a89c174d72292b3e99b2e4b387b77965d2797a1b52/gradio-6.31.0.tar.gz",
        "40cf094fe8ea1b8ada0fc4c10b685c4c5f09c4061d34c073be25bab342e14e22",
        ("gradio",),
        ("gradio/templates", "gradio/_simple_templates", "gradio/_frontend_code"),
    ),
    RealApp(
        "feast", "a feature store's servers and SDK", "feast-0.67.0.tar.gz",
        "5a/80/f71800e5669ebdb5329c011a0eeaebff828db92a759e18584e5af28e2ad8/feast-0.67.0.tar.gz",
        "46f01aa649550e67b00fdf58f9f6dd3679925d908b9bfcac04e3050d49ff5523",
        ("sdk/python/feast",),
    ),
    # Held out in the fifteenth round: reviewed before any change made with it in view.
    RealApp(
        "letta", "an agent platform's API server and services", "letta-0.16.8.tar.gz",
        "6a/94/b51b0746dd862b86538f10085b57c216ab32e3d40532e45b63afe0925c4c/letta-0.16.8.tar.gz",
        "363e26989e552c859ce2e7961d484acee6fccfc1e7b16e8f644b1ae1ccd754a3",
        ("letta",),
    ),
    # Held out in the sixteenth round: reviewed before any change made with them in view.
    RealApp(
        "phoenix", "an LLM observability platform's server", "arize_phoenix-20.26.1.tar.gz",
        "aa/0f/2e90f0f258d09afee2d85f76e74b1eda9f27c224bd139b91cc638ac4cb26/arize_phoenix-20.26.1.tar.gz",
        "3b8e61b759746ec23bc260202049b60e64f032dd0a4d27b548a642fd1c061f62",
        ("src/phoenix",),
        ("src/phoenix/__generated__", "src/phoenix/vendor"),
    ),
    RealApp(
        "lightrag", "a retrieval-augmented generation server", "lightrag_hku-1.5.7.tar.gz",
        "cc/dd/6bba8d88a07a50a6569de6eb1fc059d57dfdaafdfe9355ea767aab007978/lightrag_hku-1.5.7.tar.gz",
        "4d2cbb3f983b2bec209f4f154845869fc9e5800a7a2a9bb7005ba7610f4fbe0a",
        ("lightrag",),
    ),
    RealApp(
        "xinference", "a model-serving platform's API", "xinference-4.1.0.tar.gz",
        "49/40/55ce6a125f372e5ea9cfadd28017a172cf2e27deb86edeb92f2af72bc576/xinference-4.1.0.tar.gz",
        "94a6023a02043fa1400b66c65a520b0421fb026c87e098c0a9088e1c8ae340bb",
        ("xinference/api", "xinference/core", "xinference/deploy"),
    ),
    RealApp(
        "agno", "an agent framework's API server (AgentOS)", "agno-3.1.10.tar.gz",
        "ad/f7/002d37fab96dff126b56879578e745d6ceb2a99834342415c4ec5d9c1016/agno-3.1.10.tar.gz",
        "1830567bd35ea0a178a5c213d6a93dde84d21caae147e4dd285351c3686a41c8",
        ("agno/os",),
    ),
    RealApp(
        "llama-stack", "an LLM application server and its providers", "llama_stack-0.7.3.tar.gz",
        "c5/6a/e948e6366612390901913a21423c121a4ab0a58fd3bc35819bcdcbf7676f/llama_stack-0.7.3.tar.gz",
        "5b1f04ec6758c88ab308cee1683bf6e2429aefc151cabd94fb05cc3a1d6ced63",
        ("src/llama_stack/core", "src/llama_stack/providers", "src/llama_stack_api"),
    ),
)


# --- fetching -----------------------------------------------------------------------------------


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def download(distribution: RealApp | Companion, archives: Path) -> Path:
    """The distribution's file, downloaded once and checked against its pinned sha256."""
    archives.mkdir(parents=True, exist_ok=True)
    target = archives / distribution.distribution
    if target.is_file() and sha256_of(target) == distribution.sha256:
        return target
    partial = target.with_suffix(target.suffix + ".part")
    print(f"downloading {distribution.distribution} ...", file=sys.stderr)
    with urllib.request.urlopen(FILES_HOST + distribution.url_path, timeout=300) as response, partial.open("wb") as out:
        shutil.copyfileobj(response, out)
    got = sha256_of(partial)
    if got != distribution.sha256:
        partial.unlink()
        raise SystemExit(f"{distribution.distribution}: sha256 {got} is not the pinned {distribution.sha256}")
    partial.rename(target)
    return target


def fetch(app: RealApp) -> Path:
    """The unpacked distribution with its companions' packages (each unpacked beside its target and
    renamed: never half a tree)."""
    if not app.root.is_dir():
        archive = download(app, CORPUS / "archives")
        with tempfile.TemporaryDirectory(dir=CORPUS) as tmp:
            if archive.name.endswith(".whl"):
                top = Path(tmp) / app.root.name
                with zipfile.ZipFile(archive) as wheel:
                    wheel.extractall(top)
            else:
                with tarfile.open(archive) as tar:
                    tar.extractall(tmp, filter="data")
                (top,) = Path(tmp).iterdir()
            top.rename(app.root)
    for companion in app.companions:
        if all((app.root / package).is_dir() for package in companion.packages):
            continue
        archive = download(companion, CORPUS / "archives")
        with tempfile.TemporaryDirectory(dir=app.root) as tmp, zipfile.ZipFile(archive) as wheel:
            wheel.extractall(tmp)
            for package in companion.packages:
                if not (app.root / package).is_dir():
                    (Path(tmp) / package).rename(app.root / package)
    return app.root


# --- the application code -----------------------------------------------------------------------


def application_files(app: RealApp) -> list[str]:
    """The kept ``.py`` files, relative to the unpacked root, sorted."""
    root = app.root
    left_out = {root / rel for rel in app.leave_out}
    found: list[str] = []
    for rel in app.keep:
        start = root / rel
        if start.is_file():
            found.append(rel)
            continue
        if not start.is_dir():
            raise SystemExit(f"{app.name}: kept path {rel} is not in the distribution")
        for folder, dirs, files in os.walk(start):
            here = Path(folder)
            dirs[:] = sorted(d for d in dirs if d not in LEFT_OUT_DIRS and here / d not in left_out)
            found.extend(
                (here / name).relative_to(root).as_posix()
                for name in files
                if name.endswith(".py") and not TEST_FILE.match(name)
            )
    return sorted(set(found))


PARSE_CHECK = """
import ast, sys, warnings
warnings.simplefilter("ignore")
root = sys.argv[1]
for rel in sys.stdin.read().split("\\0"):
    if not rel:
        continue
    try:
        with open(root + "/" + rel, "rb") as handle:
            ast.parse(handle.read(), rel)
    except (SyntaxError, ValueError) as error:
        print(rel + "\\t" + type(error).__name__ + ": " + str(error).replace("\\n", " "))
"""


def unparsable(python: Path, app: RealApp, files: list[str]) -> list[str]:
    """``path<TAB>error`` for each kept file the interpreter cannot parse."""
    result = subprocess.run(
        [str(python), "-c", PARSE_CHECK, str(app.root)], input="\0".join(files),
        capture_output=True, text=True, check=True,
    )
    return result.stdout.splitlines()


@dataclass
class Run:
    app: RealApp
    files: list[str]
    lines: int
    findings: list[Finding]
    unparsable: list[str]
    crashes: list[str]

    @property
    def outcome(self) -> Outcome:
        return compare(self.findings, read_verdicts(VERDICTS_DIR / f"{self.app.name}.tsv"))


def lint(flake8: Path, app: RealApp, jobs: int) -> Run:
    files = application_files(app)
    lines = sum(len((app.root / rel).read_bytes().splitlines()) for rel in files)
    # ``--faa-cache=off``: every run works the findings out from the code, and the corpus stays as fetched.
    cmd = [str(flake8), "--isolated", "--faa-cache=off", "--select", "FAA", "--extend-select", "FAA205,FAA403", "-j", str(jobs), *files]
    result = subprocess.run(cmd, cwd=app.root, capture_output=True, text=True)
    if result.returncode not in (0, 1):
        raise SystemExit(f"{app.name}: flake8 failed ({result.returncode}):\n{result.stderr[-3000:]}")
    findings = []
    for raw in result.stdout.splitlines():
        match = FLAKE8_LINE.match(raw)
        if match is None:
            raise SystemExit(f"{app.name}: unexpected flake8 output line: {raw!r}")
        findings.append(
            Finding(match["code"], match["path"].removeprefix("./"), int(match["line"]), int(match["col"]), match["message"])
        )
    findings.sort(key=lambda f: (f.path, f.line, f.col, f.code))
    crashes = sorted({m["indexed"] or m["failed"] for m in CRASH_LINE.finditer(result.stderr)})
    broken = unparsable(flake8.parent / "python", app, files)
    return Run(app, files, lines, findings, broken, crashes)


# --- printing -----------------------------------------------------------------------------------


def table(header: list[str], rows: list[list[str]], markdown: bool) -> list[str]:
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
        lines.extend("| " + " | ".join(row) + " |" for row in rows)
        return lines
    widths = [max(len(cell) for cell in column) for column in zip(header, *rows)]
    return [" ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in [header, *rows]]


def by_code(outcomes: list[Outcome]) -> dict[str, Score]:
    merged: dict[str, Score] = {}
    for outcome in outcomes:
        for code, score in outcome.scores.items():
            merged.setdefault(code, Score()).add(score)
    return dict(sorted(merged.items()))


def summary_rows(scores: dict[str, Score]) -> list[list[str]]:
    rows = [[code, *score_cells(score)] for code, score in scores.items()]
    total = Score()
    for score in scores.values():
        total.add(score)
    rows.append(["all", *score_cells(total)])
    return rows


def report(runs: list[Run], markdown: bool, python: str) -> list[str]:
    out: list[str] = []
    outcomes = [run.outcome for run in runs]
    out.append(f"Interpreter: {python}. Projects, the application code kept, and what the lint met:")
    rows = [
        [
            run.app.name, run.app.kind, run.app.distribution, ", ".join(run.app.keep), str(len(run.files)),
            f"{run.lines:,}", str(len(run.unparsable)), str(len(run.crashes)),
        ]
        for run in runs
    ]
    rows.append(["all", "", "", "", str(sum(len(r.files) for r in runs)), f"{sum(r.lines for r in runs):,}",
                 str(sum(len(r.unparsable) for r in runs)), str(sum(len(r.crashes) for r in runs))])
    out += table(["project", "kind", "distribution", "kept", "files", "lines", "unparsable", "crashes"], rows, markdown)
    out += ["", "Per code, all projects:"]
    out += table(["code", *SCORE_COLUMNS], summary_rows(by_code(outcomes)), markdown)
    out += ["", "Per project:"]
    project_rows = []
    for run, outcome in zip(runs, outcomes):
        project_rows.append([run.app.name, "all", *score_cells(outcome.total())])
    out += table(["project", "code", *SCORE_COLUMNS], project_rows, markdown)
    out += ["", "Per project and code:"]
    detail = [
        [run.app.name, code, *score_cells(score)]
        for run, outcome in zip(runs, outcomes)
        for code, score in sorted(outcome.scores.items())
    ]
    out += table(["project", "code", *SCORE_COLUMNS], detail, markdown)
    for run, outcome in zip(runs, outcomes):
        for line in run.unparsable:
            out.append(f"unparsable: {run.app.name}: {line}")
        for path in run.crashes:
            out.append(f"crash: {run.app.name}: {path}")
        for verdict in outcome.lost:
            out.append(f"lost TP: {run.app.name}: {verdict.code} {verdict.path}:{verdict.line} ({verdict.reason})")
        for verdict in outcome.caught:
            out.append(f"MISS now reported: {run.app.name}: {verdict.code} {verdict.path}:{verdict.line} (turn the row into TP)")
        for verdict in outcome.gone:
            out.append(f"no longer reported: {run.app.name}: {verdict.verdict} {verdict.code} {verdict.path}:{verdict.line}")
    return out


def write_to_review(runs: list[Run], folder: Path) -> int:
    """One TSV a project with the findings no verdict covers yet (verdict ``?``, the message as reason)."""
    count = 0
    for run in runs:
        pending = [
            Verdict(f.code, f.path, f.line, "?", f.message) for f in run.outcome.unreviewed
        ]
        unique = list({v.key: v for v in pending}.values())
        count += len(unique)
        if unique:
            write_verdicts(folder / f"{run.app.name}.tsv", unique)
    return count


def selected(names: list[str] | None) -> Iterator[RealApp]:
    known = {app.name: app for app in APPS}
    for name in names or known:
        if name not in known:
            raise SystemExit(f"unknown project {name!r}; known: {', '.join(known)}")
        yield known[name]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--project", action="append", help="only this project (repeatable)")
    parser.add_argument("--python", help="the interpreter to lint under (default: the one running this script)")
    parser.add_argument("--jobs", type=int, default=2, help="flake8 -j (default 2)")
    parser.add_argument("--markdown", action="store_true", help="print the tables as Markdown")
    parser.add_argument("--to-review", type=Path, metavar="DIR", help="write the unreviewed findings there, one TSV a project")
    parser.add_argument("--findings", type=Path, metavar="DIR", help="write every finding with its message there, one TSV a project")
    args = parser.parse_args()

    python = shutil.which(args.python) if args.python else None
    if args.python and python is None:
        raise SystemExit(f"no interpreter {args.python!r} on PATH")
    flake8 = ensure_venv(next(v for v in VARIANTS if v.project), python)
    version = subprocess.run([str(flake8.parent / "python"), "-V"], capture_output=True, text=True).stdout.strip()
    runs = []
    for app in selected(args.project):
        fetch(app)
        runs.append(lint(flake8, app, args.jobs))
    print("\n".join(report(runs, args.markdown, version)))
    if args.to_review:
        count = write_to_review(runs, args.to_review)
        print(f"\n{count} findings to review written to {args.to_review}/")
    if args.findings:
        for run in runs:
            rows = [Verdict(f.code, f.path, f.line, "?", f"col {f.col}: {f.message}") for f in run.findings]
            write_verdicts(args.findings / f"{run.app.name}.tsv", list({v.key: v for v in rows}.values()))
    failed = any(run.outcome.lost or run.crashes for run in runs)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
