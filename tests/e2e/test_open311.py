"""An Open311 GeoReport v2 client submits and follows a request on the running system,
the way such clients do: form-encoded POST with an api_key, then GET by id and by filters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from xml.etree import ElementTree as ET

import httpx

from tests.e2e.test_pipeline import take
from tests.harness import System


class Open311Client:
    """A plain GeoReport v2 client: it knows the spec, not this system."""

    def __init__(self, endpoint: str, api_key: str, jurisdiction: str) -> None:
        self.endpoint = endpoint.rstrip("/") + "/"
        self.api_key = api_key
        self.jurisdiction = jurisdiction

    def services(self) -> list[dict[str, Any]]:
        answer = httpx.get(
            self.endpoint + "services.json", params={"jurisdiction_id": self.jurisdiction}
        )
        answer.raise_for_status()
        return list(answer.json())

    def post(self, fields: dict[str, str], **headers: str) -> httpx.Response:
        form = {"jurisdiction_id": self.jurisdiction, "api_key": self.api_key} | fields
        return httpx.post(self.endpoint + "requests.json", data=form, headers=headers)

    def get(self, request_id: str) -> dict[str, Any]:
        answer = httpx.get(
            self.endpoint + f"requests/{request_id}.json",
            params={"jurisdiction_id": self.jurisdiction, "api_key": self.api_key},
        )
        answer.raise_for_status()
        [found] = answer.json()
        return dict(found)

    def search(self, **params: str) -> list[dict[str, Any]]:
        params |= {"jurisdiction_id": self.jurisdiction, "api_key": self.api_key}
        answer = httpx.get(self.endpoint + "requests.json", params=params)
        answer.raise_for_status()
        return list(answer.json())


FIELDS = {
    "service_code": "supplies.food",
    "lat": "39.63",
    "long": "118.18",
    "address_id": "130202001001",
    "address_string": "Seven Days Hotel",
    "first_name": "Xiao",
    "last_name": "Lu",
    "phone": "+86 138 0000 0000",
    "description": "Stranded, cannot pay for room or meals",
}


def test_an_open311_client_submits_and_follows_a_request(system: System) -> None:
    found = httpx.get(f"{system.api}/open311/v2/discovery.json").json()
    client = Open311Client(
        found["endpoints"][0]["url"], system.token("call-taker", "partner app"), system.district
    )
    codes = {s["service_code"] for s in client.services()}
    assert "supplies.food" in codes

    posted = client.post(FIELDS, **{"Idempotency-Key": "app:1"})
    assert posted.status_code == 200, posted.text
    [receipt] = posted.json()
    request_id = receipt["service_request_id"]
    again = client.post(FIELDS, **{"Idempotency-Key": "app:1"})
    assert again.json()[0]["service_request_id"] == request_id

    tasks = take(system, "friendship-street", 1, within=10)
    tasks += take(system, "friendship-street", 1, within=1)
    assert [t.payload["ticket_id"] for t in tasks] == [request_id]  # one ticket, routed once
    shown = client.get(request_id)
    assert (shown["status"], shown["service_code"]) == ("open", "supplies.food")
    assert shown["agency_responsible"] == "Friendship Street office"
    assert "phone" not in shown and "Lu" not in str(shown)  # no personal data on Open311
    assert datetime.fromisoformat(shown["requested_datetime"]).tzinfo is not None

    unit = {"authorization": f"Bearer {system.token('unit:friendship-street')}"}
    for action, body in (("ack", {}), ("resolve", {"result": "Housed and fed"})):
        answer = httpx.post(
            f"{system.api}/api/v1/requests/{request_id}/{action}", json=body, headers=unit
        )
        assert answer.status_code == 200, answer.text
    closed = client.get(request_id)
    assert (closed["status"], closed["status_notes"]) == ("closed", "Housed and fed")

    since = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    assert [r["service_request_id"] for r in client.search(status="closed")] == [request_id]
    assert client.search(status="open") == []
    assert client.search(service_code="medical", start_date=since) == []
    assert len(client.search(service_code="supplies.food,medical", start_date=since)) == 1

    xml = httpx.get(
        client.endpoint + f"requests/{request_id}.xml", params={"api_key": client.api_key}
    )
    assert ET.fromstring(xml.content).findtext("request/status") == "closed"


def test_open311_errors_name_the_field_and_change_nothing(system: System) -> None:
    client = Open311Client(
        f"{system.api}/open311/v2/", system.token("call-taker", "partner app"), system.district
    )
    for fields, code, field in [
        (FIELDS | {"service_code": "pets.lost"}, 400, "service_code"),
        ({k: v for k, v in FIELDS.items() if k != "phone"}, 400, "phone"),
        (FIELDS | {"lat": "north"}, 400, "lat"),
        (FIELDS | {"jurisdiction_id": "elsewhere"}, 404, "jurisdiction_id"),
    ]:
        answer = client.post(fields)
        assert answer.status_code == code, answer.text
        assert answer.json()[0]["description"].startswith(f"{field}:"), answer.text
    refused = Open311Client(client.endpoint, "hl_wrong", system.district).post(FIELDS)
    assert refused.status_code == 403
    unit = Open311Client(client.endpoint, system.token("unit:wenhua-street"), system.district)
    assert unit.post(FIELDS).status_code == 403
    assert client.search() == []
    assert take(system, "friendship-street", 1, within=1) == []
