"""Roles and config tokens as written by people: parsed, or refused with the reason."""

from __future__ import annotations

import pytest

from hotline.shared.domain.access import (
    BadRole,
    Principal,
    Role,
    hash_token,
    new_token,
    parse_config_tokens,
    parse_role,
)


def test_roles_parse_and_units_name_their_unit() -> None:
    assert parse_role("call-taker") == (Role.CALL_TAKER, None)
    assert parse_role("unit:friendship-street") == (Role.UNIT, "friendship-street")
    for bad in ("unit", "unit:", "unit:Bad Id", "mayor"):
        with pytest.raises(BadRole):
            parse_role(bad)


def test_config_tokens_are_name_role_hash() -> None:
    token = new_token()
    digest = hash_token(token)
    assert token.startswith("hl_") and len(digest) == 64 and token not in digest
    found = parse_config_tokens(f"ops:admin:{digest}, fs:unit:friendship-street:{'a' * 64}\n")
    assert found[digest] == Principal("ops", Role.ADMIN)
    assert found["a" * 64].label == "unit:friendship-street"
    assert parse_config_tokens("  ") == {}
    with pytest.raises(BadRole, match="NAME:ROLE:SHA256"):
        parse_config_tokens(f"ops:admin:{token}")  # the secret itself, not its hash
