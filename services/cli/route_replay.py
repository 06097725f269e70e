"""``hotline route replay``: what new rules would have done with the tickets already taken.

A district changes its rules by editing a file; before it deploys the edit,
the dispatcher wants to know which requests would now land elsewhere. This
reads the ledger (never writes it), decides every ticket again under the new
file at the moment it was received, and compares with where the old rules
first sent it.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from hotline.shared.configuration.file import load_config
from hotline.shared.domain.events import EventType
from hotline.shared.domain.routing import (
    TRIAGE_OUTCOME,
    Rules,
    transfer_outcome,
    unit_outcome,
)
from hotline.shared.ledger import dispatch
from hotline.shared.ledger.readonly import LedgerUnavailable, reading
from hotline.shared.ledger.replay import first_routing, tickets_since
from hotline.shared.ledger.schema import Ticket

#: Tickets decided per read of their events (and per progress line).
_BATCH = 1000


@dataclass
class Replay:
    """The tally: how many tickets kept their outcome, and each move with examples."""

    examples_per_move: int
    replayed: int = 0
    unrouted: int = 0
    moves: Counter[tuple[str, str]] = field(default_factory=Counter)
    examples: dict[tuple[str, str], list[str]] = field(default_factory=dict)

    def add(self, ticket_id: str, before: str | None, after: str) -> None:
        """Count one ticket: ``before`` is None when the old rules never routed it."""
        if before is None:
            self.unrouted += 1
            return
        self.replayed += 1
        if before != after:
            self.moves[before, after] += 1
            shown = self.examples.setdefault((before, after), [])
            if len(shown) < self.examples_per_move:
                shown.append(ticket_id)

    @property
    def moved(self) -> int:
        return sum(self.moves.values())

    def as_dict(self) -> dict[str, object]:
        return {
            "replayed": self.replayed,
            "unchanged": self.replayed - self.moved,
            "moved": self.moved,
            "not_routed_yet": self.unrouted,
            "moves": [
                {"from": a, "to": b, "count": n, "examples": self.examples[a, b]}
                for (a, b), n in self.moves.most_common()
            ],
        }


def first_outcome(event_type: str, unit_id: str | None, data: dict[str, object]) -> str:
    """Where the first routing event says the ticket went."""
    if event_type == EventType.ASSIGNED.value and unit_id is not None:
        return unit_outcome(unit_id)
    if event_type == EventType.TRANSFER_REQUESTED.value:
        return transfer_outcome(str(data.get("district")))
    return TRIAGE_OUTCOME


def replay(
    session: Session,
    rules: Rules,
    since: datetime | None = None,
    examples: int = 3,
    progress: bool = False,
) -> Replay:
    """Decide every ticket again under ``router`` at the time it came in, and compare.

    Pools are decided as if every unit were idle: the open tasks of the past
    are not kept, so a move between members of one pool says little.
    """
    tally = Replay(examples)
    batch: list[Ticket] = []
    for ticket in tickets_since(session, since, _BATCH):
        batch.append(ticket)
        if len(batch) == _BATCH:
            _replay_batch(session, rules, batch, tally)
            batch.clear()
            if progress:
                print(f"replayed {tally.replayed + tally.unrouted} tickets ...", file=sys.stderr)
    _replay_batch(session, rules, batch, tally)
    return tally


def _replay_batch(session: Session, rules: Rules, batch: list[Ticket], tally: Replay) -> None:
    if not batch:
        return
    firsts = first_routing(session, [t.id for t in batch])
    for ticket in batch:
        decision = rules.decide(dispatch.route_request(ticket), now=ticket.created_at, load={})
        first = firsts.get(ticket.id)
        tally.add(ticket.id, first_outcome(*first) if first else None, decision.outcome)


def run(args: argparse.Namespace) -> int:
    """Replay the ledger under ``--config`` and print the tally; 2 when it cannot be read."""
    rules = Rules(load_config(args.config))
    try:
        since = datetime.fromisoformat(args.since).astimezone(UTC) if args.since else None
    except ValueError:
        print(
            f"hotline: --since {args.since!r} is not a date (2026-11-01 or ISO time)",
            file=sys.stderr,
        )
        return 2
    try:
        with reading(args.database) as session:
            tally = replay(session, rules, since, args.examples, progress=not args.json)
    except LedgerUnavailable as exc:
        print(f"hotline: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(tally.as_dict(), ensure_ascii=False, indent=2))
    else:
        print(_report(tally, args.config))
    return 0


def _report(tally: Replay, config: str) -> str:
    lines = [
        f"replayed {tally.replayed} tickets under {config}: "
        f"{tally.replayed - tally.moved} unchanged, {tally.moved} would go elsewhere"
        + (f" ({tally.unrouted} not routed yet, left out)" if tally.unrouted else "")
    ]
    for (before, after), count in tally.moves.most_common():
        lines.append(
            f"  {count:6d}  {before} -> {after}   e.g. {', '.join(tally.examples[before, after])}"
        )
    return "\n".join(lines)
