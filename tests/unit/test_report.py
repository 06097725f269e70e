"""The bulletin's figures from ticket histories: what each count means, on small made-up days."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime, timedelta

import pytest

from hotline.cli.report import BadPeriod, parse_period, period_bounds, render, unit_kinds
from hotline.shared.configuration.file import load_config
from hotline.shared.domain.report import EventFact, TicketFacts, tally

T0 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
KINDS = {"friendship-street": "street-office", "transport-team": "special-team"}
DAY = date(2026, 11, 23)


def _at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def _ticket(n: int, events: list[EventFact], channel: str = "phone") -> TicketFacts:
    return TicketFacts(f"t{n}", channel, T0, [EventFact("received", T0), *events])


def _handled(n: int, unit: str = "friendship-street", **feedback: str) -> TicketFacts:
    """Assigned at 0, signed for at 10 min, progress at 30, resolved at 60 (and feedback)."""
    events = [
        EventFact("assigned", _at(0), 0, unit),
        EventFact("signed-for", _at(10), 0, unit),
        EventFact("progress-reported", _at(30), 0, unit),
        EventFact("resolved", _at(60), 0, unit),
    ]
    if feedback:
        events.append(EventFact("feedback-recorded", _at(90), 0, unit, feedback))
    return _ticket(n, events)


def test_a_day_is_counted_like_a_bulletin() -> None:
    tickets = [
        _handled(1, result="satisfied"),
        _handled(2, unit="transport-team", result="basically-satisfied"),
        _handled(3),
        # still with its unit, escalated twice (levels 1 and 2)
        _ticket(
            4,
            [
                EventFact("assigned", _at(0), 0, "friendship-street"),
                EventFact("escalated", _at(20), 0, "friendship-street", {"level": 1}),
                EventFact("escalated", _at(40), 0, "friendship-street", {"level": 2}),
            ],
            channel="web",
        ),
        # for the neighbour
        _ticket(5, [EventFact("transfer-requested", _at(1), 0, None, {"district": "lubei"})]),
        # waiting in triage
        _ticket(6, [EventFact("sent-to-triage", _at(1))]),
    ]
    report = tally(tickets, KINDS, start=DAY, end=DAY, district="lunan")
    figures = report.as_dict()
    assert figures["received"] == {"total": 6, "by_channel": {"phone": 5, "web": 1}}
    assert figures["given_to_units"] == {
        "total": 4,
        "by_kind": {"special-team": 1, "street-office": 3},
        "to_grass_roots": 3,
    }
    assert figures["transferred_to_other_districts"] == {"total": 1, "by_district": {"lubei": 1}}
    assert figures["completed"] == 3 and figures["completion_rate"] == 0.75
    assert figures["median_seconds"] == {
        "to_sign_for": 600.0,
        "to_first_response": 1800.0,
        "to_resolution": 3600.0,
    }
    assert figures["satisfaction"] == {
        "satisfied": 1,
        "basically-satisfied": 1,
        "dissatisfied": 0,
        "feedback": 2,
        "rate": 1.0,
    }
    assert figures["escalations"] == {"tickets": 1, "by_level": {"1": 1, "2": 1}}


def test_a_reopened_ticket_is_completed_only_when_resolved_again() -> None:
    unit = "friendship-street"
    first = [
        EventFact("assigned", _at(0), 0, unit),
        EventFact("signed-for", _at(5), 0, unit),
        EventFact("resolved", _at(20), 0, unit),
        EventFact("feedback-recorded", _at(30), 0, unit, {"result": "dissatisfied"}),
        EventFact("reopened", _at(30), 0, unit),
    ]
    second = [
        EventFact("assigned", _at(31), 1, unit),
        EventFact("signed-for", _at(41), 1, unit),
        EventFact("resolved", _at(120), 1, unit),
    ]
    open_again = tally([_ticket(1, first)], KINDS, start=DAY, end=DAY)
    assert (open_again.completed, open_again.reopened) == (0, 1)
    assert open_again.satisfaction_rate == 0.0
    done = tally([_ticket(1, first + second)], KINDS, start=DAY, end=DAY)
    assert (done.completed, done.to_units, done.reopened) == (1, 1, 1)
    # each task's sign-for counts, from its own assignment; resolution from receipt
    assert sorted(done.sign_for_seconds) == [300.0, 600.0]
    assert done.resolution_seconds == [7200.0]


def test_an_empty_period_has_no_rates_and_renders_in_every_format() -> None:
    report = tally([], KINDS, start=DAY, end=DAY, district="lunan")
    assert report.completion_rate is None and report.satisfaction_rate is None
    figures = json.loads(render(report, "json", "Lunan"))
    assert figures["received"]["total"] == 0 and figures["median_seconds"]["to_resolution"] is None
    assert "| received | total | 0 |" in render(report, "md", "Lunan")
    assert render(report, "csv", "Lunan").splitlines()[:2] == [
        "section,figure,value",
        "received,total,0",
    ]


def test_first_contact_answers_are_counted_apart_from_the_units_work() -> None:
    answered = TicketFacts("t1", "phone", T0, [EventFact("resolved-at-intake", T0)])
    report = tally([answered, _handled(2)], KINDS, start=DAY, end=DAY)
    assert (report.received, report.first_contact, report.to_units) == (2, 1, 1)
    assert report.completed == 1 and report.completion_rate == 1.0
    assert "| first contact | answered at first contact | 1 |" in render(report, "md", "Lunan")


def test_md_reads_like_a_bulletin() -> None:
    report = tally([_handled(1, result="satisfied"), _handled(2)], KINDS, start=DAY, end=DAY)
    text = render(report, "md", "Lunan District service office")
    assert text.startswith("# Lunan District service office: hotline figures, 2026-11-23")
    assert "Received 2 requests" in text
    assert "2 given to units: 2 to grass-roots units (2 street-office);" in text
    assert "a completion rate of 100.0%" in text
    assert "| median times | to sign-for | 10m 00s |" in text
    assert "| median times | to resolution | 1h 00m |" in text


def test_the_period_is_whole_days_in_the_districts_zone() -> None:
    config = load_config(None)
    start, end = parse_period("2026-11-01", "2026-11-30")
    low, high = period_bounds(config, start, end)
    assert low == datetime(2026, 10, 31, 16, 0, tzinfo=UTC)  # Asia/Shanghai midnight
    assert high == datetime(2026, 11, 30, 16, 0, tzinfo=UTC)
    assert unit_kinds(config)["nuzhi-town"] == "town"
    with pytest.raises(BadPeriod, match="--from 2026-12-01 is after --to 2026-11-30"):
        parse_period("2026-12-01", "2026-11-30")
    with pytest.raises(BadPeriod, match="--to '30/11/2026' is not a date"):
        parse_period("2026-11-01", "30/11/2026")


def _seeds_period() -> list[TicketFacts]:
    """A period shaped like the seeds' Changchun bulletin: 1,569 received, 1,187 answered at
    first contact, 382 transferred (298 to special teams, 84 to grass-roots units: here 50
    street offices, 20 towns, 14 other grass-roots units), 250 completed."""
    kinds = [("transport-team", 298), ("friendship-street", 50), ("nuzhi-town", 20), ("grid", 14)]
    tickets = [
        TicketFacts(f"a{n}", "phone", T0, [EventFact("resolved-at-intake", T0)])
        for n in range(1187)
    ]
    done = 250
    for unit, count in kinds:
        for n in range(count):
            events = [EventFact("received", T0), EventFact("assigned", _at(1), 0, unit)]
            if done:  # the first 250 given to units are completed
                events.append(EventFact("resolved", _at(90), 0, unit))
                done -= 1
            tickets.append(TicketFacts(f"{unit}-{n}", "phone", T0, events))
    return tickets


def test_a_period_like_the_seeds_bulletin_prints_its_figures() -> None:
    kinds = KINDS | {"nuzhi-town": "town", "grid": "grass-roots"}
    report = tally(_seeds_period(), kinds, start=DAY, end=DAY, district="changchun")
    text = render(report, "md", "Changchun community control hotline")
    assert (
        "Received 1,569 requests, 1,187 answered at first contact; 382 given to units: "
        "298 to special-team, 84 to grass-roots units (14 grass-roots, 50 street-office, "
        "20 town); 250 completed, a completion rate of 65.4%."
    ) in text
    for row in (
        "| received | total | 1569 |",
        "| first contact | answered at first contact | 1187 |",
        "| units | given to units | 382 |",
        "| units | kind special-team | 298 |",
        "| units | kind street-office | 50 |",
        "| units | to grass-roots units (street office, town, grass-roots) | 84 |",
        "| completion | completed | 250 |",
        "| completion | completion rate | 65.4% |",
    ):
        assert row in text.splitlines(), row
    rows = list(csv.reader(io.StringIO(render(report, "csv", "Changchun"))))
    assert ["units", "to grass-roots units (street office, town, grass-roots)", "84"] in rows
    assert ["completion", "completion rate", "0.6545"] in rows
    figures = json.loads(render(report, "json", "Changchun"))
    assert figures["given_to_units"]["to_grass_roots"] == 84
    assert figures["received"]["total"] == (
        figures["answered_at_first_contact"] + figures["given_to_units"]["total"]
    )
