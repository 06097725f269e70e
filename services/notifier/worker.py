"""The notifier's loops: the deadline scheduler over the ledger, and the events reader."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from hotline.notifier.handlers import Fired, fire_due
from hotline.shared import metrics
from hotline.shared.config_source import ConfigSource
from hotline.shared.domain.config import EscalationStep, SlaPolicy
from hotline.shared.domain.events import EventType
from hotline.shared.domain.sla import SIGN_FOR, sign_for_deadline
from hotline.shared.domain.ticket import Urgency
from hotline.shared.metrics import top_category
from hotline.shared.names import events_topic
from hotline.shared.waiting import wait_for_event

log = logging.getLogger(__name__)

#: How often the scheduler looks for due steps: well inside the 1 s it promises.
TICK_SECONDS = 0.25


class NotifierWorker:
    """Fires due escalation steps and turns the events stream into SLA metrics.

    The sign-for clock's outcome is counted once per task: ``met`` when the
    sign-for event comes in time; ``missed`` when the ladder's first rung fires,
    or when the sign-for comes late but before that rung was due.
    """

    def __init__(
        self, sessions: sessionmaker[Session], source: ConfigSource, wake_relay: Callable[[], None]
    ) -> None:
        self._sessions = sessions
        self._source = source
        self._district = source.config.district
        self._wake_relay = wake_relay

    async def schedule(self, stop: asyncio.Event) -> None:
        """Fire due steps every tick until ``stop``; after downtime the backlog fires at once."""
        while not stop.is_set():
            try:
                while len(await self.fire_once()) == 500:
                    pass  # a backlog: keep going without waiting for the next tick
            except Exception as exc:  # the ledger is down: try again next tick
                log.warning("notifier: scheduler failed: %s", exc)
            await wait_for_event(stop, TICK_SECONDS)

    async def fire_once(self) -> list[Fired]:
        """Fire the steps due now, in one transaction; return what fired."""
        fired = await asyncio.to_thread(self._fire)
        if fired:
            self._wake_relay()
        first_rung = _first_rung(self._source.config.sla)
        for step in fired:
            labels = (self._district, step.unit_id, top_category(step.category), step.urgency)
            metrics.ESCALATIONS.labels(*labels, str(step.level)).inc()
            if step.clock == SIGN_FOR and step.level == first_rung.level:
                metrics.SLA_CLOCK_STOPS.labels(*labels, SIGN_FOR, "missed").inc()
        return fired

    def _fire(self) -> list[Fired]:
        with self._sessions.begin() as session:
            return fire_due(session, datetime.now(UTC))

    def observe(self, values: Iterable[Any]) -> None:
        """Count events, measure times to sign-for and resolution, judge sign-for clocks."""
        for value in values:
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
                outcome = self._sign_for_outcome(urgency, assigned_at, at)
                if outcome is not None:
                    metrics.SLA_CLOCK_STOPS.labels(*labels, urgency.value, SIGN_FOR, outcome).inc()
            elif kind is EventType.RESOLVED:
                took = (at - created_at).total_seconds()
                metrics.TIME_TO_RESOLUTION.labels(*labels, urgency.value).observe(took)

    def _sign_for_outcome(
        self, urgency: Urgency, assigned_at: datetime, at: datetime
    ) -> str | None:
        """``met`` in time; ``missed`` if late but before the first rung fired (which counts
        the miss itself, so that a task nobody signs for counts too); else ``None``."""
        policy = self._source.config.sla
        deadline = sign_for_deadline(policy, urgency, assigned_at)
        if at <= deadline:
            return "met"
        if at < deadline + _first_rung(policy).after:
            return "missed"
        return None


def _first_rung(policy: SlaPolicy) -> EscalationStep:
    """The ladder's first rung: it fires when a clock is missed (at once, usually)."""
    return min(policy.escalation, key=lambda s: (s.after, s.level))
