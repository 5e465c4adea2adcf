"""A small fixed-window rate limiter as a pure ASGI middleware (no BaseHTTPMiddleware).

Production apps would use slowapi or fastapi-limiter with a shared store; this one
keeps the example free of extra dependencies.
"""

import json
import time
from collections import OrderedDict


class RateLimitMiddleware:
    def __init__(self, app, requests_per_window: int = 60, window_seconds: float = 60.0, max_clients: int = 10_000):
        self.app = app
        self.limit = requests_per_window
        self.window = window_seconds
        self.max_clients = max_clients
        self._windows: OrderedDict[str, tuple[float, int]] = OrderedDict()

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["path"] in ("/health", "/ready"):
            await self.app(scope, receive, send)
            return
        client = (scope.get("client") or ("unknown", 0))[0]
        now = time.monotonic()
        started, count = self._windows.get(client, (now, 0))
        if now - started >= self.window:
            started, count = now, 0
        count += 1
        self._windows[client] = (started, count)
        self._windows.move_to_end(client)
        while len(self._windows) > self.max_clients:
            self._windows.popitem(last=False)
        if count > self.limit:
            body = json.dumps({"detail": "Rate limit exceeded"}).encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": 429,
                    "headers": [(b"content-type", b"application/json"), (b"retry-after", str(int(self.window)).encode())],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send)
