"""The HTML report at scale: time to build and write it, and to load and draw it in headless Chromium.

The project is made up (``tests/report_corpus.py``): 40 modules of route handlers and one app,
2,040 findings (1,201 static, 839 runtime) that make 1,401 problems. Each round builds the
report from the findings (merge, correlation, problems), renders the HTML, then loads the page
in one headless Chromium (driven over the DevTools protocol on a pipe, ``tests/chromium.py``)
and reads the page's own timings (from the start of the navigation): the load event, the moment
the page's script had drawn the list, the first contentful paint. Medians of ``--rounds``.

Usage:
    python benchmarks/report_render.py                      # 5 rounds (about 15 s)
    python benchmarks/report_render.py --corpus DIR         # keep the project and its findings in DIR
                                                            # (flake8.txt, runtime.jsonl) to render
                                                            # them with another version
    python benchmarks/report_render.py --corpus DIR --also OTHER.html
                                                            # load that rendering too, alternating
Needs ``chromium`` (Debian: apt-get install chromium); without it only the Python side is timed.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from local_machine import load_average  # noqa: E402

from flake8_fastapi_antipatterns.report import SourceFiles, build_report, render_html  # noqa: E402
from tests.chromium import Chromium, find_browser  # noqa: E402
from tests.report_corpus import write_corpus  # noqa: E402

_TIMINGS = """(() => {
    const nav = performance.getEntriesByType('navigation')[0];
    const drawn = performance.getEntriesByName('faa-rendered')[0];
    const paint = performance.getEntriesByName('first-contentful-paint')[0];
    return {
        load: nav.loadEventEnd,
        drawn: drawn ? drawn.startTime : null,
        paint: paint ? paint.startTime : null,
        height: document.documentElement.scrollHeight,
        elements: document.getElementsByTagName('*').length,
        cards: document.querySelectorAll('article.problem, article.finding').length,
    };
})()"""


def _write_inputs(corpus_dir: Path, diagnostics: list[Any]) -> None:
    """The findings as the report command reads them: flake8's text and the guard's JSON lines."""
    static = [d for d in diagnostics if d.source == "static"]
    runtime = [d for d in diagnostics if d.source == "runtime"]
    (corpus_dir / "flake8.txt").write_text("".join(d.format_text() + "\n" for d in static), encoding="utf-8")
    (corpus_dir / "runtime.jsonl").write_text(
        "".join(json.dumps(d.to_dict()) + "\n" for d in runtime), encoding="utf-8"
    )


def _median(values: list[float]) -> float:
    return statistics.median(values)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--modules", type=int, default=40, help="modules of 20 handlers (40: 2,040 findings)")
    parser.add_argument("--corpus", type=Path, help="write the project and its findings here (kept)")
    parser.add_argument("--also", type=Path, action="append", default=[], help="another HTML file to load each round")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="faa-report-bench-") as scratch:
        corpus_dir = args.corpus or Path(scratch) / "project"
        corpus = write_corpus(corpus_dir, modules=args.modules)
        if args.corpus is not None:
            _write_inputs(corpus_dir, corpus.diagnostics)
        page = Path(scratch) / "report.html"
        build_times, render_times = [], []
        html = ""
        for _ in range(args.rounds):
            sources = SourceFiles(corpus_dir)
            started = time.perf_counter()
            report = build_report(corpus.diagnostics, sources)
            built = time.perf_counter()
            html = render_html(report, sources)
            render_times.append(time.perf_counter() - built)
            build_times.append(built - started)
        page.write_text(html, encoding="utf-8")
        print(
            f"{len(corpus.diagnostics):,} findings ({corpus.static:,} static, {corpus.runtime:,} runtime) "
            f"in {len(report.problems):,} problems; load average {load_average()}"
        )
        print(f"python: build_report {_median(build_times) * 1000:.0f} ms, render_html {_median(render_times) * 1000:.0f} ms "
              f"(medians of {args.rounds}); page {len(html.encode()) / 1024:.0f} KiB")

        browser = find_browser()
        if browser is None:
            print("chromium not found: browser timings skipped")
            return 0
        pages = {"this report": page, **{str(other): other for other in args.also}}
        seen: dict[str, list[dict[str, Any]]] = {name: [] for name in pages}
        with Chromium(browser, width=1280, height=900, timeout=180) as chromium:
            for _ in range(args.rounds):
                for name, path in pages.items():  # alternating, so that a busy moment hits both
                    chromium.load("about:blank")
                    chromium.load(path.resolve().as_uri())
                    seen[name].append(chromium.evaluate(_TIMINGS))
        for name, rounds in seen.items():
            drawn = [r["drawn"] for r in rounds if r["drawn"] is not None]
            paint = [r["paint"] for r in rounds if r["paint"] is not None]
            print(
                f"chromium, {name}: load event {_median([r['load'] for r in rounds]):.0f} ms"
                + (f", list drawn at {_median(drawn):.0f} ms" if drawn else "")
                + (f", first contentful paint {_median(paint):.0f} ms" if paint else "")
                + f"; {rounds[0]['height']:,} px tall at 1280 px wide, {rounds[0]['elements']:,} elements, "
                f"{rounds[0]['cards']:,} cards"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
