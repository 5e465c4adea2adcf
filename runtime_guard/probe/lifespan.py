"""Run an ASGI app's lifespan around the probe, as a server would (``lifespan="auto"``).

An app that does not speak the lifespan protocol (it raises or returns
before answering ``lifespan.startup``) is probed without one.  A failed
start-up is an error the user must see: the probe stops there.
"""

from __future__ import annotations

import asyncio
from collections.abc import MutableMapping
from typing import Any

from runtime_guard.middleware import ASGIApp, Message

_EXITED: Message = {"type": "runtime_guard.probe.app-exited"}


class LifespanError(RuntimeError):
    """The app's start-up (or shutdown) failed; the message says how."""


class Lifespan:
    def __init__(self, app: ASGIApp, *, timeout: float = 30.0) -> None:
        self.app = app
        self.timeout = timeout
        self.state: dict[str, Any] = {}
        """What the app's lifespan put in ``scope["state"]``; each request gets a shallow copy."""
        self.supported = True
        self.error: BaseException | None = None
        self._inbox: asyncio.Queue[Message] = asyncio.Queue()
        self._outbox: asyncio.Queue[Message] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    async def _receive(self) -> Message:
        return await self._inbox.get()

    async def _send(self, message: Message) -> None:
        await self._outbox.put(message)

    async def _run(self) -> None:
        scope: MutableMapping[str, Any] = {
            "type": "lifespan",
            "asgi": {"version": "3.0", "spec_version": "2.0"},
            "state": self.state,
        }
        try:
            await self.app(scope, self._receive, self._send)
        except BaseException as exc:  # noqa: BLE001 - recorded and judged by startup/shutdown
            self.error = exc
        finally:
            self._outbox.put_nowait(_EXITED)

    async def startup(self) -> None:
        self._task = asyncio.ensure_future(self._run())
        await self._inbox.put({"type": "lifespan.startup"})
        try:
            answer = await asyncio.wait_for(self._outbox.get(), self.timeout)
        except asyncio.TimeoutError:
            raise LifespanError(f"the app's start-up did not finish within {self.timeout:g} s") from None
        if answer["type"] == "lifespan.startup.complete":
            return
        if answer["type"] == "lifespan.startup.failed":
            raise LifespanError(f"the app's start-up failed: {answer.get('message') or 'no message'}")
        # The app left the lifespan without answering: it does not support one.
        self.supported = False

    async def shutdown(self) -> None:
        task = self._task
        if task is None or not self.supported or task.done():
            return
        await self._inbox.put({"type": "lifespan.shutdown"})
        try:
            answer = await asyncio.wait_for(self._outbox.get(), self.timeout)
            if answer["type"] == "lifespan.shutdown.failed":
                raise LifespanError(f"the app's shutdown failed: {answer.get('message') or 'no message'}")
            await asyncio.wait_for(task, self.timeout)
        except asyncio.TimeoutError:
            task.cancel()
            raise LifespanError(f"the app's shutdown did not finish within {self.timeout:g} s") from None
