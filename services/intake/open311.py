"""Open311 GeoReport v2 under ``/open311/v2/``: the district's categories as services,
requests posted and followed by any Open311 client.

The jurisdiction is the district; ``api_key`` is an API token (``call-taker`` to
post; any staff role to read). A request goes through the same handler as the
native API, so idempotency keys, validation and routing are the same. Open311
shows no caller's name or phone: its request list is read by more parties.
Errors come in Open311's form, ``[{"code": 400, "description": "field: reason"}]``.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal
from urllib.parse import parse_qs
from xml.etree import ElementTree as ET

from fastapi import APIRouter, Depends, FastAPI, Header, HTTPException, Query, Request, Response
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hotline.intake import handlers
from hotline.intake.api import (
    TAKES_CALLS,
    IntakeContext,
    count_received,
    in_transaction,
    run_and_wake,
)
from hotline.intake.auth import require
from hotline.intake.schemas import NewRequest
from hotline.shared.domain.access import STAFF, Principal
from hotline.shared.domain.config import DistrictConfig
from hotline.shared.domain.ticket import CLOSED, Channel, State
from hotline.shared.ledger.schema import Assignment, Ticket

PREFIX = "/open311/v2"


#: Open311's default window and size for a request list without ids.
DEFAULT_DAYS = 90
MAX_RESULTS = 1000

Format = Literal["json", "xml"]

#: Native field paths -> the Open311 field a client sent them in, for error messages.
_FIELDS = {
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

READS = require(*STAFF)


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
    state = State(ticket.state)
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
        "status": status(State(ticket.state)),
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


def _xml(root: str, item: str, rows: list[dict[str, Any]]) -> Response:
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


def _answer(
    fmt: Format, root: str, item: str, rows: list[dict[str, Any]], code: int = 200
) -> Response:
    if fmt == "xml":
        answer = _xml(root, item, rows)
        answer.status_code = code
        return answer
    return JSONResponse(rows, status_code=code)


def _new_request(config: DistrictConfig, form: dict[str, str]) -> NewRequest:
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
        path = ".".join(str(p) for p in first["loc"])
        field = _FIELDS.get(path, path)
        message = "required" if first["type"] in ("missing", "string_type") else first["msg"]
        raise Open311Error(400, f"{field}: {message}") from None


async def _form(request: Request) -> dict[str, str]:
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


def _parse_time(name: str, text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        at = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise Open311Error(400, f"{name}: not a W3C date-time") from None
    if at.tzinfo is None:
        raise Open311Error(400, f"{name}: give the time zone (Z or +HH:MM)")
    return at


def install_open311(app: FastAPI, ctx: IntakeContext) -> None:
    """Add the Open311 GeoReport v2 routes to ``app``."""
    router = APIRouter(prefix=PREFIX, tags=["open311"])
    district = ctx.source.config.district

    @app.exception_handler(Open311Error)
    async def _open311_error(request: Request, exc: Open311Error) -> Response:
        fmt: Format = "xml" if request.url.path.endswith(".xml") else "json"
        rows = [{"code": exc.code, "description": exc.description}]
        return _answer(fmt, "errors", "error", rows, code=exc.code)

    def _jurisdiction(given: str | None) -> None:
        if given is not None and given != district:
            raise Open311Error(404, f"jurisdiction_id: this endpoint serves {district!r}")

    @router.get("/discovery.{fmt}")
    async def discovery(fmt: Format, request: Request) -> Response:
        """Where this district's GeoReport v2 endpoint is (Open311 service discovery)."""
        base = str(request.base_url).rstrip("/") + PREFIX + "/"
        endpoint = {
            "specification": "http://wiki.open311.org/GeoReport_v2",
            "url": base,
            "changeset": "2026-11-23T00:00:00Z",
            "type": "production",
            "formats": ["application/json", "text/xml"],
        }
        if fmt == "xml":
            return _xml("endpoints", "endpoint", [endpoint])
        return JSONResponse({"changeset": endpoint["changeset"], "endpoints": [endpoint]})

    @router.get("/services.{fmt}")
    async def services(
        fmt: Format, jurisdiction_id: Annotated[str | None, Query()] = None
    ) -> Response:
        """The district's categories as Open311 services; public, like a menu."""
        _jurisdiction(jurisdiction_id)
        rows = [
            {
                "service_code": c.id,
                "service_name": c.name,
                "description": c.name,
                "metadata": False,
                "type": "realtime",
                "keywords": c.id.replace(".", ","),
                "group": c.id.split(".", 1)[0],
            }
            for c in ctx.source.config.categories
        ]
        return _answer(fmt, "services", "service", rows)

    @router.post("/requests.{fmt}")
    async def post_request(
        fmt: Format,
        request: Request,
        _: Annotated[Principal, Depends(TAKES_CALLS)],
        idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
    ) -> Response:
        """Post a service request (form-encoded, as Open311 clients do, or JSON)."""
        body = _new_request(ctx.source.config, await _form(request))
        router_ = ctx.source.rules

        def work(s: Session, now: datetime) -> handlers.Submitted:
            return handlers.submit(s, router_, body, now, idempotency_key)

        try:
            try:
                done = await run_and_wake(ctx, work)
            except IntegrityError:  # the same key, posted twice at once: the other call won
                done = await run_and_wake(ctx, work)
        except handlers.Invalid as exc:
            field = _FIELDS.get(".".join(exc.field), ".".join(exc.field))
            raise Open311Error(400, f"{field}: {exc.message}") from None
        ticket = done.ticket
        if done.created:
            count_received(ticket)
        row = {"service_request_id": ticket.id, "service_notice": None, "account_id": None}
        return _answer(fmt, "service_requests", "request", [row])

    def _rows(session: Session, tickets: list[Ticket]) -> list[dict[str, Any]]:
        if not tickets:
            return []
        current = {
            (a.ticket_id, a.attempt): a
            for a in session.scalars(
                select(Assignment).where(Assignment.ticket_id.in_([t.id for t in tickets]))
            )
        }
        config = ctx.source.config
        return [request_out(config, t, current.get((t.id, t.attempt))) for t in tickets]

    @router.get("/requests.{fmt}")
    async def get_requests(
        fmt: Format,
        _: Annotated[Principal, Depends(READS)],
        jurisdiction_id: str | None = None,
        service_request_id: str | None = None,
        service_code: str | None = None,
        status: str | None = None,
        start_date: str | None = None,
        end_date: str | None = None,
    ) -> Response:
        """Service requests by ids, or by service, status and date (default: the last 90 days,
        at most 1000, newest first)."""
        _jurisdiction(jurisdiction_id)
        start, end = _parse_time("start_date", start_date), _parse_time("end_date", end_date)
        statuses = set(status.split(",")) if status else set()
        if statuses - {"open", "closed"}:
            raise Open311Error(400, "status: open, closed, or both separated by a comma")

        def read(session: Session, now: datetime) -> list[dict[str, Any]]:
            query = select(Ticket).order_by(Ticket.created_at.desc()).limit(MAX_RESULTS)
            if service_request_id:
                query = query.where(Ticket.id.in_(service_request_id.split(",")))
                return _rows(session, list(session.scalars(query)))
            query = query.where(Ticket.created_at >= (start or now - timedelta(DEFAULT_DAYS)))
            if end is not None:
                query = query.where(Ticket.created_at <= end)
            if service_code:
                query = query.where(Ticket.category.in_(service_code.split(",")))
            if len(statuses) == 1:
                closed = [s.value for s in CLOSED]
                is_closed = Ticket.state.in_(closed)
                query = query.where(is_closed if "closed" in statuses else ~is_closed)
            return _rows(session, list(session.scalars(query)))

        rows = await asyncio.to_thread(in_transaction, ctx, read)
        return _answer(fmt, "service_requests", "request", rows)

    @router.get("/requests/{service_request_id}.{fmt}")
    async def get_request(
        service_request_id: str,
        fmt: Format,
        _: Annotated[Principal, Depends(READS)],
        jurisdiction_id: str | None = None,
    ) -> Response:
        """One service request (in a list, as Open311 has it)."""
        _jurisdiction(jurisdiction_id)

        def read(session: Session, _: datetime) -> list[dict[str, Any]]:
            ticket = session.get(Ticket, service_request_id)
            if ticket is None:
                raise Open311Error(404, f"service_request_id: no request {service_request_id}")
            return _rows(session, [ticket])

        rows = await asyncio.to_thread(in_transaction, ctx, read)
        return _answer(fmt, "service_requests", "request", rows)

    app.include_router(router)

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> Response:
        """A refused token on an Open311 route, in Open311's form: 403, as its spec says."""
        if request.url.path.startswith(PREFIX + "/") and exc.status_code in (401, 403):
            fmt: Format = "xml" if request.url.path.endswith(".xml") else "json"
            rows = [{"code": 403, "description": f"api_key: {exc.detail}"}]
            return _answer(fmt, "errors", "error", rows, code=403)
        return await http_exception_handler(request, exc)
