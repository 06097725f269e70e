"""``hotline report`` over a real ledger: the handlers write a day, the adapter reads it back on
both engines, and the command prints it from a SQLite file (with clear refusals)."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine

from hotline.cli.report import period_bounds, unit_kinds
from hotline.intake.feedback import record_feedback
from hotline.intake.feedback_schemas import Feedback, Satisfaction
from hotline.intake.requests import submit
from hotline.intake.schemas import Resolve, SignFor
from hotline.intake.sla_schemas import Progress
from hotline.intake.unit_tasks import report_progress, resolve, sign_for
from hotline.notifier.escalations import fire_due
from hotline.router.decisions import RouteCommand, route
from hotline.shared.domain.report import tally
from hotline.shared.ledger.engine import make_engine, make_sessions, migrate
from hotline.shared.ledger.report import period_tickets
from tests.harness import HOTLINE
from tests.integration.test_ledger_flow import CONFIG, ROUTER, _request

#: 09:00 on 23 November in Lunan (Asia/Shanghai).
T0 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
DAY = date(2026, 11, 23)
MINUTE = timedelta(minutes=1)


def _new(engine: Engine, at: datetime, **overrides: object) -> str:
    with make_sessions(engine).begin() as s:
        ticket_id = submit(s, ROUTER, _request(**overrides), at).ticket.id
        route(s, ROUTER, RouteCommand(ticket_id, 0), at)
    return ticket_id


def _fill(engine: Engine) -> None:
    """One day in Lunan: two handled (one rated), one left to escalate, one for the neighbour,
    one answered on the spot, and one from the day before that the period leaves out."""
    sessions = make_sessions(engine)
    for n, result in enumerate([Satisfaction.SATISFIED, None]):
        ticket_id = _new(engine, T0 + n * MINUTE)  # food in Friendship Street
        unit = "friendship-street"
        with sessions.begin() as s:
            sign_for(s, ticket_id, SignFor(unit_id=unit), T0 + 10 * MINUTE)
        with sessions.begin() as s:
            note = Progress(unit_id=unit, note="called the caller")
            report_progress(s, ticket_id, note, T0 + 20 * MINUTE)
        with sessions.begin() as s:
            body = Resolve(unit_id=unit, result="Food delivered")
            resolve(s, ticket_id, body, T0 + 60 * MINUTE, CONFIG)
        if result is not None:
            with sessions.begin() as s:
                record_feedback(s, CONFIG, ticket_id, Feedback(result=result), T0 + 90 * MINUTE)
    _new(
        engine,
        T0,
        category="mobility.stranded",
        channel="web",
        location={"area_code": "130202002", "address": "Station"},
    )
    with sessions.begin() as s:
        assert fire_due(s, T0 + timedelta(hours=3), CONFIG), "the silent team's clock ran out"
    _new(engine, T0, location={"area_code": "130203001", "address": "Lubei"})
    with sessions.begin() as s:
        answered = _request(category="consult", resolved_at_intake=True, answer="Explained it")
        submit(s, ROUTER, answered, T0)
    _new(engine, T0 - timedelta(days=1))


def test_a_day_read_from_the_ledger(ledger: Engine) -> None:
    _fill(ledger)
    low, high = period_bounds(CONFIG, DAY, DAY)
    with make_sessions(ledger)() as s:
        report = tally(
            period_tickets(s, low, high, batch=2), unit_kinds(CONFIG), start=DAY, end=DAY
        )
    figures = report.as_dict()
    assert figures["received"] == {"total": 5, "by_channel": {"phone": 4, "web": 1}}
    assert figures["answered_at_first_contact"] == 1
    assert figures["given_to_units"] == {
        "total": 3,
        "by_kind": {"special-team": 1, "street-office": 2},
        "to_grass_roots": 2,
    }
    assert figures["transferred_to_other_districts"] == {"total": 1, "by_district": {"lubei": 1}}
    assert (figures["completed"], figures["completion_rate"]) == (2, round(2 / 3, 4))
    assert figures["median_seconds"]["to_sign_for"] == 570.0  # 10 and 9 minutes
    assert figures["median_seconds"]["to_first_response"] == 1170.0
    assert figures["median_seconds"]["to_resolution"] == 3570.0
    assert figures["satisfaction"]["satisfied"] == 1 and figures["satisfaction"]["rate"] == 1.0
    assert figures["escalations"]["tickets"] == 1 and figures["escalations"]["by_level"]


def test_the_command_prints_every_format_and_refuses_clearly(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    engine = make_engine(url)
    migrate(engine)
    _fill(engine)
    engine.dispose()

    def report(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [HOTLINE, "report", "--database", url, *args], capture_output=True, text=True
        )

    shown = report("--from", "2026-11-23", "--to", "2026-11-23", "--format", "json")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["received"]["total"] == 5
    both = json.loads(
        report("--from", "2026-11-22", "--to", "2026-11-23", "--format", "json").stdout
    )
    assert both["received"]["total"] == 6
    md = report("--from", "2026-11-23", "--to", "2026-11-23").stdout
    assert "Received 5 requests, 1 answered at first contact;" in md
    assert "| completion | completed | 2 |" in md
    rows = report("--from", "2026-11-23", "--to", "2026-11-23", "--format", "csv").stdout
    assert "units,kind street-office,2" in rows.splitlines()

    backwards = report("--from", "2026-11-24", "--to", "2026-11-23")
    assert backwards.returncode == 2 and "--from 2026-11-24 is after --to 2026-11-23" in (
        backwards.stderr
    )
    bad = report("--from", "yesterday", "--to", "2026-11-23")
    assert bad.returncode == 2 and "--from 'yesterday' is not a date" in bad.stderr
    gone = subprocess.run(
        [HOTLINE, "report", "--from", "2026-11-23", "--to", "2026-11-23", "--database",
         f"sqlite:///{tmp_path / 'nowhere.sqlite'}"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert gone.returncode == 2 and "no ledger at" in gone.stderr
    assert not (tmp_path / "nowhere.sqlite").exists()
    (tmp_path / "empty.sqlite").write_bytes(b"")
    empty = subprocess.run(
        [HOTLINE, "report", "--from", "2026-11-23", "--to", "2026-11-23", "--database",
         f"sqlite:///{tmp_path / 'empty.sqlite'}"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert empty.returncode == 2 and "is it a hotline ledger?" in empty.stderr
