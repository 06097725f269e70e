"""How the native API answers a refused call: the same shapes its OpenAPI document gives
(``ERRORS`` in ``schemas``), whichever module refused it."""

from __future__ import annotations

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from hotline.intake.extensions import NoSuchExtension
from hotline.intake.refusals import Conflict, Invalid
from hotline.shared.domain.ticket import IllegalMove
from hotline.shared.ledger.tickets import NotFound


def _field_error(status: int, loc: tuple[str, ...], message: str, kind: str) -> JSONResponse:
    """The same error shape FastAPI uses for schema errors, so clients parse one form."""
    return JSONResponse(
        {"detail": [{"loc": ["body", *loc], "msg": message, "type": kind}]}, status_code=status
    )


def _state_conflict(message: str, state: str) -> JSONResponse:
    return JSONResponse({"detail": message, "state": state}, status_code=409)


async def invalid(_: Request, exc: Invalid) -> JSONResponse:
    """422: a field names something the district does not know."""
    return _field_error(422, exc.field, exc.message, "value_error")


async def not_found(_: Request, exc: NotFound) -> JSONResponse:
    """404: no ticket has that id."""
    return JSONResponse({"detail": f"no ticket {exc}"}, status_code=404)


async def no_such_extension(_: Request, exc: NoSuchExtension) -> JSONResponse:
    """404: the ticket has no extension of that id."""
    return JSONResponse({"detail": str(exc)}, status_code=404)


async def conflict(_: Request, exc: Conflict) -> JSONResponse:
    """409 with the state the ticket is in: the intake refused the call."""
    return _state_conflict(exc.message, exc.state.value)


async def illegal_move(_: Request, exc: IllegalMove) -> JSONResponse:
    """409 with the state the ticket is in: the state machine refused the move."""
    return _state_conflict(str(exc), exc.state.value)


async def unreadable(_: Request, exc: RequestValidationError) -> JSONResponse:
    """422 for a body or parameter the schema refuses, each error with its place."""
    errors = [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in exc.errors()]
    return JSONResponse({"detail": errors}, status_code=422)
