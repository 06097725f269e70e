"""The notifier's loops: the deadline scheduler over the ledger, and the events reader."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from hotline.notifier.escalations import BATCH, Fired, fire_due
from hotline.shared.domain.config import DistrictConfig
from hotline.shared.domain.events import EventType
from hotline.shared.domain.ticket import Urgency
from hotline.shared.ledger.escalation import next_due
from hotline.shared.messaging.names import events_topic
from hotline.shared.observability import metrics
from hotline.shared.observability.metrics import top_category
from hotline.shared.runtime.waiting import wait_for_event

log = logging.getLogger(__name__)

#: The longest the scheduler sleeps between looks at the ledger: a rung another
#: process writes (a new assignment) is seen within this, well inside the 1 s promise.
TICK_SECONDS = 0.25

#: The events that may be a task's first response: a progress report, or a result that came
#: with no report before it (the event's ``first_response`` says which one was).
RESPONSES = (EventType.PROGRESS_REPORTED, EventType.RESOLVED)


class NotifierWorker:
    """Fires due escalation steps and turns the events stream into SLA metrics."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        config: Callable[[], DistrictConfig],
        wake_relay: Callable[[], None],
    ) -> None:
        self._sessions = sessions
        self._config = config
        self._district = config().district
        self._wake_relay = wake_relay

    async def schedule(self, stop: asyncio.Event) -> None:
        """Fire due steps until ``stop``; after downtime the backlog fires at once, oldest first.

        Between passes it sleeps until the next due time, or ``TICK_SECONDS`` at most.
        """
        while not stop.is_set():
            pause = TICK_SECONDS
            try:
                while len(await self.fire_once()) == BATCH:
                    pass  # a backlog: keep going without waiting for the next tick
                pause = await asyncio.to_thread(self._pause)
            except Exception as exc:  # the ledger is down: try again next tick
                log.warning("notifier: scheduler failed: %s", exc)
            await wait_for_event(stop, pause)

    def _pause(self) -> float:
        """How long to sleep: until the next due time, capped at ``TICK_SECONDS``."""
        with self._sessions() as session:
            due = next_due(session)
        if due is None:
            return TICK_SECONDS
        return min(TICK_SECONDS, max(0.0, (due - datetime.now(UTC)).total_seconds()))

    async def fire_once(self) -> list[Fired]:
        """Fire the steps due now, in one transaction; return what fired."""
        fired = await asyncio.to_thread(self._fire)
        if fired:
            self._wake_relay()
        for step in fired:
            metrics.ESCALATIONS.labels(
                self._district,
                step.unit_id,
                top_category(step.category),
                step.urgency,
                str(step.level),
            ).inc()
        return fired

    def _fire(self) -> list[Fired]:
        with self._sessions.begin() as session:
            return fire_due(session, datetime.now(UTC), self._config())

    def observe(self, values: Iterable[Any]) -> None:
        """Count events; measure times to sign-for, first response and resolution from the stream.

        First response is the first progress report, or the result when none came before it.

        Whether a clock was met or missed is not judged here but where the
        clock stops or fires, in the ledger, so that it counts exactly once.
        """
        for value in values:
            if isinstance(value, dict) and value.get("type") == EventType.HOTSPOT:
                metrics.EVENTS_CONSUMED.labels(self._district, EventType.HOTSPOT.value).inc()
                continue  # about an area, not a ticket: nothing to time
            try:
                kind = EventType(value["type"])
                unit = value.get("unit_id") or "none"
                labels = (value["district"], unit, top_category(value["category"]))
                urgency = Urgency(value["urgency"])
                at = datetime.fromisoformat(value["at"])
                created_at = datetime.fromisoformat(value["created_at"])
                data = value.get("data") or {}
                assigned_at = (
                    datetime.fromisoformat(data["assigned_at"]) if "assigned_at" in data else None
                )
            except (TypeError, KeyError, ValueError) as exc:
                metrics.POISON_MESSAGES.labels(self._district, events_topic(self._district)).inc()
                log.error("notifier: set aside an unreadable event: %s", exc)
                continue
            metrics.EVENTS_CONSUMED.labels(labels[0], kind.value).inc()
            if kind is EventType.SIGNED_FOR and assigned_at is not None:
                waited = (at - assigned_at).total_seconds()
                metrics.TIME_TO_SIGN_FOR.labels(*labels, urgency.value).observe(waited)
            if kind in RESPONSES and data.get("first_response") and assigned_at is not None:
                waited = (at - assigned_at).total_seconds()
                metrics.TIME_TO_FIRST_RESPONSE.labels(*labels, urgency.value).observe(waited)
            if kind is EventType.RESOLVED:
                took = (at - created_at).total_seconds()
                metrics.TIME_TO_RESOLUTION.labels(*labels, urgency.value).observe(took)
