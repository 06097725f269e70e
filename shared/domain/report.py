"""The figures a hotline publishes for a period, from each ticket's history.

Bulletins such as the seeds' ("received 1,569, of which 1,187 answered at first
contact and 382 transferred: 298 to special teams, 84 to grass-roots units;
250 completed"; "more than 500 received, a completion rate of eighty percent")
count tickets received in the period, with what has happened to them since.
This module is pure: the ledger adapter hands it each ticket's channel, state
and events, the district file the kind of each unit, and it counts.

Definitions, so that two bulletins say the same thing:

* answered at first contact: the call-taker resolved it at intake (a
  ``resolved-at-intake`` event); no unit was asked.
* given to units, by kind: tickets assigned to a unit at least once, by the
  kind of the first unit (street office, town, department, special team,
  grass-roots); observer copies are not counted.
* to grass-roots units: those of them whose first unit is a street office, a
  town or another grass-roots unit, the level the seeds' bulletin means by
  "transferred to the grass-roots level" (beside its special teams).
* transferred to other districts: tickets a peer district's intake was asked
  to take, by peer.
* completed: tickets whose last word is a unit's resolution (a dissatisfied
  citizen's reopening undoes it until the next one).
* completion rate: completed ÷ given to units.
* median times: to sign-for and to first response (a progress report or the
  resolution) from each task's assignment; to resolution from receipt.
* satisfaction rate: (satisfied + basically satisfied) ÷ feedback recorded.
* escalations by level: every escalation step that fired (a repeat counts
  again), and how many tickets had at least one.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from hotline.shared.domain.events import EventType

SATISFACTION = ("satisfied", "basically-satisfied", "dissatisfied")
UNKNOWN_KIND = "unknown"
#: The kinds of unit a bulletin counts together as "the grass-roots level".
GRASS_ROOTS_KINDS = ("street-office", "town", "grass-roots")
GRASS_ROOTS = "to grass-roots units (street office, town, grass-roots)"


@dataclass(frozen=True)
class EventFact:
    """One event of a ticket, as the report needs it."""

    type: str
    at: datetime
    attempt: int = 0
    unit_id: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TicketFacts:
    """One ticket received in the period: how it came, and what happened to it since."""

    id: str
    channel: str
    created_at: datetime
    events: Sequence[EventFact]


@dataclass
class Report:
    """The period's figures; ``as_rows`` lists them one per line, in bulletin order."""

    start: date
    end: date
    district: str
    received: int = 0
    by_channel: Counter[str] = field(default_factory=Counter)
    first_contact: int = 0
    to_units: int = 0
    by_kind: Counter[str] = field(default_factory=Counter)
    transferred: int = 0
    by_peer: Counter[str] = field(default_factory=Counter)
    completed: int = 0
    reopened: int = 0
    sign_for_seconds: list[float] = field(default_factory=list)
    first_response_seconds: list[float] = field(default_factory=list)
    resolution_seconds: list[float] = field(default_factory=list)
    satisfaction: Counter[str] = field(default_factory=Counter)
    escalations: Counter[int] = field(default_factory=Counter)
    escalated_tickets: int = 0

    @property
    def completion_rate(self) -> float | None:
        return self.completed / self.to_units if self.to_units else None

    @property
    def to_grass_roots(self) -> int:
        """Tickets whose first unit is at the grass-roots level (see GRASS_ROOTS_KINDS)."""
        return sum(self.by_kind[kind] for kind in GRASS_ROOTS_KINDS)

    @property
    def feedback(self) -> int:
        return sum(self.satisfaction.values())

    @property
    def satisfaction_rate(self) -> float | None:
        good = self.satisfaction["satisfied"] + self.satisfaction["basically-satisfied"]
        return good / self.feedback if self.feedback else None

    def as_dict(self) -> dict[str, Any]:
        """The figures for machines: counts, rates as fractions (null when undefined), seconds."""
        return {
            "district": self.district,
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "received": {
                "total": self.received,
                "by_channel": dict(sorted(self.by_channel.items())),
            },
            "answered_at_first_contact": self.first_contact,
            "given_to_units": {
                "total": self.to_units,
                "by_kind": dict(sorted(self.by_kind.items())),
                "to_grass_roots": self.to_grass_roots,
            },
            "transferred_to_other_districts": {
                "total": self.transferred,
                "by_district": dict(sorted(self.by_peer.items())),
            },
            "completed": self.completed,
            "completion_rate": _round(self.completion_rate),
            "reopened": self.reopened,
            "median_seconds": {
                "to_sign_for": _median(self.sign_for_seconds),
                "to_first_response": _median(self.first_response_seconds),
                "to_resolution": _median(self.resolution_seconds),
            },
            "satisfaction": {
                **{s: self.satisfaction[s] for s in SATISFACTION},
                "feedback": self.feedback,
                "rate": _round(self.satisfaction_rate),
            },
            "escalations": {
                "tickets": self.escalated_tickets,
                "by_level": {str(lv): n for lv, n in sorted(self.escalations.items())},
            },
        }

    def as_rows(self) -> list[tuple[str, str, float | int | None]]:
        """(section, figure, value) rows: counts, rates as fractions, medians in seconds."""
        rows: list[tuple[str, str, float | int | None]] = [("received", "total", self.received)]
        rows += [("received", f"channel {c}", n) for c, n in sorted(self.by_channel.items())]
        rows.append(("first contact", "answered at first contact", self.first_contact))
        rows.append(("units", "given to units", self.to_units))
        rows += [("units", f"kind {k}", n) for k, n in sorted(self.by_kind.items())]
        rows.append(("units", GRASS_ROOTS, self.to_grass_roots))
        rows.append(("transfers", "transferred to other districts", self.transferred))
        rows += [("transfers", f"to {p}", n) for p, n in sorted(self.by_peer.items())]
        rows += [
            ("completion", "completed", self.completed),
            ("completion", "completion rate", _round(self.completion_rate)),
            ("completion", "reopened by the citizen", self.reopened),
            ("median times", "to sign-for (s)", _median(self.sign_for_seconds)),
            ("median times", "to first response (s)", _median(self.first_response_seconds)),
            ("median times", "to resolution (s)", _median(self.resolution_seconds)),
            ("satisfaction", "feedback recorded", self.feedback),
        ]
        rows += [("satisfaction", s, self.satisfaction[s]) for s in SATISFACTION]
        rows.append(("satisfaction", "satisfaction rate", _round(self.satisfaction_rate)))
        rows.append(("escalations", "tickets escalated", self.escalated_tickets))
        rows += [("escalations", f"level {lv}", n) for lv, n in sorted(self.escalations.items())]
        return rows


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def tally(
    tickets: Iterable[TicketFacts],
    unit_kinds: Mapping[str, str],
    *,
    start: date,
    end: date,
    district: str = "",
) -> Report:
    """Count the period's tickets the way a bulletin does (see the module's definitions)."""
    report = Report(start=start, end=end, district=district)
    for ticket in tickets:
        _count(report, ticket, unit_kinds)
    return report


