"""Stands in for an LLM SDK so the example runs with no network and no API key."""

import asyncio
import os

# A real model call takes seconds to minutes; the probe shortens it with this variable.
LLM_LATENCY_SECONDS = float(os.environ.get("BAD_APP_LLM_LATENCY", "2.0"))


async def call_llm(prompt: str) -> str:
    await asyncio.sleep(LLM_LATENCY_SECONDS)
    return f"echo: {prompt}"
