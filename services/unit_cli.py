"""``hotline unit listen``: a unit without software of its own reads its queue here."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path
from types import FrameType
from typing import Any

from hotline.shared.amqp import DeliveredTask, UnitQueueConsumer
from hotline.shared.config_file import load_config


def _embedded_queues() -> str:
    return f"sqla+sqlite:///{Path('var/queues.sqlite').resolve()}"


def format_task(task: DeliveredTask) -> str:
    """One task as a unit's operator reads it; a repeat is marked as such."""
    body: dict[str, Any] = task.payload
    location = body.get("location") or {}
    caller = body.get("caller") or {}
    place = location.get("address") or location.get("area_code") or "(no address)"
    lines = [
        f"{'AGAIN ' if task.redelivered else ''}task {body.get('ticket_id')} "
        f"[{body.get('urgency')}] {body.get('category')}",
        f"  where:   {place}",
        f"  caller:  {caller.get('name')} {caller.get('phone')}",
        f"  what:    {body.get('description')}",
        f"  sign for by {body.get('sign_for_by')}  (rule: {body.get('rule')})",
    ]
    return "\n".join(lines)


def listen(unit_id: str, amqp_url: str | None, config_path: str | None) -> int:
    """Print each task as it arrives until Ctrl-C; acknowledge it once printed."""
    config = load_config(config_path or os.environ.get("HOTLINE_CONFIG"))
    if unit_id not in config.unit_ids:
        print(
            f"hotline: no unit {unit_id!r} in district {config.district}; "
            f"units: {', '.join(config.unit_ids)}",
            file=sys.stderr,
        )
        return 1
    url = amqp_url or os.environ.get("HOTLINE_AMQP_URL") or _embedded_queues()
    stopping = False

    def stop(_sig: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    consumer = UnitQueueConsumer(url, config.district, unit_id)
    print(f"listening to {config.district}.unit.{unit_id} (Ctrl-C to stop)", flush=True)
    try:
        while not stopping:
            for task in consumer.iterate(timeout=0.5):
                print(format_task(task), flush=True)
    finally:
        consumer.close()
    return 0
