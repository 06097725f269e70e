"""Waiting in background loops without missing a stop."""

from __future__ import annotations

import asyncio
import contextlib


async def wait_for_event(event: asyncio.Event, seconds: float) -> bool:
    """Wait until ``event`` is set or ``seconds`` pass; say whether it was set.

    Loops sleep through this so that a stop (or a wake-up) cuts the sleep short.
    """
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(event.wait(), seconds)
    return event.is_set()
