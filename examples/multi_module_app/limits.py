"""A rate-limit dependency the routers attach (a pure function, no shared state worth showing)."""

from fastapi import HTTPException, Request

_BUDGET: dict[str, int] = {}


async def rate_limit(request: Request) -> None:
    client = request.client.host if request.client else "unknown"
    _BUDGET[client] = _BUDGET.get(client, 0) + 1
    if _BUDGET[client] > 100:
        raise HTTPException(status_code=429, detail="Rate limit exceeded")
