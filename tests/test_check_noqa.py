"""`# noqa` under `faa check` drops exactly what flake8 drops."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from flake8_fastapi_antipatterns.check.noqa import NoqaComments, skips_file

HEADER = """\
import time

from fastapi import FastAPI

app = FastAPI()


@app.get("/healthz")
async def health():
    return {}

"""
# Each route blocks (FAA102) and prints (FAA402) on the line that matters.
ROUTES = {
    "plain": "    time.sleep(1); print('x')\n",
    "bare": "    time.sleep(1); print('x')  # noqa\n",
    "codes": "    time.sleep(1); print('x')  # noqa: FAA102,FAA402\n",
    "one_code": "    time.sleep(1); print('x')  # noqa:FAA102\n",
    "spaces": "    time.sleep(1); print('x')  # NOQA: FAA102 FAA402\n",
    "prefix": "    time.sleep(1); print('x')  # noqa: FAA1\n",
    "lower_case_code": "    time.sleep(1); print('x')  # noqa: faa102\n",
    "other_tool": "    time.sleep(1); print('x')  # noqa: E501\n",
    "statement": "    time.sleep(\n        1,\n    ); print(\n        'x'\n    )  # noqa: FAA102\n",
    "string": '    print(f"""\n    {time.sleep(1)}\n    """)  # noqa: FAA102\n',
}


def app_source() -> str:
    parts = [HEADER]
    for index, (name, body) in enumerate(ROUTES.items()):
        parts.append(f'\n@app.get("/r{index}")\nasync def {name}():\n{body}\n')
    return "".join(parts)


def findings(command: list[str], cwd: Path) -> list[tuple[str, int, str]]:
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=300)
    assert result.returncode in (0, 1), result.stderr
    rows = []
    for line in result.stdout.splitlines():
        location, _, rest = line.partition(": ")
        path, row, _ = location.rsplit(":", 2)
        rows.append((os.path.normpath(path), int(row), rest.split()[0]))
    return sorted(rows)


def function_of(source: str, line: int) -> str:
    lines = source.splitlines()
    for number in range(line, 0, -1):
        if lines[number - 1].startswith("async def "):
            return lines[number - 1].split()[2].split("(")[0]
    raise AssertionError(line)


def test_noqa_forms_match_flake8(tmp_path: Path) -> None:
    source = app_source()
    (tmp_path / "app.py").write_text(source, encoding="utf-8")
    faa = findings([sys.executable, "-m", "flake8_fastapi_antipatterns", "check", "--isolated", "--select", "FAA102,FAA402", "--no-progress"], tmp_path)
    flake8 = findings([sys.executable, "-m", "flake8", "--isolated", "--select", "FAA102,FAA402", "app.py"], tmp_path)
    assert faa == flake8
    left = {(function_of(source, line), code) for _, line, code in faa}
    assert left == {
        ("plain", "FAA102"), ("plain", "FAA402"),
        ("one_code", "FAA402"),
        ("prefix", "FAA402"),
        ("lower_case_code", "FAA102"), ("lower_case_code", "FAA402"),
        ("other_tool", "FAA102"), ("other_tool", "FAA402"),
        # Inside brackets each physical line stands alone: the comment on the last line does not
        # reach the call on the first.
        ("statement", "FAA102"), ("statement", "FAA402"),
        ("string", "FAA402"),
    }


def test_noqa_over_a_multi_line_string() -> None:
    lines = ['x = f"""\n', "{call()}\n", '"""  # noqa: FAA102\n', "y = call()\n"]
    comments = NoqaComments(lines)
    assert comments.suppresses(2, "FAA102") and comments.suppresses(1, "FAA102")
    assert not comments.suppresses(2, "FAA101")
    assert not comments.suppresses(4, "FAA102")


def test_file_wide_noqa() -> None:
    assert skips_file(["import os\n", "# flake8: noqa\n"])
    assert skips_file(["  # FLAKE8=NOQA\n"])
    assert not skips_file(["x = 1  # flake8: noqa\n"]), "flake8 ignores it on a line with code"


def test_file_wide_noqa_skips_the_file(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text("# flake8: noqa\n" + app_source(), encoding="utf-8")
    assert findings([sys.executable, "-m", "flake8_fastapi_antipatterns", "check", "--isolated", "--no-progress"], tmp_path) == []
