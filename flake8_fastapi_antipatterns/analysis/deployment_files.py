"""Deployment files as a source of facts: how the image starts the server, and what it probes.

A reviewer judging "single worker" (FAA403) or "no health route" (FAA401) looks
beyond the Python code: at the Dockerfile's ``CMD`` and ``HEALTHCHECK``, the
compose file's ``command`` and ``healthcheck``, the Kubernetes or Helm
manifests' probes, a ``Procfile``, a gunicorn configuration.  This module reads
those files from the project tree, once per project root and process, with
plain line scanning (no YAML library: Helm templates are not YAML until
rendered, and the facts needed sit on single lines).

What is read, at most ``MAX_DEPTH`` directories below the root (environments,
builds and hidden directories skipped):

- ``Dockerfile``, ``Dockerfile.*``, ``*.Dockerfile``, ``Containerfile``:
  ``CMD``/``ENTRYPOINT`` (server commands) and ``HEALTHCHECK`` (the URL it fetches);
- ``docker-compose*.y(a)ml``, ``compose*.y(a)ml``: ``command:``, the URL in a
  ``healthcheck`` ``test:``, ``replicas:``;
- other ``*.y(a)ml`` holding ``kind: Deployment``/``StatefulSet``/``DaemonSet``
  (Kubernetes, Helm templates): an orchestrator; ``httpGet`` probe ``path:``;
  container ``command``/``args`` lines;
- ``Procfile``: its process lines;
- ``gunicorn.conf.py``, ``gunicorn_conf.py``, ``gunicorn_config.py``: a
  gunicorn configuration (``workers``).
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field

MAX_DEPTH = 4
MAX_FILES = 200
MAX_BYTES = 256 * 1024
_SKIPPED = frozenset({"node_modules", "site-packages", "__pycache__", "build", "dist", "venv", "env", "tests", "test"})

_DOCKERFILE = re.compile(r"^(?:Dockerfile(?:\..+)?|.+\.[Dd]ockerfile|Containerfile)$")
_COMPOSE = re.compile(r"^(?:docker-)?compose[\w.-]*\.ya?ml$")
_YAML = re.compile(r".+\.ya?ml$")
_GUNICORN_CONFIG = frozenset({"gunicorn.conf.py", "gunicorn_conf.py", "gunicorn_config.py"})
# A URL's path in a probe command (``curl -f http://localhost:8000/api/health``).
_URL_PATH = re.compile(r"https?://[^/\s\"'$]+(/[^\s\"'|;&)]*)")
_SERVERS = re.compile(r"\b(uvicorn|gunicorn|hypercorn|granian|fastapi\s+run)\b")
_WORKERS = re.compile(r"(?:--workers|-w)(?:=|\s+)(\S+)")
_ORCHESTRATED = re.compile(r"^\s*kind:\s*[\"']?(Deployment|StatefulSet|DaemonSet|Rollout)\b", re.MULTILINE)
_REPLICAS = re.compile(r"^\s*replicas:\s*[\"']?(\d+|\{\{.*\}\})", re.MULTILINE)
_KUBERNETES_PROBE = re.compile(r"^\s*(?:livenessProbe|readinessProbe|startupProbe):", re.MULTILINE)


@dataclass(frozen=True)
class Declared:
    """One fact and where it is written (a path relative to the project root, a 1-based line)."""

    file: str
    line: int
    text: str

    @property
    def place(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass
class DeploymentFacts:
    probe_paths: list[Declared] = field(default_factory=list)
    """HTTP paths a health check fetches (``text`` is the path)."""
    commands: list[Declared] = field(default_factory=list)
    """Commands that start an ASGI server (uvicorn, gunicorn, hypercorn, granian, ``fastapi run``)."""
    orchestrators: list[Declared] = field(default_factory=list)
    """Manifests that run the image under an orchestrator (a Kubernetes workload, compose replicas)."""
    worker_configs: list[Declared] = field(default_factory=list)
    """gunicorn configuration files (they set the worker count)."""
    digest: str = ""
    """A hash of the files read (their paths and bytes): findings kept between runs are keyed by it."""

    def scaled(self) -> Declared | None:
        """What shows the deployment uses more than one process: an orchestrator, a gunicorn
        configuration, or a server command with a worker count other than 1."""
        if self.orchestrators:
            return self.orchestrators[0]
        if self.worker_configs:
            return self.worker_configs[0]
        return next((c for c in self.commands if runs_several_workers(c.text)), None)

    def single_worker_commands(self) -> list[Declared]:
        return [c for c in self.commands if not runs_several_workers(c.text)]


def runs_several_workers(command: str) -> bool:
    """A server command that starts more than one process (or leaves the count to a variable)."""
    match = _WORKERS.search(command)
    if match is not None:
        return match.group(1).strip("\"'") != "1"
    return "WEB_CONCURRENCY" in command or ("gunicorn" in command and ("-c " in command or "--config" in command))


def app_spec(command: str) -> tuple[str, str] | None:
    """The ``module:variable`` a server command serves (``uvicorn app.main:app`` -> (app.main, app))."""
    match = re.search(r"(?<![\w.-])([A-Za-z_][\w.]*):([A-Za-z_]\w*)(?:\(\))?(?=\s|$|[\"'\]])", command)
    if match is None:
        return None
    return match.group(1), match.group(2)


# -- reading ------------------------------------------------------------------------------------

_CACHE: dict[str, DeploymentFacts] = {}


def deployment_facts(root: str) -> DeploymentFacts:
    """The facts of the project at ``root``, read once per process."""
    known = _CACHE.get(root)
    if known is None:
        known = _CACHE[root] = _read(root)
    return known


def _files(root: str) -> list[tuple[str, str]]:
    """(relative path, kind) of the deployment files under ``root``."""
    found: list[tuple[str, str]] = []
    base_depth = root.rstrip(os.sep).count(os.sep)
    for directory, subdirectories, filenames in os.walk(root):
        depth = directory.rstrip(os.sep).count(os.sep) - base_depth
        subdirectories[:] = sorted(
            d for d in subdirectories if d not in _SKIPPED and not d.startswith(".") and depth < MAX_DEPTH
        )
        for name in sorted(filenames):
            if _DOCKERFILE.match(name):
                kind = "dockerfile"
            elif _COMPOSE.match(name):
                kind = "compose"
            elif name == "Procfile":
                kind = "procfile"
            elif name in _GUNICORN_CONFIG:
                kind = "gunicorn"
            elif _YAML.match(name):
                kind = "manifest"
            else:
                continue
            found.append((os.path.relpath(os.path.join(directory, name), root), kind))
            if len(found) >= MAX_FILES:
                return found
    return found


def _read(root: str) -> DeploymentFacts:
    facts = DeploymentFacts()
    try:
        files = _files(root)
    except OSError:
        return facts
    read = hashlib.sha256()
    for relative, kind in files:
        try:
            with open(os.path.join(root, relative), "rb") as handle:
                data = handle.read(MAX_BYTES)
        except OSError:
            continue
        read.update(f"{relative}\0{len(data)}\0".encode("utf-8", "surrogateescape"))
        read.update(data)
        text = data.decode("utf-8", errors="replace")
        if kind == "dockerfile":
            _dockerfile(facts, relative, text)
        elif kind == "procfile":
            for number, line in enumerate(text.splitlines(), 1):
                _command(facts, relative, number, line.partition(":")[2])
        elif kind == "gunicorn":
            facts.worker_configs.append(Declared(relative, 1, "gunicorn configuration"))
        else:
            _yaml(facts, relative, text, compose=kind == "compose")
    facts.digest = read.hexdigest()
    return facts


def _command(facts: DeploymentFacts, file: str, line: int, text: str) -> None:
    text = " ".join(text.split())
    if _SERVERS.search(text):
        facts.commands.append(Declared(file, line, text))


def _probe(facts: DeploymentFacts, file: str, line: int, text: str) -> None:
    for match in _URL_PATH.finditer(text):
        facts.probe_paths.append(Declared(file, line, match.group(1)))


def _exec_form(argument: str) -> str:
    """``["uvicorn", "main:app"]`` -> ``uvicorn main:app``; a shell form is returned as written."""
    stripped = argument.strip()
    if stripped.startswith("[") and stripped.endswith("]"):
        return " ".join(re.findall(r"\"((?:[^\"\\]|\\.)*)\"", stripped))
    return stripped


def _dockerfile(facts: DeploymentFacts, file: str, text: str) -> None:
    logical: list[tuple[int, str]] = []
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), 1):
        if not pending:
            start = number
        if raw.lstrip().startswith("#"):
            continue
        if raw.rstrip().endswith("\\"):
            pending.append(raw.rstrip()[:-1])
            continue
        pending.append(raw)
        logical.append((start, " ".join(pending)))
        pending = []
    for number, line in logical:
        instruction, _, argument = line.strip().partition(" ")
        instruction = instruction.upper()
        if instruction in ("CMD", "ENTRYPOINT"):
            _command(facts, file, number, _exec_form(argument))
        elif instruction == "HEALTHCHECK":
            _probe(facts, file, number, argument)


def _yaml(facts: DeploymentFacts, file: str, text: str, *, compose: bool) -> None:
    orchestrated = _ORCHESTRATED.search(text)
    if not compose and orchestrated is None and _KUBERNETES_PROBE.search(text) is None:
        return  # some other YAML (CI, settings): not a deployment file
    if orchestrated is not None:
        facts.orchestrators.append(Declared(file, text.count("\n", 0, orchestrated.start()) + 1, orchestrated.group(1)))
    lines = text.splitlines()
    healthcheck: int | None = None  # the indent of the ``healthcheck:`` block being read
    for index, line in enumerate(lines):
        stripped = line.strip()
        number = index + 1
        indent = len(line) - len(line.lstrip())
        if healthcheck is not None and stripped and indent <= healthcheck:
            healthcheck = None
        if stripped.startswith("healthcheck:"):
            healthcheck = indent
            continue
        if compose and stripped.startswith("replicas:"):
            value = stripped.partition(":")[2].strip().strip("\"'")
            if not value.isdigit() or int(value) > 1:
                facts.orchestrators.append(Declared(file, number, f"replicas: {value}"))
        elif stripped.startswith(("command:", "args:", "entrypoint:")):
            _command(facts, file, number, _yaml_value(lines, index))
        elif healthcheck is not None:
            _probe(facts, file, number, stripped)  # the ``test:`` command, inline or as list items
        elif stripped.startswith("path:") and _under_http_get(lines, index):
            path = stripped.partition(":")[2].strip().strip("\"'")
            if path.startswith("/"):
                facts.probe_paths.append(Declared(file, number, path))


def _yaml_value(lines: list[str], index: int) -> str:
    """The value of ``key:`` on its line, or the list items indented under it."""
    inline = lines[index].partition(":")[2].strip()
    if inline and inline not in ("|", ">", "|-", ">-"):
        return " ".join(re.findall(r"[^\s\[\],\"']+", inline)) if inline.startswith("[") else inline.strip("\"'")
    indent = len(lines[index]) - len(lines[index].lstrip())
    parts: list[str] = []
    for line in lines[index + 1 : index + 40]:
        if not line.strip():
            continue
        if len(line) - len(line.lstrip()) <= indent and not line.lstrip().startswith("- "):
            break
        if len(line) - len(line.lstrip()) < indent:
            break
        parts.append(line.strip().removeprefix("- ").strip("\"'"))
    return " ".join(parts)


def _under_http_get(lines: list[str], index: int) -> bool:
    """A ``path:`` inside an ``httpGet:`` block (a Kubernetes probe), a few lines below it."""
    indent = len(lines[index]) - len(lines[index].lstrip())
    for line in reversed(lines[max(0, index - 6) : index]):
        if line.strip().startswith("httpGet:"):
            return len(line) - len(line.lstrip()) < indent
    return False


__all__ = ["Declared", "DeploymentFacts", "app_spec", "deployment_facts", "runs_several_workers"]
