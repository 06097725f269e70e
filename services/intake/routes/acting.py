"""A unit's action on its task, from whichever route it came by: run as one command, shown
as the ticket now stands, and counted once committed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from prometheus_client import Counter
from sqlalchemy.orm import Session

from hotline.intake.context import IntakeContext, run_and_wake
from hotline.intake.routes.views import ticket_out
from hotline.intake.schemas import TicketOut
from hotline.intake.unit_tasks import Acted
from hotline.shared.observability.metrics import top_category


async def act(
    ctx: IntakeContext,
    action: Callable[[Session, datetime], Acted],
    counter: Counter | None = None,
) -> TicketOut:
    """Run the unit's ``action`` and show the ticket after it; count it in ``counter``."""

    def work(session: Session, now: datetime) -> TicketOut:
        acted = action(session, now)
        session.flush()
        return ticket_out(session, acted.ticket)

    shown = await run_and_wake(ctx, work)
    if counter is not None:
        district = ctx.source.config.district
        counter.labels(district, shown.unit_id, top_category(shown.category)).inc()
    return shown
