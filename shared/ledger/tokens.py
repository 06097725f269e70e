"""API tokens in the ledger: made by ``hotline token create``, looked up by their hash."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.shared.domain.access import Principal, Role, hash_token, new_token, parse_role
from hotline.shared.ledger.schema import ApiToken


def create(session: Session, name: str, role: str, now: datetime) -> str:
    """Store a new token for ``name`` in ``role``; return the secret, which is shown only once."""
    parse_role(role)  # refuse a bad role before anything is written
    token = new_token()
    session.add(ApiToken(name=name, role=role, token_hash=hash_token(token), created_at=now))
    return token


def lookup(session: Session, digest: str) -> Principal | None:
    """The caller a token's hash stands for, unless it is unknown or revoked."""
    row = session.scalars(
        select(ApiToken).where(ApiToken.token_hash == digest, ApiToken.revoked_at.is_(None))
    ).one_or_none()
    if row is None:
        return None
    role, unit_id = parse_role(row.role)
    return Principal(name=row.name, role=role, unit_id=unit_id)


def has_admin(session: Session) -> bool:
    """Say whether any live admin token exists (``hotline up`` makes one when none does)."""
    found = session.scalars(
        select(ApiToken.id).where(ApiToken.role == Role.ADMIN.value, ApiToken.revoked_at.is_(None))
    ).first()
    return found is not None


def revoke(session: Session, name: str, now: datetime) -> int:
    """Revoke every live token of ``name``; return how many."""
    rows = session.scalars(
        select(ApiToken).where(ApiToken.name == name, ApiToken.revoked_at.is_(None))
    ).all()
    for row in rows:
        row.revoked_at = now
    return len(rows)
