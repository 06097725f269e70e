"""Two districts side by side: a request that belongs to the neighbour reaches it, even when
the neighbour is down at first, and never twice."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from hotline.shared.domain.access import hash_token, new_token
from tests.e2e.test_pipeline import submit, ticket
from tests.harness import System, free_port, start_embedded

LUBEI = Path(__file__).parents[2] / "deploy" / "compose" / "districts" / "lubei" / "district.yaml"
#: A community of Lubei's, which the Lunan example lists as its peer's area.
IN_LUBEI = "130203001001"


def wait_for(what: str, probe: Callable[[], Any], within: float) -> Any:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        got = probe()
        if got:
            return got
        time.sleep(0.2)
    raise AssertionError(f"{what}: not within {within}s")


def failed_tries(system: System) -> float:
    text = httpx.get(f"{system.api}/metrics", timeout=10).text
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "hotline_transfers_total" and sample.labels["outcome"] == "failed-try"
    )


def test_a_request_for_the_neighbour_waits_while_it_is_down_then_reaches_it_once(
    tmp_path: Path,
) -> None:
    (tmp_path / "lunan").mkdir()
    (tmp_path / "lubei").mkdir()
    peer_port, peer_id = free_port(), f"b{uuid.uuid4().hex[:8]}"
    # The peer's intake lets Lunan's router in with a call-taker token of its own.
    peer_token = new_token()
    peer_tokens = {"HOTLINE_TOKENS": f"lunan-router:call-taker:{hash_token(peer_token)}"}

    def point_at_peer(text: str) -> str:
        # Lunan's example names its peer "lubei" on port 8090; the peer here has a test id.
        text = text.replace("district: lubei,", f"district: {peer_id},")
        return text.replace("http://127.0.0.1:8090", f"http://127.0.0.1:{peer_port}")

    # Lunan's router finds that token where the example's token_env says, in its environment.
    lunan_env = {"HOTLINE_PEER_TOKEN_LUBEI": peer_token}
    lunan = start_embedded(tmp_path / "lunan", point_at_peer, env=lunan_env)
    lubei: System | None = None
    try:
        ticket_id = submit(lunan, location={"area_code": IN_LUBEI, "address": "Xingfu Community"})
        pending = wait_for(
            "transfer-pending while the peer is down",
            lambda: ticket(lunan, ticket_id)["state"] == "transfer-pending",
            30,
        )
        assert pending
        wait_for("a failed try counted", lambda: failed_tries(lunan) >= 1, 30)

        lubei = start_embedded(
            tmp_path / "lubei", example=LUBEI, district=peer_id, port=peer_port, env=peer_tokens
        )
        done = wait_for(
            "transferred once the peer is up",
            lambda: (t := ticket(lunan, ticket_id))["state"] == "transferred" and t,
            120,
        )
        theirs = ticket(lubei, done["peer_ticket_id"])
        assert theirs["district"] == lubei.district
        assert theirs["category"] == "supplies.food"
        assert theirs["area_code"] == IN_LUBEI
        assert theirs["state"] != "transfer-pending"  # theirs to route: it is in their district

        # A retry of the same transfer (say the answer was lost) makes no second ticket there.
        again = httpx.post(
            f"{lubei.api}/api/v1/requests",
            json=_as_request(theirs) | {"district": lubei.district},
            headers={"Idempotency-Key": f"{lunan.district}:{ticket_id}"} | lubei.headers,
            timeout=10,
        )
        assert again.status_code == 200, again.text
        assert again.json()["id"] == done["peer_ticket_id"]
    finally:
        for system in (lubei, lunan):
            if system is not None:
                system.stop()


def _as_request(shown: dict[str, Any]) -> dict[str, Any]:
    fields = ("channel", "caller", "category", "description", "urgency")
    location = {"area_code": shown["area_code"], "address": shown["address"]}
    return {field: shown[field] for field in fields} | {"location": location}
