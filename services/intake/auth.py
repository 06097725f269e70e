"""Access control for the API: one FastAPI dependency per route says which roles may call it.

Usage on any route, in any module of the intake::

    @routes.post("/x")
    async def x(who: Annotated[Principal, Depends(require(Role.SUPERVISOR))]) -> ...

or, when the route does not need the caller, ``dependencies=[Depends(require(...))]``.
``admin`` may call everything. A missing or unknown token answers 401, a known
token of another role 403; either way nothing has changed.

The token comes as ``Authorization: Bearer <token>``, or as Open311's
``api_key`` (query string, or form field of a form-encoded POST).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Annotated
from urllib.parse import parse_qs

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.security import APIKeyQuery, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session, sessionmaker

from hotline.shared.domain.access import Principal, Role, hash_token
from hotline.shared.ledger import tokens

#: How long a token found in the ledger is trusted before it is looked up again
#: (a revoked token stops working within this time).
CACHE_SECONDS = 5.0

_bearer = HTTPBearer(auto_error=False, description="a token from `hotline token create`")
_api_key = APIKeyQuery(name="api_key", auto_error=False, description="Open311's api_key")


class Authenticator:
    """Finds the caller a token stands for: config tokens first, then the ledger (cached)."""

    def __init__(self, sessions: sessionmaker[Session], configured: Mapping[str, Principal]):
        self._sessions = sessions
        self._configured = dict(configured)
        self._cache: dict[str, tuple[Principal, float]] = {}

    def _from_ledger(self, digest: str) -> Principal | None:
        with self._sessions() as session:
            return tokens.lookup(session, digest)

    async def principal(self, token: str) -> Principal | None:
        """The caller for ``token``, or None when the token is unknown or revoked."""
        digest = hash_token(token)
        found = self._configured.get(digest)
        if found is not None:
            return found
        cached = self._cache.get(digest)
        now = time.monotonic()
        if cached is not None and cached[1] > now:
            return cached[0]
        found = await asyncio.to_thread(self._from_ledger, digest)
        if found is None:
            self._cache.pop(digest, None)
            return None
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[digest] = (found, now + CACHE_SECONDS)
        return found


def install_auth(app: FastAPI, authenticator: Authenticator) -> None:
    """Make ``authenticator`` the one the app's routes ask."""
    app.state.hotline_auth = authenticator


async def _form_api_key(request: Request) -> str | None:
    if request.method != "POST":
        return None
    if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return None
    form = parse_qs((await request.body()).decode("utf-8", "replace"))
    values = form.get("api_key")
    return values[0] if values else None


def _unauthorized(message: str) -> HTTPException:
    return HTTPException(401, detail=message, headers={"WWW-Authenticate": "Bearer"})


async def current_principal(
    request: Request,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    api_key: Annotated[str | None, Depends(_api_key)],
) -> Principal:
    """The caller of this request; 401 when there is no token or it is not one we know."""
    token = bearer.credentials if bearer is not None else api_key
    if token is None:
        token = await _form_api_key(request)
    if not token:
        raise _unauthorized("a token is required: Authorization: Bearer <token>")
    authenticator: Authenticator = request.app.state.hotline_auth
    found = await authenticator.principal(token)
    if found is None:
        raise _unauthorized("unknown or revoked token")
    request.state.principal = found
    return found


def require(*roles: Role) -> Callable[..., Awaitable[Principal]]:
    """A dependency that lets through ``admin`` and ``roles``, and answers 403 to anyone else."""
    allowed = frozenset(roles) | {Role.ADMIN}
    names = ", ".join(sorted("unit:<id>" if r is Role.UNIT else r.value for r in allowed))

    async def check(who: Annotated[Principal, Depends(current_principal)]) -> Principal:
        if who.role not in allowed:
            raise HTTPException(403, detail=f"role {who.label} may not do this; allowed: {names}")
        return who

    return check


def acting_unit(who: Principal, named: str | None) -> str | None:
    """The unit an action is taken for: a unit's token acts only for its own unit.

    Staff allowed to act for a unit (admin) name it in ``unit_id``; the handler
    refuses the action with a 422 when they do not.
    """
    if who.role is Role.UNIT:
        if named is not None and named != who.unit_id:
            raise HTTPException(403, detail=f"a token of unit {who.unit_id} acts only for it")
        return who.unit_id
    return named
