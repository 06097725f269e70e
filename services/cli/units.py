"""``hotline unit listen``: a unit without software of its own reads its queue here,
and with ``--interactive`` also acts on each task through the API with its own token."""

from __future__ import annotations

import os
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import IO, Any

from hotline.shared.configuration.file import load_config
from hotline.shared.messaging.amqp import DeliveredTask, UnitQueueConsumer


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


HELP = """commands (N is a task's number in brackets, or its ticket id):
  list                  the tasks this unit holds now
  sign N                sign for a task
  progress N TEXT       report progress on a task signed for
  return N REASON       hand a task back: it is not this unit's
  resolve N RESULT      finish a task with the result the citizen is told
  help, quit"""

#: command -> (API action, the body's text field, what the command needs)
ACTIONS = {
    "sign": ("ack", None),
    "progress": ("progress", "note"),
    "return": ("return", "reason"),
    "resolve": ("resolve", "result"),
}


class Console:
    """The operator's side: numbered tasks, commands in, answers out, one line at a time."""

    def __init__(self, api: str, token: str, unit_id: str, out: IO[str]) -> None:
        import httpx

        self._client = httpx.Client(
            base_url=api, headers={"authorization": f"Bearer {token}"}, timeout=15
        )
        self._unit = unit_id
        self._out = out
        self._lock = threading.Lock()
        self._numbers: dict[str, int] = {}
        self._ids: list[str] = []

    def say(self, text: str) -> None:
        with self._lock:
            print(text, file=self._out, flush=True)

    def number(self, ticket_id: str) -> int:
        with self._lock:
            if ticket_id not in self._numbers:
                self._ids.append(ticket_id)
                self._numbers[ticket_id] = len(self._ids)
            return self._numbers[ticket_id]

    def arrived(self, task: DeliveredTask) -> None:
        n = self.number(str(task.payload.get("ticket_id")))
        self.say(f"[{n}] {format_task(task)}")

    def _ticket(self, ref: str) -> str | None:
        with self._lock:
            if ref.isdigit() and 0 < int(ref) <= len(self._ids):
                return self._ids[int(ref) - 1]
        return ref if len(ref) > 8 else None

    def _refused(self, answer: Any) -> str:
        try:
            body = answer.json()
        except ValueError:
            return f"refused: {answer.status_code}"
        detail = body.get("detail")
        if isinstance(detail, list):
            detail = "; ".join(f"{'.'.join(map(str, d['loc'][1:]))}: {d['msg']}" for d in detail)
        state = f" (now {body['state']})" if "state" in body else ""
        return f"refused: {answer.status_code} {detail}{state}"

    def check(self) -> str | None:
        """None when the token may list this unit's tasks; else why not. Shows what it holds."""
        answer = self._client.get("/api/v1/requests", params={"unit": self._unit})
        if answer.status_code != 200:
            return self._refused(answer)
        for task in answer.json():
            n = self.number(task["id"])
            self.say(
                f"[{n}] held: {task['id']} [{task['urgency']}] {task['category']} "
                f"({task['state']}) {task['address'] or task['area_code'] or ''}"
            )
        return None

    def run(self, line: str) -> bool:
        """Do one command; False when the operator quits."""
        words = line.strip().split(maxsplit=2)
        if not words:
            return True
        command = words[0].lower()
        if command in ("quit", "exit"):
            return False
        if command == "help":
            self.say(HELP)
            return True
        if command == "list":
            problem = self.check()
            if problem:
                self.say(problem)
            return True
        if command not in ACTIONS or len(words) < 2:
            self.say(f"? {line.strip()!r}: type help")
            return True
        action, field = ACTIONS[command]
        ticket_id = self._ticket(words[1])
        if ticket_id is None:
            self.say(f"no task [{words[1]}]")
            return True
        body: dict[str, str] = {}
        if field is not None:
            if len(words) < 3:
                self.say(f"{command} N {field.upper()}: say the {field}")
                return True
            body[field] = words[2]
        answer = self._client.post(f"/api/v1/requests/{ticket_id}/{action}", json=body)
        if answer.status_code == 200:
            n = self.number(ticket_id)
            self.say(f"ok: [{n}] {answer.json()['state']}")
        else:
            self.say(self._refused(answer))
        return True

    def close(self) -> None:
        self._client.close()


def interactive(
    unit_id: str, amqp_url: str | None, config_path: str | None, api: str, token: str | None
) -> int:
    """Show tasks as they arrive and read the operator's commands from stdin until quit or EOF."""
    config = load_config(config_path or os.environ.get("HOTLINE_CONFIG"))
    if unit_id not in config.unit_ids:
        print(f"hotline: no unit {unit_id!r} in district {config.district}", file=sys.stderr)
        return 1
    token = token or os.environ.get("HOTLINE_TOKEN")
    if not token:
        print("hotline: give the unit's token: --token or HOTLINE_TOKEN", file=sys.stderr)
        return 1
    console = Console(api, token, unit_id, sys.stdout)
    problem = console.check()
    if problem is not None:
        print(f"hotline: the API refused the token for unit {unit_id}: {problem}", file=sys.stderr)
        console.close()
        return 1
    url = amqp_url or os.environ.get("HOTLINE_AMQP_URL") or _embedded_queues()
    stop = threading.Event()

    def consume() -> None:
        consumer = UnitQueueConsumer(url, config.district, unit_id)
        try:
            while not stop.is_set():
                for task in consumer.iterate(timeout=0.5):
                    console.arrived(task)
        finally:
            consumer.close()

    reader = threading.Thread(target=consume, name="queue", daemon=True)
    reader.start()
    console.say(f"listening to {config.district}.unit.{unit_id}; type help")
    try:
        for line in sys.stdin:
            if not console.run(line):
                break
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        reader.join(timeout=5)
        console.close()
    return 0
