"""What the intake's routes work with: the ledger, the district file in force, and a way to
wake the relay; and the two ways a route reaches the ledger, to read or to write."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, TypeVar

from fastapi import Depends, FastAPI, Request
from sqlalchemy.orm import Session, sessionmaker

from hotline.shared.configuration.source import ConfigSource
from hotline.shared.ledger.group_commit import GroupCommit

T = TypeVar("T")


@dataclass
class IntakeContext:
    """What the routes need: the ledger, the district file in force, a way to wake the relay."""

    sessions: sessionmaker[Session]
    source: ConfigSource
    wake_relay: Callable[[], None]
    writer: GroupCommit = field(init=False)

    def __post_init__(self) -> None:
        self.writer = GroupCommit(self.sessions, after_commit=self.wake_relay)


def install_context(app: FastAPI, context: IntakeContext) -> None:
    """Make ``context`` the one the app's intake routes work with."""
    app.state.hotline_intake = context


def intake_context(request: Request) -> IntakeContext:
    """The intake's context, for a route: a dependency, so the routes need no closure."""
    context: IntakeContext = request.app.state.hotline_intake
    return context


#: The context as a route receives it (module level: the routes' annotations are strings).
Ctx = Annotated[IntakeContext, Depends(intake_context)]


def _in_transaction(ctx: IntakeContext, work: Callable[[Session, datetime], T]) -> T:
    with ctx.sessions.begin() as session:
        return work(session, datetime.now(UTC))


async def read(ctx: IntakeContext, work: Callable[[Session, datetime], T]) -> T:
    """Run a read off the event loop, in a transaction of its own."""
    return await asyncio.to_thread(_in_transaction, ctx, work)


async def run_and_wake(ctx: IntakeContext, work: Callable[[Session, datetime], T]) -> T:
    """Run a command's writes off the event loop, committed with whatever else is being
    written at the moment (see ``GroupCommit``); the relay publishes after the commit."""
    return await ctx.writer.run(work)
