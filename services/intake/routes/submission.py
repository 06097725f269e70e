"""Submitting a request, from whichever route it came in by: once, however often posted."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hotline.intake import requests
from hotline.intake.context import IntakeContext, run_and_wake
from hotline.intake.schemas import NewRequest


async def submit(
    ctx: IntakeContext, body: NewRequest, idempotency_key: str | None
) -> requests.Submitted:
    """Record the request, and count it once committed if this call made it.

    The same key posted twice at once fails the later commit on the key's
    unique index: that call, run again, finds the ticket the other one made.
    """
    rules = ctx.source.rules

    def work(session: Session, now: datetime) -> requests.Submitted:
        return requests.submit(session, rules, body, now, idempotency_key)

    try:
        done = await run_and_wake(ctx, work)
    except IntegrityError:
        done = await run_and_wake(ctx, work)
    if done.created:
        requests.count_received(done.ticket)
    return done
