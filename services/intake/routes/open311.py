"""Open311 GeoReport v2 under ``/open311/v2/``: the district's categories as services,
requests posted and followed by any Open311 client.

The jurisdiction is the district; ``api_key`` is an API token (``call-taker`` to
post; any staff role to read). A request goes through the same command as the
native API, so idempotency keys, validation and routing are the same. Open311
shows no caller's name or phone, and answers errors in its own form (see
``georeport``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Header, HTTPException, Query, Request, Response
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from hotline.intake.context import Ctx, IntakeContext, read
from hotline.intake.georeport import (
    DEFAULT_DAYS,
    MAX_RESULTS,
    PREFIX,
    Format,
    Open311Error,
    answer,
    check_jurisdiction,
    closed_filter,
    endpoint,
    error,
    field_name,
    form_fields,
    new_request,
    parse_time,
    request_out,
    services_of,
    xml,
)
from hotline.intake.refusals import Invalid
from hotline.intake.routes.roles import Staff, TakesCalls
from hotline.intake.routes.submission import submit
from hotline.shared.domain.config import DistrictConfig
from hotline.shared.ledger import requests, tasks, tickets
from hotline.shared.ledger.schema import Ticket

routes = APIRouter(prefix=PREFIX, tags=["open311"])


@routes.get("/discovery.{fmt}")
async def discovery(fmt: Format, request: Request) -> Response:
    """Where this district's GeoReport v2 endpoint is (Open311 service discovery)."""
    found = endpoint(str(request.base_url))
    if fmt == "xml":
        return xml("endpoints", "endpoint", [found])
    return JSONResponse({"changeset": found["changeset"], "endpoints": [found]})


@routes.get("/services.{fmt}")
async def services(
    fmt: Format, ctx: Ctx, jurisdiction_id: Annotated[str | None, Query()] = None
) -> Response:
    """The district's categories as Open311 services; public, like a menu."""
    config = ctx.source.config
    check_jurisdiction(config, jurisdiction_id)
    return answer(fmt, "services", "service", services_of(config))


@routes.post("/requests.{fmt}")
async def post_request(
    fmt: Format,
    request: Request,
    _: TakesCalls,
    ctx: Ctx,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> Response:
    """Post a service request (form-encoded, as Open311 clients do, or JSON)."""
    body = new_request(ctx.source.config, await form_fields(request))
    try:
        done = await submit(ctx, body, idempotency_key)
    except Invalid as exc:
        raise Open311Error(400, f"{field_name(exc.field)}: {exc.message}") from None
    row = {"service_request_id": done.ticket.id, "service_notice": None, "account_id": None}
    return answer(fmt, "service_requests", "request", [row])


def _rows(session: Session, config: DistrictConfig, found: list[Ticket]) -> list[dict[str, Any]]:
    """The tickets as service requests, each with its current assignment's result."""
    if not found:
        return []
    current = tasks.of_tickets(session, [t.id for t in found])
    return [request_out(config, t, current.get((t.id, t.attempt))) for t in found]


async def _answer_rows(
    ctx: IntakeContext, fmt: Format, find: Callable[[Session, datetime], list[Ticket]]
) -> Response:
    """The tickets ``find`` finds, read in a transaction of their own, as service requests."""
    config = ctx.source.config

    def work(session: Session, now: datetime) -> list[dict[str, Any]]:
        return _rows(session, config, find(session, now))

    return answer(fmt, "service_requests", "request", await read(ctx, work))


@routes.get("/requests.{fmt}")
async def get_requests(
    fmt: Format,
    _: Staff,
    ctx: Ctx,
    jurisdiction_id: str | None = None,
    service_request_id: str | None = None,
    service_code: str | None = None,
    status: str | None = None,
    start_date: str | None = None,
    end_date: str | None = None,
) -> Response:
    """Service requests by ids, or by service, status and date (default: the last 90 days,
    at most 1000, newest first)."""
    check_jurisdiction(ctx.source.config, jurisdiction_id)
    start, end = parse_time("start_date", start_date), parse_time("end_date", end_date)
    closed = closed_filter(status)

    def find(session: Session, now: datetime) -> list[Ticket]:
        if service_request_id:
            return requests.by_ids(session, service_request_id.split(","), MAX_RESULTS)
        return requests.search(
            session,
            since=start or now - timedelta(DEFAULT_DAYS),
            until=end,
            categories=service_code.split(",") if service_code else None,
            closed=closed,
            limit=MAX_RESULTS,
        )

    return await _answer_rows(ctx, fmt, find)


@routes.get("/requests/{service_request_id}.{fmt}")
async def get_request(
    service_request_id: str,
    fmt: Format,
    _: Staff,
    ctx: Ctx,
    jurisdiction_id: str | None = None,
) -> Response:
    """One service request (in a list, as Open311 has it)."""
    check_jurisdiction(ctx.source.config, jurisdiction_id)

    def find(session: Session, _: datetime) -> list[Ticket]:
        try:
            return [tickets.find(session, service_request_id)]
        except tickets.NotFound:
            raise Open311Error(
                404, f"service_request_id: no request {service_request_id}"
            ) from None

    return await _answer_rows(ctx, fmt, find)


async def open311_error(request: Request, exc: Open311Error) -> Response:
    """An Open311 refusal, in its form."""
    return error(request, exc.code, exc.description)


async def refused_token(request: Request, exc: HTTPException) -> Response:
    """A refused token on an Open311 route, in Open311's form: 403, as its spec says.

    Every other HTTP error, on any route of the app, is answered as FastAPI does.
    """
    if request.url.path.startswith(PREFIX + "/") and exc.status_code in (401, 403):
        return error(request, 403, f"api_key: {exc.detail}")
    return await http_exception_handler(request, exc)
