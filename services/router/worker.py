"""The router's stream side: batches of request messages in, decisions into the ledger.

The stream is the fast path; the ledger is the safety net. Any ticket still
waiting for a decision after ``redrive_after`` is routed straight from the
ledger, so a message the broker forgot delays a ticket but never loses it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from hotline.router.decisions import BadMessage, Outcome, RouteCommand, route_batch, stale
from hotline.router.transfers import Transfers
from hotline.shared.configuration.source import ConfigSource
from hotline.shared.messaging.names import requests_topic
from hotline.shared.observability import metrics
from hotline.shared.observability.metrics import top_category
from hotline.shared.runtime.waiting import wait_for_event

log = logging.getLogger(__name__)


class RouterWorker:
    """Decides tickets in batches and wakes the relay that delivers the tasks."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        source: ConfigSource,
        wake_relay: Callable[[], None],
        redrive_after: timedelta,
    ) -> None:
        self._sessions = sessions
        self._source = source
        self._transfers = Transfers(sessions, source)
        self._wake_relay = wake_relay
        self._redrive_after = redrive_after

    async def handle_messages(self, values: Iterable[Any]) -> list[Outcome]:
        """Route every readable message; unreadable ones are counted and set aside."""
        commands: list[RouteCommand] = []
        for value in values:
            try:
                commands.append(RouteCommand.from_message(value))
            except BadMessage as exc:
                stream = requests_topic(self._source.config.district)
                metrics.POISON_MESSAGES.labels(self._source.config.district, stream).inc()
                log.error("router: set aside a poison message: %s", exc)
        return await self.handle(commands)

    async def handle(self, commands: list[RouteCommand]) -> list[Outcome]:
        """Route each command in its own transaction, then publish what they produced."""
        if not commands:
            return []
        outcomes = await asyncio.to_thread(self._route_all, commands)
        if outcomes:
            self._wake_relay()
        if any(o.transfer for o in outcomes):
            self._transfers.wake()
        for outcome in outcomes:
            self._observe(outcome)
        return outcomes

    def _route_all(self, commands: list[RouteCommand]) -> list[Outcome]:
        """Decide the whole batch in one transaction; on a conflict, one by one.

        One commit per batch keeps the ledger's cost per ticket low under load.
        A conflict means another router replica decided a ticket first; the
        batch is then replayed ticket by ticket so the others still go through.
        """
        try:
            with self._sessions.begin() as session:
                rules = self._source.rules  # the rules in force for the whole batch
                return route_batch(session, rules, commands, datetime.now(UTC))
        except IntegrityError:
            if len(commands) == 1:
                return []
        outcomes = []
        for command in commands:
            outcomes += self._route_all([command])
        return outcomes

    def _observe(self, outcome: Outcome) -> None:
        district, category = self._source.config.district, top_category(outcome.category)
        if outcome.transfer:
            return
        if outcome.unit is None:
            metrics.TICKETS_TRIAGED.labels(district, category).inc()
            return
        labels = (district, outcome.unit, category, outcome.urgency)
        metrics.TASKS_ASSIGNED.labels(*labels).inc()
        metrics.TIME_TO_ASSIGNMENT.labels(*labels).observe(outcome.waited.total_seconds())

    async def transfer(self, stop: asyncio.Event) -> None:
        """Hand the tickets that belong to peer districts to their intakes."""
        await self._transfers.run(stop)

    async def redrive(self, stop: asyncio.Event) -> None:
        """Route, from the ledger, every ticket that waited too long for its message."""
        period = max(self._redrive_after.total_seconds() / 2, 0.2)
        while not stop.is_set():
            try:
                await self.redrive_once()
            except Exception as exc:  # the ledger is down: try again next period
                log.warning("router: re-drive failed: %s", exc)
            await wait_for_event(stop, period)

    async def redrive_once(self) -> int:
        """Route the tickets that are overdue for a decision now; return how many."""
        cutoff = datetime.now(UTC) - self._redrive_after
        with self._sessions() as session:
            commands = await asyncio.to_thread(stale, session, cutoff)
        outcomes = await self.handle(commands)
        if outcomes:
            metrics.REDRIVEN.labels(self._source.config.district).inc(len(outcomes))
            log.info("router: re-drove %d tickets from the ledger", len(outcomes))
        return len(outcomes)
