"""``hotline route replay``: new rules run over the ledger's tickets, compared with where the old
rules sent them; in-process on both engines, and as the real command on a SQLite ledger."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine

from hotline.cli.route_replay import replay
from hotline.intake.requests import submit
from hotline.router.decisions import RouteCommand, route
from hotline.shared.configuration.file import EXAMPLE, parse_config
from hotline.shared.domain.routing import Rules
from hotline.shared.ledger.engine import make_engine, make_sessions, migrate
from tests.harness import HOTLINE
from tests.integration.test_ledger_flow import ROUTER, _request

T0 = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
#: The new rules: Friendship Street's requests go to the service office instead.
NEW_TEXT = EXAMPLE.read_text(encoding="utf-8").replace(
    'match: {area: "130202001"}, unit: friendship-street',
    'match: {area: "130202001"}, unit: service-office',
)
FRIENDSHIP = {"area_code": "130202001001", "address": "Xinhua Community"}
XUEYUAN = {"area_code": "130202002", "address": "Xueyuan Street"}


def _fill(engine: Engine) -> dict[str, list[str]]:
    """Three food requests in Friendship Street, two in Xueyuan Street, one not routed yet."""
    ids: dict[str, list[str]] = {"friendship": [], "xueyuan": [], "waiting": []}
    sessions = make_sessions(engine)
    for where, location in [("friendship", FRIENDSHIP)] * 3 + [("xueyuan", XUEYUAN)] * 2:
        with sessions.begin() as s:
            ticket_id = submit(s, ROUTER, _request(location=location), T0).ticket.id
            route(s, ROUTER, RouteCommand(ticket_id, 0), T0)
        ids[where].append(ticket_id)
    with sessions.begin() as s:
        ids["waiting"].append(submit(s, ROUTER, _request(), T0).ticket.id)
    return ids


def test_replay_counts_the_moves_with_examples(ledger: Engine) -> None:
    assert "unit: service-office" in NEW_TEXT
    ids = _fill(ledger)
    new = Rules(parse_config(NEW_TEXT, "new.yaml"))
    with make_sessions(ledger)() as s:
        same = replay(s, ROUTER).as_dict()
        moved = replay(s, new, examples=2).as_dict()
    assert (same["replayed"], same["moved"], same["not_routed_yet"]) == (5, 0, 1)
    assert (moved["replayed"], moved["unchanged"], moved["moved"]) == (5, 2, 3)
    [move] = moved["moves"]
    assert (move["from"], move["to"], move["count"]) == (
        "unit friendship-street",
        "unit service-office",
        3,
    )
    assert len(move["examples"]) == 2 and set(move["examples"]) <= set(ids["friendship"])


def test_the_command_reads_a_ledger_and_writes_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    engine = make_engine(url)
    migrate(engine)
    _fill(engine)
    engine.dispose()
    before = (tmp_path / "ledger.sqlite").read_bytes()
    new = tmp_path / "new.yaml"
    new.write_text(NEW_TEXT, encoding="utf-8")
    args = ["route", "replay", "--config", str(new), "--database", url]
    shown = subprocess.run([HOTLINE, *args, "--json"], capture_output=True, text=True, check=True)
    assert json.loads(shown.stdout)["moved"] == 3
    text = subprocess.run([HOTLINE, *args], capture_output=True, text=True, check=True).stdout
    assert "3 would go elsewhere" in text
    assert "unit friendship-street -> unit service-office" in text
    assert (tmp_path / "ledger.sqlite").read_bytes() == before

    missing = subprocess.run(
        [HOTLINE, "route", "replay", "--database", f"sqlite:///{tmp_path / 'none.sqlite'}"],
        capture_output=True,
        text=True,
    )
    assert missing.returncode == 2 and "no ledger at" in missing.stderr
