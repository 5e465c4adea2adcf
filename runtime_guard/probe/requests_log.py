"""``--requests-log FILE``: every request the probe sent, one JSON object a line.

What was sent (method, path, query, headers, the body's size and SHA-256) and
what came back (status, seconds), in order.  Two runs with the same seed send
the same requests: compare their logs without the ``status``/``seconds`` keys.
Header values the user handed over (``--header``, ``--client-factory``) are
not written: only that they were sent.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from runtime_guard.probe.client import Outcome
from runtime_guard.probe.generate import ProbeRequest


def request_record(request: ProbeRequest) -> dict[str, Any]:
    """The request as the log shows it (what the probe generated; credentials are added when sending)."""
    body = request.content
    if body is None and (request.form or request.files):
        parts = [f"{k}={v}" for k, values in sorted((request.form or {}).items()) for v in values]
        parts += [f"{name}:{filename}:{content.hex()}" for name, (filename, content, _) in request.files or ()]
        body = "&".join(parts).encode("utf-8")
    return {
        "method": request.method,
        "path": request.path,
        "query": [list(pair) for pair in request.query],
        "headers": [list(pair) for pair in request.headers],
        "body_bytes": len(body) if body is not None else 0,
        "body_sha256": hashlib.sha256(body).hexdigest() if body is not None else None,
        "note": request.note,
    }


class RequestsLog:
    def __init__(self, path: str) -> None:
        self._handle = open(path, "w", encoding="utf-8")  # noqa: SIM115 - closed by close(), after the run

    def write(self, outcome: Outcome) -> None:
        record = request_record(outcome.request)
        record["status"] = outcome.status
        record["seconds"] = round(outcome.duration, 4)
        self._handle.write(json.dumps(record, sort_keys=True) + "\n")

    def close(self) -> None:
        self._handle.close()
