"""The probe on FastAPI's tutorial apps: which routes it really exercises, which codes it reports.

    python benchmarks/probe_corpus.py                 # every tutorial app of the corpus (about 10 min)
    python benchmarks/probe_corpus.py --limit 40      # the first 40, in path order
    python benchmarks/probe_corpus.py --json out.json # one record per app as well

The corpus is FastAPI's sdist (``benchmarks/fetch_corpus.py``): each
``docs_src/*/tutorial*.py`` that builds ``app = FastAPI(...)`` (the
``_non_an``/``_py3x`` twins left out) is probed in its own subprocess, from
the corpus root, with small bounds (3 examples a route, a 20-request burst,
20 s).  Every HTTP operation counts; an operation is *exercised* when a plain
valid request (not a bad-body, CORS or burst probe) was answered 2xx.  The
figures are counted from the requests themselves (``Sender.send`` is wrapped),
not from the probe's summary, so the same script measures any version of the
probe: point ``PYTHONPATH`` at another tree to compare.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
APP_MARKERS = ("app = FastAPI(", "app=FastAPI(")
MARK = "probe-corpus-record: "
OPTIONS = {"max_examples": 3, "burst": 20, "time_budget": 20.0, "request_timeout": 5.0}


def corpus_apps(corpus: Path) -> list[str]:
    found: list[str] = []
    for path in sorted((corpus / "docs_src").glob("*/tutorial*.py")):
        if "_non_an" in path.stem or "_py3" in path.stem:
            continue
        if any(marker in path.read_text(encoding="utf-8") for marker in APP_MARKERS):
            found.append(".".join(path.relative_to(corpus).with_suffix("").parts) + ":app")
    return found


def drive(target: str) -> dict[str, Any]:
    """In the subprocess: probe one app and count what its plain requests got back."""
    from runtime_guard.probe import client, loader
    from runtime_guard.probe.runner import Probe, ProbeOptions

    answers: dict[str, Counter[int]] = {}
    original = client.Sender.send

    async def recorded(self: Any, request: Any, **kwargs: Any) -> Any:
        outcome = await original(self, request, **kwargs)
        if outcome is not None and not request.note and outcome.status is not None and request.method != "OPTIONS":
            answers.setdefault(request.label, Counter())[outcome.status] += 1
        return outcome

    client.Sender.send = recorded  # type: ignore[method-assign]
    loaded = loader.load_app(target)
    result = asyncio.run(Probe(loaded.app, ProbeOptions(**OPTIONS), app_site=loaded.site).run())  # type: ignore[arg-type]
    exercised = sorted(label for label, statuses in answers.items() if any(200 <= s < 300 for s in statuses))
    return {
        "app": target,
        "operations": result.stats.operations,
        "exercised": len(exercised),
        "codes": sorted({d.code for d in result.findings}),
        "messages": {d.code: d.message for d in result.findings if d.code == "FAA302"},
        "statuses": {label: dict(statuses) for label, statuses in answers.items()},
    }


def run_one(target: str, corpus: Path) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [os.environ.get("PYTHONPATH"), str(ROOT)]))}
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--drive", target],
        cwd=corpus, env=env, capture_output=True, text=True, timeout=120,
    )
    lines = [line[len(MARK):] for line in done.stdout.splitlines() if line.startswith(MARK)]
    if done.returncode != 0 or not lines:
        return {"app": target, "error": (done.stderr.strip().splitlines() or ["?"])[-1]}
    record: dict[str, Any] = json.loads(lines[-1])
    record["seconds"] = round(time.monotonic() - started, 1)
    return record


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--drive", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.drive:
        sys.path.insert(0, os.getcwd())
        with contextlib.redirect_stdout(sys.stderr):  # what the apps print is not the record
            record = drive(args.drive)
        sys.stdout.write("\n" + MARK + json.dumps(record) + "\n")
        return 0
    fetched = subprocess.run([sys.executable, str(HERE / "fetch_corpus.py")], check=True, capture_output=True, text=True)
    corpus = Path(fetched.stdout.strip().splitlines()[-1])
    apps = corpus_apps(corpus)[: args.limit or None]
    records = [run_one(app, corpus) for app in apps]
    good = [r for r in records if "error" not in r]
    operations = sum(r["operations"] for r in good)
    exercised = sum(r["exercised"] for r in good)
    full = sum(1 for r in good if r["operations"] and r["exercised"] == r["operations"])
    codes = Counter(code for r in good for code in r["codes"])
    print(f"apps probed: {len(good)} of {len(records)} ({len(records) - len(good)} failed to load or start)")
    print(f"operations exercised (a plain request answered 2xx): {exercised} of {operations} ({exercised / max(operations, 1):.0%})")
    print(f"apps with every operation exercised: {full} of {len(good)}")
    print("apps reporting each code: " + ", ".join(f"{code} {n}" for code, n in sorted(codes.items())))
    for record in records:
        if "error" in record:
            print(f"  failed: {record['app']}: {record['error']}")
    if args.json:
        args.json.write_text(json.dumps(records, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
