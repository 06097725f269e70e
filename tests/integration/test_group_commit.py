"""Group commit on a real ledger: concurrent submissions share commits, and each caller
still gets what a transaction of its own would have given it; outbox rows held for one
multi-row insert keep their order and vanish with a rollback."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hotline.intake.requests import Submitted, submit
from hotline.shared.domain.routing import Rules
from hotline.shared.ledger.engine import make_sessions
from hotline.shared.ledger.group_commit import GroupCommit, Work
from hotline.shared.ledger.outbox import enqueue, enqueue_once
from hotline.shared.ledger.schema import Event, OutboxMessage, Ticket
from tests.integration.test_ledger_flow import CONFIG, _request

ROUTER = Rules(CONFIG)


class Refused(Exception):
    """A handler's refusal, raised after it has written (the worst case for a shared batch)."""


def _count(engine: Engine, model: type[Ticket] | type[Event] | type[OutboxMessage]) -> int:
    with make_sessions(engine)() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def submitting(n: int, key: str | None = None) -> Work[Submitted]:
    """The intake's own work for request ``n``."""

    def work(session: Session, now: datetime) -> Submitted:
        body = _request(caller={"name": f"Caller {n}", "phone": "+86 138 0000 0000"})
        return submit(session, ROUTER, body, now, key)

    return work


def refusing_after_a_write(session: Session, now: datetime) -> None:
    submit(session, ROUTER, _request(), now)  # written, then refused: must not stay
    raise Refused("no")


async def _together(writer: GroupCommit, works: Sequence[Work[Any]]) -> list[Any]:
    return await asyncio.gather(*(writer.run(w) for w in works), return_exceptions=True)


def test_concurrent_submissions_share_commits_and_all_land(ledger: Engine) -> None:
    commits: list[int] = []
    writer = GroupCommit(make_sessions(ledger), after_commit=lambda: commits.append(1))
    results = asyncio.run(_together(writer, [submitting(n) for n in range(60)]))
    assert all(isinstance(r, Submitted) and r.created for r in results)
    assert len({r.ticket.id for r in results}) == 60
    assert _count(ledger, Ticket) == 60
    assert _count(ledger, Event) == 60  # each one's received event
    assert _count(ledger, OutboxMessage) == 120  # its event and its message to the router
    assert 1 <= len(commits) < 60, "60 callers at once should not need 60 commits"


def test_a_refused_call_fails_alone_and_leaves_nothing(ledger: Engine) -> None:
    writer = GroupCommit(make_sessions(ledger))
    works: list[Work[Any]] = [submitting(n) for n in range(5)]
    works.insert(2, refusing_after_a_write)
    results = asyncio.run(_together(writer, works))
    assert isinstance(results[2], Refused)
    others = [r for i, r in enumerate(results) if i != 2]
    assert all(isinstance(r, Submitted) for r in others)
    assert _count(ledger, Ticket) == 5  # the refused call's ticket was rolled back
    assert _count(ledger, Event) == 5  # and its held event with it; the re-run wrote none twice
    with make_sessions(ledger)() as session:
        names = set(session.scalars(select(Ticket.caller_name)))
    assert names == {f"Caller {n}" for n in range(5)}


def test_a_failed_commit_runs_each_alone_so_only_the_loser_fails(ledger: Engine) -> None:
    """Two calls with one idempotency key in one batch: one ticket, one repeat answer."""
    writer = GroupCommit(make_sessions(ledger))
    results = asyncio.run(_together(writer, [submitting(1, "key-1"), submitting(2, "key-1")]))
    assert all(isinstance(r, Submitted) for r in results)
    assert [r.created for r in results] == [True, False]
    assert results[0].ticket.id == results[1].ticket.id
    assert _count(ledger, Ticket) == 1


def test_a_unique_key_taken_at_commit_fails_only_that_call(ledger: Engine) -> None:
    """A row that only the commit finds taken (another process got there first)."""
    sessions = make_sessions(ledger)
    first = asyncio.run(GroupCommit(sessions).run(submitting(0)))

    def duplicate_id(session: Session, now: datetime) -> None:
        copy = Ticket(**{c.key: getattr(first.ticket, c.key) for c in Ticket.__table__.columns})
        session.add(copy)

    writer = GroupCommit(sessions)
    results = asyncio.run(_together(writer, [submitting(1), duplicate_id, submitting(2)]))
    assert isinstance(results[1], IntegrityError)
    assert isinstance(results[0], Submitted) and isinstance(results[2], Submitted)
    assert _count(ledger, Ticket) == 3
    assert _count(ledger, Event) == 3  # each call run alone again wrote its event once


@pytest.mark.parametrize("size", [1, 3])
def test_a_caller_that_gave_up_does_not_stop_the_others(ledger: Engine, size: int) -> None:
    writer = GroupCommit(make_sessions(ledger))

    async def scenario() -> list[object]:
        gone = asyncio.ensure_future(writer.run(submitting(99)))
        staying = [asyncio.ensure_future(writer.run(submitting(n))) for n in range(size)]
        gone.cancel()
        return list(await asyncio.gather(*staying))

    results = asyncio.run(scenario())
    assert all(isinstance(r, Submitted) for r in results)


def _owe(session: Session, n: int, now: datetime) -> None:
    enqueue(
        session, relay="intake", transport="kafka", target="t", key=f"k{n}",
        message_id=f"m{n}", payload={"n": n}, now=now,
    )  # fmt: skip


def test_held_outbox_rows_keep_their_order_and_are_seen_by_queries(ledger: Engine) -> None:
    now = datetime.now(UTC)
    with make_sessions(ledger).begin() as session:
        _owe(session, 1, now)
        _owe(session, 2, now)
        enqueue_once(
            session, relay="intake", transport="amqp", target="t", key="k3",
            dedup_key="once-3", payload={"n": 3}, now=now,
        )  # fmt: skip
        _owe(session, 4, now)
        seen = session.scalars(select(OutboxMessage.key).order_by(OutboxMessage.id)).all()
        assert seen == ["k1", "k2", "k3", "k4"]


def test_a_new_tickets_event_is_in_its_history_for_the_rest_of_the_transaction(
    ledger: Engine,
) -> None:
    with make_sessions(ledger).begin() as session:
        ticket = submit(session, ROUTER, _request(), datetime.now(UTC)).ticket
        history = session.scalars(select(Event.type).where(Event.ticket_id == ticket.id)).all()
        assert history == ["received"]


def test_held_outbox_rows_of_a_rolled_back_change_are_never_written(ledger: Engine) -> None:
    now = datetime.now(UTC)
    with pytest.raises(Refused), make_sessions(ledger).begin() as session:
        _owe(session, 1, now)
        raise Refused("changed my mind")
    with make_sessions(ledger).begin() as session:
        _owe(session, 2, now)
    with make_sessions(ledger)() as session:
        assert session.scalars(select(OutboxMessage.key)).all() == ["k2"]
