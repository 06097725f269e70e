"""Settling the clocks whose deadline passed: each is counted ``missed`` once, when it is.

A clock is settled here, not when its unit finally stops it, so that the
miss is counted at its deadline even if the unit never answers. The clock
and its ticket are claimed as :mod:`hotline.shared.ledger.escalation` says.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from hotline.shared.ledger import clocks, escalation


def settle_overdue(session: Session, now: datetime, limit: int) -> int:
    """Mark ``missed`` every running clock whose deadline has passed; return how many."""
    settled = 0
    for row in escalation.claim_overdue_clocks(session, now, limit):
        try:
            ticket = escalation.lock_if_free(session, row.ticket_id)
        except escalation.Busy:
            continue  # being changed right now: the next pass sees the result
        if ticket is None or not escalation.still_runs(session, ticket, row.attempt, row.clock):
            row.stopped_at = now  # the task moved on without stopping this clock
            continue
        row.outcome = clocks.MISSED
        clocks.count_after_commit(
            session, ticket, [clocks.Settled(row.clock, row.unit_id, clocks.MISSED)]
        )
        settled += 1
    return settled
