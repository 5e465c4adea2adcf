"""The probe on apps as they are written: forms and uploads, authentication, models without bounds,
project configuration, and the same requests for the same seed wherever the probe runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytest.importorskip("hypothesis")

from flake8_fastapi_antipatterns.__main__ import main as faa_main  # noqa: E402
from runtime_guard.__main__ import main  # noqa: E402
from tests.runtime import probe_apps  # noqa: E402
from tests.runtime.test_probe import PROBE_APPS, QUICK, ROOT, at, coverage_row, json_findings, line_with  # noqa: E402


def probe(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    probe_apps.CALLS.clear()
    status = main(["probe", *args, *QUICK, "--block-threshold", "0.5"])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def state(out: str, label: str) -> str:
    return " ".join(coverage_row(out, label).split()[len(label.split()):])


# -- forms and uploads --------------------------------------------------------------------------


def test_upload_and_form_routes_are_exercised(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = probe(capsys, "tests.runtime.probe_apps:forms_app", "--app-dir", str(ROOT), "--select", "FAA3")
    for label in ("POST /upload", "POST /files", "POST /login"):
        assert state(out, label).startswith("exercised 200"), out
    # The handlers got real file parts with content, and the form's text fields.
    uploads = [call.split() for call in probe_apps.CALLS if call.startswith("POST /upload ")]
    assert uploads and all(name == "document.bin" and int(size) > 0 for *_, name, size in uploads)
    files = [call.split() for call in probe_apps.CALLS if call.startswith("POST /files ")]
    assert files and all(int(count) >= 1 and int(smallest) > 0 for *_, count, smallest in files)
    assert "POST /login" in probe_apps.CALLS
    assert "routes: 3 of 3 operations exercised" in out


# -- authentication -----------------------------------------------------------------------------


def test_a_route_behind_an_app_wide_dependency_is_reported_not_exercised(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = probe(capsys, "tests.runtime.probe_apps:gated_app", "--app-dir", str(ROOT))
    assert "GET /things" not in probe_apps.CALLS and "POST /things" not in probe_apps.CALLS
    for label in ("GET /things", "POST /things"):
        row = state(out, label)
        assert row.startswith("not exercised 401:"), row
        assert "every route answered 401 (Not authenticated): an app-wide dependency" in row and "--header" in row
    assert state(out, "WEBSOCKET /live").startswith("not exercised - websocket route")
    assert "routes: 0 of 2 operations exercised" in out
    # A burst of 401s says nothing of a limiter behind the authentication: no FAA305 from it.
    assert "FAA305" not in out.split("routes:")[1]


def test_a_header_handed_over_gets_the_routes_exercised(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = probe(capsys, "tests.runtime.probe_apps:gated_app", "--app-dir", str(ROOT), "--header", f"Authorization: {probe_apps.TOKEN}")
    assert state(out, "GET /things").startswith("exercised 200")
    assert state(out, "POST /things").startswith("exercised 200")
    assert "credentials handed over: header Authorization" in out
    assert probe_apps.TOKEN not in out  # the value is never printed


@pytest.mark.parametrize("factory", ["login_headers", "override_auth"])
def test_a_client_factory_gets_the_routes_exercised(capsys: pytest.CaptureFixture[str], factory: str) -> None:
    try:
        _, out, err = probe(
            capsys, "tests.runtime.probe_apps:gated_app", "--app-dir", str(ROOT), "--client-factory", f"tests.runtime.probe_apps:{factory}"
        )
    finally:
        probe_apps.gated_app.dependency_overrides.clear()
    assert state(out, "GET /things").startswith("exercised 200"), out + err
    assert "GET /things" in probe_apps.CALLS


def test_a_broken_client_factory_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = probe(capsys, "tests.runtime.probe_apps:gated_app", "--app-dir", str(ROOT), "--client-factory", "tests.runtime.probe_apps:nothing")
    assert status == 2 and "has no attribute 'nothing'" in err
    status, _, err = probe(capsys, "tests.runtime.probe_apps:gated_app", "--app-dir", str(ROOT), "--header", "no colon here")
    assert status == 2 and "'Name: value'" in err


# -- FAA302: what the requests show -------------------------------------------------------------


def test_faa302_names_the_unbounded_field_with_its_fix(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = probe(capsys, "tests.runtime.probe_apps:notes_app", "--app-dir", str(ROOT), "--format", "json", "--select", "FAA302")
    found = json_findings(out)
    assert status == 1
    # One finding, on the field's own line, naming it, with that field's fix (not "declare a model": there is one).
    assert [d.line for d in found] == [line_with(PROBE_APPS, "    title: str")]
    assert at(found, "FAA302", PROBE_APPS, line_with(PROBE_APPS, "    title: str"))
    (finding,) = found
    assert "`Note.title`" in finding.message and "no length bound" in finding.message
    assert finding.message.endswith("`title: str = Field(max_length=...)`, or `title: Annotated[str, StringConstraints(max_length=...)]`")
    assert "declare a Pydantic model" not in finding.message
    assert finding.details["field"] == "Note.title"


def test_the_text_table_keeps_the_fix_and_points_to_explain(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = probe(capsys, "tests.runtime.probe_apps:notes_app", "--app-dir", str(ROOT), "--select", "FAA302,FAA401")
    assert status == 1
    lines = out.splitlines()
    row = next(i for i, line in enumerate(lines) if line.startswith("FAA302"))
    assert lines[row + 1].strip() == (
        "fix: bound the field in `Note`: `title: str = Field(max_length=...)`, or "
        "`title: Annotated[str, StringConstraints(max_length=...)]`"
    )
    assert "exit status 1: findings of FAA302, FAA401" in out
    assert "more: python -m flake8_fastapi_antipatterns explain FAA401" in out
    assert '    ignore = ["FAA302", "FAA401"]' in out and "--ignore FAA302,FAA401" in out
    assert faa_main(["explain", "FAA401"]) == 0  # the command the summary points to exists
    assert "FAA401" in capsys.readouterr().out


# -- configuration ------------------------------------------------------------------------------

SERVICE = '''\
from fastapi import FastAPI, Request

app = FastAPI()


@app.get("/status")
async def status() -> dict:
    return {"ok": True}


@app.post("/echo")
async def echo(request: Request) -> dict:
    return {"got": len(await request.body())}
'''


def service(tmp_path: Path, name: str) -> Path:
    folder = tmp_path / "service"
    folder.mkdir()
    (folder / ".git").mkdir()  # the repository root: the search for configuration stops here
    (folder / f"{name}.py").write_text(SERVICE, encoding="utf-8")
    return folder


def test_codes_ignored_in_pyproject_make_the_exit_status_0(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    folder = service(tmp_path, "svc_pyproject")
    status, out, _ = probe(capsys, "svc_pyproject:app", "--app-dir", str(folder), "--format", "json")
    assert status == 1 and {d.code for d in json_findings(out)} == {"FAA302", "FAA305", "FAA401"}
    (folder / "pyproject.toml").write_text(
        '[project]\nname = "svc"\n\n[tool.runtime-guard.probe]\nignore = ["FAA302", "FAA305", "FAA401"]\n', encoding="utf-8"
    )
    status, out, _ = probe(capsys, "svc_pyproject:app", "--app-dir", str(folder), "--format", "json")
    assert status == 0 and json_findings(out) == []
    # The command line still wins over the file.
    status, out, _ = probe(capsys, "svc_pyproject:app", "--app-dir", str(folder), "--format", "json", "--ignore", "FAA4")
    assert status == 1 and {d.code for d in json_findings(out)} == {"FAA302", "FAA305"}
    status, out, _ = probe(capsys, "svc_pyproject:app", "--app-dir", str(folder), "--format", "json", "--isolated")
    assert status == 1


def test_flake8_section_of_setup_cfg_is_the_fallback(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    folder = service(tmp_path, "svc_setup_cfg")
    (folder / "setup.cfg").write_text("[flake8]\nselect = E,F,W,FAA\nextend-ignore = FAA305,FAA401\n", encoding="utf-8")
    status, out, err = probe(capsys, "svc_setup_cfg:app", "--app-dir", str(folder), "--format", "json")
    assert status == 1 and {d.code for d in json_findings(out)} == {"FAA302"}
    assert "it takes precedence over" in err and "setup.cfg [flake8]" in err
    # A pyproject.toml table takes precedence over setup.cfg.
    (folder / "pyproject.toml").write_text('[tool.runtime-guard.probe]\nignore = "FAA3"\n', encoding="utf-8")
    status, out, _ = probe(capsys, "svc_setup_cfg:app", "--app-dir", str(folder), "--format", "json")
    assert {d.code for d in json_findings(out)} == {"FAA401"}


# -- reproducibility ----------------------------------------------------------------------------

HELPERS = '''\
"""Shared constants of a company library (their literals are what matter here)."""

SKUS = ["sku-alpha-001", "sku-bravo-002", "sku-charlie-003", "sku-delta-004", "sku-echo-005"]
REGIONS = {"eu-west-7": 7340033, "us-east-9": 9437185, "ap-south-3": 3145729}
LIMITS = (1048573, 65521, 8191, 131071, 524287, 2147483629, -77777, 31337)
LABELS = ("gamma-ray", "delta-wing", "omega-point", "kappa-curve", "sigma-flow", "theta-wave")
'''

APP = '''\
from fastapi import FastAPI, HTTPException
from pydantic import BaseModel, Field

import helpers

app = FastAPI()


class Order(BaseModel):
    sku: str = Field(max_length=40)
    region: str = Field(max_length=20)
    quantity: int = Field(ge=-10**12, le=10**12)
    weight: float = 0.0
    label: str = Field("", max_length=30)


@app.get("/orders/{order_id}")
async def get_order(order_id: int, sku: str | None = None, region: str | None = None, page: int = 0, size: int = 10):
    if sku in helpers.SKUS or region in helpers.REGIONS or page in helpers.LIMITS or size in helpers.LIMITS:
        raise RuntimeError("a value of the company's library")  # FAA304 only for those values
    return {"id": order_id}


@app.post("/orders")
async def create_order(order: Order):
    if order.sku in helpers.SKUS or order.quantity in helpers.LIMITS or order.label in helpers.LABELS:
        raise HTTPException(409, "known")
    return order
'''


def _run_from(cwd: Path, app_dir: Path, library: Path, log: Path) -> tuple[list[str], set[tuple[str, int]]]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(library)])}
    command = [
        sys.executable, "-m", "runtime_guard", "probe", "main:app", "--app-dir", str(app_dir), "--seed", "7",
        "--max-examples", "25", "--burst", "5", "--time-budget", "60", "--no-progress", "--format", "json",
        "--block-threshold", "5", "--slow-request-threshold", "5", "--requests-log", str(log),
    ]  # fmt: skip
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode in (0, 1), done.stderr
    requests = []
    for line in log.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        record.pop("status"), record.pop("seconds")
        requests.append(json.dumps(record, sort_keys=True))
    findings = {(d.code, d.line) for d in json_findings(done.stdout)}
    return requests, findings


def test_the_same_seed_sends_the_same_requests_from_any_folder(tmp_path: Path) -> None:
    """One app, its company library installed two ways: as a package (under site-packages) in one
    environment, from a source checkout in the other, each probe run from its own directory."""
    app_dir = tmp_path / "checkout" / "app"
    app_dir.mkdir(parents=True)
    (app_dir / "main.py").write_text(APP, encoding="utf-8")
    installed = tmp_path / "venv" / "lib" / "site-packages"
    checkout = tmp_path / "src" / "company-lib"
    for library in (installed, checkout):
        library.mkdir(parents=True)
        (library / "helpers.py").write_text(textwrap.dedent(HELPERS), encoding="utf-8")
    first = _run_from(app_dir, app_dir, installed, tmp_path / "first.jsonl")
    elsewhere = tmp_path / "ci"
    elsewhere.mkdir()
    second = _run_from(elsewhere, app_dir, checkout, tmp_path / "second.jsonl")
    assert len(first[0]) > 50
    assert first[0] == second[0]
    assert first[1] == second[1]
