"""Open311 GeoReport v2's shapes: a ticket as a service request (no caller's name or phone:
its request list is read by more parties), a posted form as a native request, answers in
JSON or XML, and errors in its form, ``[{"code": 400, "description": "field: reason"}]``."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import parse_qs
from xml.etree import ElementTree as ET

from fastapi import Request, Response
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from hotline.intake.schemas import NewRequest
from hotline.shared.domain.config import DistrictConfig
from hotline.shared.domain.ticket import CLOSED, Channel, State
from hotline.shared.ledger.schema import Assignment, Ticket

#: Where the GeoReport v2 endpoint is served.
PREFIX = "/open311/v2"

#: Open311's default window and size for a request list without ids.
DEFAULT_DAYS = 90
MAX_RESULTS = 1000

Format = Literal["json", "xml"]

#: Native field paths -> the Open311 field a client sent them in, for error messages.
FIELDS = {
    "category": "service_code",
    "description": "description",
    "caller.name": "first_name",
    "caller.phone": "phone",
    "location.lat": "lat",
    "location.lon": "long",
    "location.area_code": "address_id",
    "location.address": "address_string",
    "location": "lat/long or address_id",
    "district": "jurisdiction_id",
}


class Open311Error(Exception):
    """An error answered in Open311's shape."""

    def __init__(self, code: int, description: str) -> None:
        super().__init__(description)
        self.code = code
        self.description = description


def status(state: State) -> str:
    """Open311's two statuses from the ticket's state."""
    return "closed" if state in CLOSED else "open"


def _w3c(at: datetime | None) -> str | None:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z") if at else None


def _status_notes(ticket: Ticket, assignment: Assignment | None) -> str:
    state = ticket.state
    if state is State.RESOLVED and assignment is not None and assignment.result:
        return assignment.result
    if ticket.resolved_at_intake:
        return f"answered at first contact: {ticket.intake_answer}"
    if ticket.duplicate_of is not None:
        return f"{ticket.link_kind} of {ticket.duplicate_of}"
    if state is State.TRANSFERRED:
        return f"transferred to district {ticket.transfer_to}"
    if state in (State.ASSIGNED, State.SIGNED_FOR) and ticket.unit_id:
        return f"{state.value} ({ticket.unit_id})"
    return state.value


def request_out(
    config: DistrictConfig, ticket: Ticket, assignment: Assignment | None
) -> dict[str, Any]:
    """One ticket as an Open311 service request: no caller name or phone."""
    names = {c.id: c.name for c in config.categories}
    unit = config.unit(ticket.unit_id) if ticket.unit_id else None
    return {
        "service_request_id": ticket.id,
        "status": status(ticket.state),
        "status_notes": _status_notes(ticket, assignment),
        "service_name": names.get(ticket.category, ticket.category),
        "service_code": ticket.category,
        "description": ticket.description,
        "agency_responsible": unit.name if unit else None,
        "service_notice": None,
        "requested_datetime": _w3c(ticket.created_at),
        "updated_datetime": _w3c(ticket.updated_at),
        "expected_datetime": None,
        "address": ticket.address,
        "address_id": ticket.area_code,
        "zipcode": None,
        "lat": ticket.lat,
        "long": ticket.lon,
        "media_url": None,
    }


def xml(root: str, item: str, rows: list[dict[str, Any]]) -> Response:
    """Rows as Open311's XML: ``<root><item><key>value</key>...</item>...</root>``."""
    top = ET.Element(root)
    for row in rows:
        element = ET.SubElement(top, item)
        for key, value in row.items():
            child = ET.SubElement(element, key)
            if value is not None:
                child.text = str(value).lower() if isinstance(value, bool) else str(value)
    body = ET.tostring(top, encoding="unicode")
    return Response(
        '<?xml version="1.0" encoding="utf-8"?>' + body, media_type="text/xml; charset=utf-8"
    )


def answer(
    fmt: Format, root: str, item: str, rows: list[dict[str, Any]], code: int = 200
) -> Response:
    """Rows in the format the path asked for: a JSON list, or XML named ``root`` and ``item``."""
    if fmt == "xml":
        shown = xml(root, item, rows)
        shown.status_code = code
        return shown
    return JSONResponse(rows, status_code=code)


