"""Tokens in the ledger: only the hash is kept, a revoked token stops, roles are checked."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, select

from hotline.shared.domain.access import BadRole, Principal, Role, hash_token
from hotline.shared.ledger import tokens
from hotline.shared.ledger.engine import make_sessions
from hotline.shared.ledger.schema import ApiToken

T0 = datetime(2026, 11, 23, tzinfo=UTC)


def test_token_is_stored_hashed_found_and_revoked(ledger: Engine) -> None:
    with make_sessions(ledger).begin() as s:
        assert not tokens.has_admin(s)
        secret = tokens.create(s, "Friendship Street", "unit:friendship-street", T0)
        tokens.create(s, "root", "admin", T0)
    with make_sessions(ledger).begin() as s:
        stored = [row.token_hash for row in s.scalars(select(ApiToken))]
        assert hash_token(secret) in stored and secret not in stored
        assert tokens.has_admin(s)
        found = tokens.lookup(s, hash_token(secret))
        assert found == Principal("Friendship Street", Role.UNIT, "friendship-street")
        assert tokens.revoke(s, "Friendship Street", T0) == 1
    with make_sessions(ledger)() as s:
        assert tokens.lookup(s, hash_token(secret)) is None


def test_a_bad_role_stores_nothing(ledger: Engine) -> None:
    with pytest.raises(BadRole), make_sessions(ledger).begin() as s:
        tokens.create(s, "x", "mayor", T0)
    with make_sessions(ledger)() as s:
        assert s.scalars(select(ApiToken)).all() == []
