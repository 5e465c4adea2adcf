"""Deployment files as facts: FAA401 and FAA403 read the Dockerfile, compose, Kubernetes, Procfile."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from flake8_fastapi_antipatterns.analysis.deployment_files import _read, app_spec, runs_several_workers

APP = """\
import uvicorn
from fastapi import FastAPI

app = FastAPI()


@app.get("/api/status")
async def status():
    return {"ok": True}


def serve():
    uvicorn.run(app, host="0.0.0.0", port=8000)
"""

DOCKERFILE = """\
FROM python:3.12-slim
WORKDIR /srv
COPY . .
HEALTHCHECK --interval=30s CMD curl -f http://localhost:8000/api/status || exit 1
CMD ["uvicorn", "app.main:app", \\
     "--host", "0.0.0.0", "--port", "8000"]
"""

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  replicas: {{ .Values.replicas }}
  template:
    spec:
      containers:
        - name: api
          image: api:latest
          args:
            - uvicorn
            - app.main:app
          readinessProbe:
            httpGet:
              path: /api/status
              port: 8000
"""


def _tree(tmp_path: Path, **files: str) -> Path:
    for name, text in {"app/__init__.py": "", "app/main.py": APP, **files}.items():
        target = tmp_path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(text))
    return tmp_path


def _flake8(root: Path) -> list[str]:
    result = subprocess.run(
        [sys.executable, "-m", "flake8", "--isolated", "--select", "FAA401,FAA403", "app"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=root,
    )
    assert result.returncode in (0, 1), result.stderr
    return result.stdout.splitlines()


def test_without_deployment_files_the_code_is_judged_alone(tmp_path: Path) -> None:
    lines = _flake8(_tree(tmp_path))
    assert any("app/main.py:4:7: FAA401" in line for line in lines), lines
    assert any("app/main.py:13:5: FAA403" in line for line in lines), lines


def test_a_dockerfile_healthcheck_path_is_a_health_route_and_its_cmd_is_the_deployment(tmp_path: Path) -> None:
    lines = _flake8(_tree(tmp_path, Dockerfile=DOCKERFILE))
    assert not any("FAA401" in line for line in lines), lines
    # The image's command, not the launcher function, is what is judged: one uvicorn process.
    deployed = [line for line in lines if "FAA403" in line]
    assert len(deployed) == 2, lines
    assert any(
        "app/main.py:4:7: FAA403" in line and "uvicorn app.main:app --host 0.0.0.0 --port 8000" in line and "(Dockerfile:5)" in line
        for line in deployed
    ), deployed


def test_an_orchestrator_in_sight_makes_one_worker_per_container_right(tmp_path: Path) -> None:
    lines = _flake8(_tree(tmp_path, **{"Dockerfile": DOCKERFILE, "deploy/k8s/deployment.yaml": DEPLOYMENT}))
    assert not any("FAA403" in line or "FAA401" in line for line in lines), lines


def test_a_kubernetes_probe_path_alone_satisfies_the_health_rule(tmp_path: Path) -> None:
    lines = _flake8(_tree(tmp_path, **{"charts/api/templates/deployment.yaml": DEPLOYMENT}))
    assert not any("FAA401" in line for line in lines), lines


def test_the_reader_finds_each_kind_of_fact(tmp_path: Path) -> None:
    _tree(
        tmp_path,
        **{
            "Dockerfile": DOCKERFILE,
            "docker-compose.yml": """\
                services:
                  api:
                    command: gunicorn app.main:app -k uvicorn.workers.UvicornWorker -w 4
                    healthcheck:
                      test:
                        - CMD
                        - wget
                        - -qO-
                        - http://localhost:8000/ready
                      interval: 10s
                  worker:
                    command: ["python", "-m", "app.jobs"]
                """,
            "Procfile": "web: uvicorn app.main:app --port $PORT\nrelease: alembic upgrade head\n",
            ".github/workflows/ci.yml": "jobs:\n  test:\n    steps:\n      - run: curl http://localhost/health\n",
            "config/settings.yaml": "command: uvicorn not.a:deployment\n",
        },
    )
    facts = _read(str(tmp_path))
    assert sorted((p.file, p.line, p.text) for p in facts.probe_paths) == [
        ("Dockerfile", 4, "/api/status"),
        ("docker-compose.yml", 9, "/ready"),
    ]
    assert sorted((c.file, c.line) for c in facts.commands) == [("Dockerfile", 5), ("Procfile", 1), ("docker-compose.yml", 3)]
    assert facts.orchestrators == []
    scaled = facts.scaled()
    assert scaled is not None and scaled.file == "docker-compose.yml"
    assert [c.file for c in facts.single_worker_commands()] == ["Dockerfile", "Procfile"]


def test_worker_counts_and_app_specs_are_read_from_commands() -> None:
    assert runs_several_workers("gunicorn app:app -w 4")
    assert runs_several_workers("uvicorn app:app --workers=${WEB_CONCURRENCY}")
    assert runs_several_workers("gunicorn -c gunicorn.conf.py app:app")
    assert not runs_several_workers("uvicorn app:app --workers 1")
    assert not runs_several_workers("fastapi run app/main.py")
    assert app_spec("uvicorn app.main:app --host 0.0.0.0") == ("app.main", "app")
    assert app_spec("gunicorn 'svc.factory:create_app()' -w 2") == ("svc.factory", "create_app")
    assert app_spec("uvicorn --host 0.0.0.0 --port 8000") is None


def test_the_digest_covers_every_deployment_file_read(tmp_path: Path) -> None:
    assert _read(str(tmp_path)).digest == _read(str(tmp_path)).digest
    empty = _read(str(tmp_path)).digest
    (tmp_path / "Dockerfile").write_text('CMD ["uvicorn", "app:app"]\n')
    first = _read(str(tmp_path)).digest
    assert first != empty
    (tmp_path / "Dockerfile").write_text('CMD ["uvicorn", "app:app", "--workers", "4"]\n')
    second = _read(str(tmp_path)).digest
    assert second != first
    (tmp_path / "README.md").write_text("not a deployment file\n")
    assert _read(str(tmp_path)).digest == second