def error(request: Request, code: int, description: str) -> Response:
    """An error in Open311's form, in the format of the path it answers."""
    fmt: Format = "xml" if request.url.path.endswith(".xml") else "json"
    return answer(fmt, "errors", "error", [{"code": code, "description": description}], code)


def field_name(path: tuple[str, ...]) -> str:
    """The Open311 field a native field came in by, for an error message."""
    native = ".".join(path)
    return FIELDS.get(native, native)


def new_request(config: DistrictConfig, form: dict[str, str]) -> NewRequest:
    """Open311's POST fields as a native request, or an Open311Error naming the field."""
    jurisdiction = form.get("jurisdiction_id")
    if jurisdiction and jurisdiction != config.district:
        raise Open311Error(404, f"jurisdiction_id: this endpoint serves {config.district!r}")
    if not form.get("service_code"):
        raise Open311Error(400, "service_code: required")
    if not config.category_known(form["service_code"]):
        raise Open311Error(400, f"service_code: unknown service {form['service_code']!r}")
    name = " ".join(p for p in (form.get("first_name"), form.get("last_name")) if p)
    location: dict[str, Any] = {
        "area_code": form.get("address_id") or None,
        "address": form.get("address_string") or None,
    }
    for ours, theirs in (("lat", "lat"), ("lon", "long")):
        if form.get(theirs):
            try:
                location[ours] = float(form[theirs])
            except ValueError:
                raise Open311Error(400, f"{theirs}: not a number") from None
    body = {
        "district": config.district,
        "channel": Channel.OPEN311.value,
        "caller": {"name": name or form.get("email") or "anonymous", "phone": form.get("phone")},
        "location": location,
        "category": form["service_code"],
        "description": form.get("description") or None,
    }
    try:
        return NewRequest.model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = field_name(tuple(str(p) for p in first["loc"]))
        message = "required" if first["type"] in ("missing", "string_type") else first["msg"]
        raise Open311Error(400, f"{field}: {message}") from None


async def form_fields(request: Request) -> dict[str, str]:
    """A posted request's fields: form-encoded, as Open311 clients send them, or JSON."""
    raw = await request.body()
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            data = json.loads(raw or b"{}")
        except ValueError:
            raise Open311Error(400, "body: not JSON") from None
        if not isinstance(data, dict):
            raise Open311Error(400, "body: a JSON object is expected")
        return {k: str(v) for k, v in data.items() if v is not None}
    return {k: v[0] for k, v in parse_qs(raw.decode("utf-8", "replace")).items()}


def parse_time(name: str, text: str | None) -> datetime | None:
    """A W3C date-time with its zone (None: not given), or an Open311Error naming ``name``."""
    if text is None:
        return None
    try:
        at = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise Open311Error(400, f"{name}: not a W3C date-time") from None
    if at.tzinfo is None:
        raise Open311Error(400, f"{name}: give the time zone (Z or +HH:MM)")
    return at


def check_jurisdiction(config: DistrictConfig, given: str | None) -> None:
    """Refuse a jurisdiction other than the district this endpoint serves (None: not given)."""
    if given is not None and given != config.district:
        raise Open311Error(404, f"jurisdiction_id: this endpoint serves {config.district!r}")


def closed_filter(status: str | None) -> bool | None:
    """Open311's ``status`` filter as closed (True), open (False), or either (None)."""
    statuses = set(status.split(",")) if status else set()
    if statuses - {"open", "closed"}:
        raise Open311Error(400, "status: open, closed, or both separated by a comma")
    if len(statuses) == 1:
        return "closed" in statuses
    return None


def endpoint(base_url: str) -> dict[str, Any]:
    """This district's GeoReport v2 endpoint, as Open311 service discovery describes it."""
    return {
        "specification": "http://wiki.open311.org/GeoReport_v2",
        "url": base_url.rstrip("/") + PREFIX + "/",
        "changeset": "2026-11-23T00:00:00Z",
        "type": "production",
        "formats": ["application/json", "text/xml"],
    }


def services_of(config: DistrictConfig) -> list[dict[str, Any]]:
    """The district's categories as Open311 services."""
    return [
        {
            "service_code": c.id,
            "service_name": c.name,
            "description": c.name,
            "metadata": False,
            "type": "realtime",
            "keywords": c.id.replace(".", ","),
            "group": c.id.split(".", 1)[0],
        }
        for c in config.categories
    ]
