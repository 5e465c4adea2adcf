"""A large made-up project and its findings, for the report at scale (tests and benchmarks).

Modules of route handlers, each with a blocking sleep and an outbound call, and one app without
a catch-all handler. The static findings name files relative to the root (as flake8 run there
prints them), the runtime ones absolute (as the guard records them). What the report should make
of them follows from how they are built, and is returned next to them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from flake8_fastapi_antipatterns.diagnostics import Diagnostic

HANDLERS_PER_MODULE = 20
_HEADER = "import time\n\nimport requests\nfrom fastapi import APIRouter\n\nrouter = APIRouter()\n"
_HEADER_LINES = _HEADER.count("\n")
# Lines of one handler, from its decorator: decorator, def, compute, sleep, request, print, return, blank.
_SLEEP, _REQUEST, _PRINT, _RETURN = 3, 4, 5, 6
_HANDLER_LINES = 8


@dataclass(frozen=True)
class Corpus:
    root: Path
    diagnostics: list[Diagnostic]
    static: int
    runtime: int
    problems: int
    confirmed_problems: int
    runtime_only_code: str
    runtime_only_problems: int


def _handler(module: int, index: int) -> str:
    return (
        f'@router.get("/m{module}/h{index}")\n'
        f"async def handler_{index}():\n"
        f"    value = compute({index})\n"
        f"    time.sleep(0.{index % 10})\n"
        f'    reply = requests.get("http://upstream.invalid/{index}")\n'
        f'    print("handled", value)\n'
        "    return reply.json()\n"
        "\n"
    )


def _line(index: int, offset: int) -> int:
    return _HEADER_LINES + 1 + index * _HANDLER_LINES + offset


def write_corpus(root: Path, modules: int = 40) -> Corpus:
    """``modules`` modules of ``HANDLERS_PER_MODULE`` handlers under ``root``; 40 give 2,000 findings.

    Per handler: a static FAA102 at the sleep; a static FAA204 at the request of every even
    handler; a runtime FAA102 stall in three handlers of four (at the sleep or at the return:
    the same function either way); a runtime FAA402 (severity note) in the others, where no
    static finding points. The app has a static FAA304 and one escaped exception (a runtime
    FAA304 at the raise site) per module but the first.
    """
    package = root / "pkg"
    package.mkdir(parents=True, exist_ok=True)
    (package / "__init__.py").write_text("", encoding="utf-8")
    (package / "main.py").write_text("from fastapi import FastAPI\n\napp = FastAPI()\n", encoding="utf-8")
    found: list[Diagnostic] = [
        Diagnostic("FAA304", "`app` registers no handler for `Exception`", "pkg/main.py", 3, 6),
    ]
    static, runtime, stalls, prints, escaped = 1, 0, 0, 0, 0
    for module in range(modules):
        name = f"pkg/mod_{module:03d}.py"
        (root / name).write_text(
            _HEADER + "".join(_handler(module, i) for i in range(HANDLERS_PER_MODULE)), encoding="utf-8"
        )
        absolute = str(root / name)
        for i in range(HANDLERS_PER_MODULE):
            route = f"GET /m{module}/h{i}"
            found.append(Diagnostic("FAA102", f"`time.sleep()` in `handler_{i}`", name, _line(i, _SLEEP), 4))
            static += 1
            if i % 2 == 0:
                found.append(Diagnostic("FAA204", "`requests.get()` without `timeout=`", name, _line(i, _REQUEST), 12))
                static += 1
            if i % 4 != 3:
                line = _line(i, _SLEEP if i % 2 else _RETURN)
                found.append(
                    Diagnostic(
                        "FAA102",
                        f"event loop blocked for 0.{i % 10 + 1} s in `handler_{i}` while serving {route}",
                        absolute,
                        line,
                        source="runtime",
                        details={"stall_seconds": 0.1 + i % 10 / 10, "function": f"handler_{i}", "route": route},
                    )
                )
                stalls += 1
            else:
                found.append(
                    Diagnostic(
                        "FAA402",
                        f"`handler_{i}` wrote to stdout while handling {route}",
                        absolute,
                        _line(i, _PRINT),
                        severity="note",
                        source="runtime",
                        details={"route": route, "count": 3},
                    )
                )
                prints += 1
        if module:
            found.append(
                Diagnostic(
                    "FAA304",
                    f"`KeyError` escaped the app while handling GET /m{module}/h0",
                    absolute,
                    _line(0, _REQUEST),
                    source="runtime",
                    details={"route": f"GET /m{module}/h0", "exception": "KeyError"},
                )
            )
            escaped += 1
    runtime = stalls + prints + escaped
    return Corpus(
        root=root,
        diagnostics=found,
        static=static,
        runtime=runtime,
        # Each static finding is a problem; each print is a problem of its own (one per function).
        problems=static + prints,
        # The stalled handlers' FAA102, and the app's FAA304 when an exception escaped it.
        confirmed_problems=stalls + (1 if escaped else 0),
        runtime_only_code="FAA402",
        runtime_only_problems=prints,
    )
