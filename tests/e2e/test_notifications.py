"""The running system (`hotline up`) tells people: an overdue task's unit leader gets a signed
webhook, the caller hears of the result through the SMS gateway's queue, and a dissatisfied
caller's ticket is reopened and routed to a unit again."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from hotline.shared.messaging.amqp import DeliveredTask, drain_queue, notify_queue
from tests.e2e.test_pipeline import submit, take, ticket
from tests.harness import start_embedded
from tests.integration.test_notifications import SECRET, Receiver

UNIT = "friendship-street"


def _edit(url: str) -> Callable[[str], str]:
    def edit(text: str) -> str:
        """Critical tasks must be signed for within 2 s; the unit's leader has a webhook."""
        edits = [
            ("critical: 10m", "critical: 2s"),
            (
                '      - {channel: sms, address: "+86-139-0315-1001", role: leader}\n',
                f"      - {{channel: webhook, address: {url!r}, role: leader}}\n",
            ),
        ]
        for old, new in edits:
            assert text.count(old) == 1, old
            text = text.replace(old, new)
        return text

    return edit


@pytest.mark.timeout(180)
def test_escalation_webhook_citizen_sms_and_reopen(tmp_path: Path) -> None:
    receiver = Receiver().start()
    system = start_embedded(tmp_path, _edit(receiver.url), env={"HOTLINE_WEBHOOK_SECRET": SECRET})
    api = f"{system.api}/api/v1/requests"
    try:
        ticket_id = submit(system, urgency="critical")
        assert len(take(system, UNIT, 1, within=15)) == 1
        deadline = time.monotonic() + 20
        while not receiver.hits and time.monotonic() < deadline:
            time.sleep(0.2)
        # the reminder (level 1, "unit") went to the desk's phone; the leader hears level 2
        assert [(h["ticket_id"], h["level"], h["roles"]) for h in receiver.hits] == [
            (ticket_id, 2, ["unit-leader"])
        ]
        assert receiver.bad_signatures == 0

        httpx.post(
            f"{api}/{ticket_id}/ack", json={"unit_id": UNIT}, headers=system.headers
        ).raise_for_status()
        resolved = {"unit_id": UNIT, "result": "Meals delivered"}
        httpx.post(
            f"{api}/{ticket_id}/resolve", json=resolved, headers=system.headers
        ).raise_for_status()
        sms: list[DeliveredTask] = []
        deadline = time.monotonic() + 20
        while not sms and time.monotonic() < deadline:
            sms += drain_queue(system.amqp_url, notify_queue(system.district, "sms"), timeout=0.5)
        assert [(m.payload["kind"], m.payload["ticket_id"]) for m in sms] == [
            ("resolved", ticket_id)
        ]

        answer = httpx.post(
            f"{api}/{ticket_id}/feedback",
            json={"result": "dissatisfied", "comment": "cold food"},
            headers=system.headers,
        )
        assert answer.status_code == 201, answer.text
        again = take(system, UNIT, 1, within=20)
        assert [(t.payload["ticket_id"], t.payload["attempt"]) for t in again] == [(ticket_id, 2)]
        shown = ticket(system, ticket_id)
        assert (shown["state"], shown["assignment"]["attempt"]) == ("assigned", 2)
        told = httpx.get(f"{api}/{ticket_id}/notifications", headers=system.headers).json()
        assert {(n["kind"], n["channel"]) for n in told} >= {
            ("escalation", "webhook"), ("escalation", "phone"), ("resolved", "sms"),
        }  # fmt: skip
        assert all(n["sent_at"] is not None for n in told if n["kind"] == "resolved")
    finally:
        system.stop()
        receiver.stop()