def _count(report: Report, ticket: TicketFacts, unit_kinds: Mapping[str, str]) -> None:
    report.received += 1
    report.by_channel[ticket.channel] += 1
    story = _Story(report)
    for event in sorted(ticket.events, key=lambda e: e.at):
        reader = _READERS.get(event.type)
        if reader is not None:
            reader(story, event)
    story.close(ticket, unit_kinds)


@dataclass
class _Story:
    """What one ticket's events say so far, read in order; each event that counts by
    itself (a feedback, an escalation step) goes straight into the report."""

    report: Report
    assigned_at: dict[int, datetime] = field(default_factory=dict)
    responded: set[int] = field(default_factory=set)
    first_unit: str | None = None
    peer: str | None = None
    settled_at: datetime | None = None  # the last resolution, unless reopened after it
    escalated: bool = False

    def resolved_at_intake(self, event: EventFact) -> None:
        self.report.first_contact += 1

    def assigned(self, event: EventFact) -> None:
        self.assigned_at.setdefault(event.attempt, event.at)
        if self.first_unit is None and event.unit_id is not None:
            self.first_unit = event.unit_id

    def transfer_requested(self, event: EventFact) -> None:
        if self.peer is None:
            self.peer = str(event.data.get("district") or UNKNOWN_KIND)

    def signed_for(self, event: EventFact) -> None:
        if event.attempt in self.assigned_at:
            self.report.sign_for_seconds.append(_seconds(self.assigned_at[event.attempt], event.at))

    def progress_reported(self, event: EventFact) -> None:
        """The task's first response, if it is the first word since its assignment."""
        if event.attempt in self.assigned_at and event.attempt not in self.responded:
            self.responded.add(event.attempt)
            since = self.assigned_at[event.attempt]
            self.report.first_response_seconds.append(_seconds(since, event.at))

    def resolved(self, event: EventFact) -> None:
        """A resolution is a response too, and settles the ticket until it is reopened."""
        self.progress_reported(event)
        self.settled_at = event.at

    def reopened(self, event: EventFact) -> None:
        self.report.reopened += 1
        self.settled_at = None

    def feedback_recorded(self, event: EventFact) -> None:
        self.report.satisfaction[str(event.data.get("result"))] += 1

    def escalated_step(self, event: EventFact) -> None:
        self.escalated = True
        self.report.escalations[int(event.data.get("level") or 0)] += 1

    def close(self, ticket: TicketFacts, unit_kinds: Mapping[str, str]) -> None:
        """Count what the whole story came to: its first unit, its transfer, its completion."""
        report = self.report
        if self.first_unit is not None:
            report.to_units += 1
            report.by_kind[unit_kinds.get(self.first_unit, UNKNOWN_KIND)] += 1
        if self.peer is not None:
            report.transferred += 1
            report.by_peer[self.peer] += 1
        if self.settled_at is not None:
            report.completed += 1
            report.resolution_seconds.append(_seconds(ticket.created_at, self.settled_at))
        report.escalated_tickets += self.escalated


#: What each kind of event the report counts does to the story; other kinds count for nothing.
_READERS: dict[str, Callable[[_Story, EventFact], None]] = {
    EventType.RESOLVED_AT_INTAKE: _Story.resolved_at_intake,
    EventType.ASSIGNED: _Story.assigned,
    EventType.TRANSFER_REQUESTED: _Story.transfer_requested,
    EventType.SIGNED_FOR: _Story.signed_for,
    EventType.PROGRESS_REPORTED: _Story.progress_reported,
    EventType.RESOLVED: _Story.resolved,
    EventType.REOPENED: _Story.reopened,
    EventType.FEEDBACK_RECORDED: _Story.feedback_recorded,
    EventType.ESCALATED: _Story.escalated_step,
}


def _seconds(start: datetime, end: datetime) -> float:
    return max((end - start).total_seconds(), 0.0)
