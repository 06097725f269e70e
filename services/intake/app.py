"""The intake's part of the web app: its state, its route modules and its error answers.

The app itself is made by the process host, which serves every service's
routes and health checks from one app (``hotline up`` runs all three).
"""

from __future__ import annotations

from fastapi import FastAPI, HTTPException
from fastapi.exceptions import RequestValidationError

from hotline.intake.auth import Authenticator, install_auth
from hotline.intake.context import IntakeContext, install_context
from hotline.intake.extensions import NoSuchExtension
from hotline.intake.georeport import Open311Error
from hotline.intake.refusals import Conflict, Invalid
from hotline.intake.routes import errors, feedback, open311, requests, sla
from hotline.shared.domain.ticket import IllegalMove
from hotline.shared.ledger.tickets import NotFound


def install(app: FastAPI, context: IntakeContext, authenticator: Authenticator) -> None:
    """Serve the intake's native API and Open311 from ``app``, with ``context`` and
    ``authenticator`` for every route, and every refusal answered in its API's form."""
    install_auth(app, authenticator)
    install_context(app, context)
    for module in (requests, sla, feedback, open311):
        app.include_router(module.routes)
    app.exception_handler(Invalid)(errors.invalid)
    app.exception_handler(NotFound)(errors.not_found)
    app.exception_handler(NoSuchExtension)(errors.no_such_extension)
    app.exception_handler(Conflict)(errors.conflict)
    app.exception_handler(IllegalMove)(errors.illegal_move)
    app.exception_handler(RequestValidationError)(errors.unreadable)
    app.exception_handler(Open311Error)(open311.open311_error)
    app.exception_handler(HTTPException)(open311.refused_token)
