"""The HTTP face every service shares: ``/healthz`` and ``/metrics``.

Each service adds its own routes to the app made here, so a district's IT team
probes and scrapes every process the same way.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST

from hotline.shared.observability.metrics import exposition

#: A named check: returns None when healthy, or a short reason when not.
Check = Callable[[], str | None]


def make_web_app(title: str, checks: dict[str, Check], *, critical: set[str]) -> FastAPI:
    """An app with health and metrics; ``critical`` checks failing make /healthz answer 503.

    A broker being down is reported but is not critical for the intake: it keeps
    taking calls into the ledger, and a liveness probe must not restart it.
    """
    app = FastAPI(title=title, version="0.1.0")

    @app.get("/healthz", tags=["operations"])
    def healthz() -> JSONResponse:
        results = {name: check() for name, check in checks.items()}
        failing = {name for name, reason in results.items() if reason is not None}
        body = {
            "status": "fail" if failing & critical else ("degraded" if failing else "ok"),
            "checks": {name: reason or "ok" for name, reason in results.items()},
        }
        return JSONResponse(body, status_code=503 if failing & critical else 200)

    @app.get("/metrics", tags=["operations"])
    def metrics() -> Response:
        return Response(exposition(), media_type=CONTENT_TYPE_LATEST)

    return app
