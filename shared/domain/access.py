"""Who may call the API: roles, the principal a token stands for, and how tokens are kept.

A token is a random secret handed to one caller once; the ledger and the
config keep only its SHA-256, so a leaked database or config file does not
leak a usable token. The secrets are long and random, so a plain hash (not a
slow password hash) is enough and keeps every request's check cheap.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    """What a caller does at the hotline; ``unit`` is always bound to one unit id."""

    CALL_TAKER = "call-taker"
    UNIT = "unit"
    DISPATCHER = "dispatcher"
    SUPERVISOR = "supervisor"
    FEEDBACK = "feedback"
    ADMIN = "admin"


#: The staff roles: everyone but a unit, who sees only its own tasks.
STAFF = (Role.CALL_TAKER, Role.DISPATCHER, Role.SUPERVISOR, Role.FEEDBACK, Role.ADMIN)

_UNIT_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_HASH = re.compile(r"^[0-9a-f]{64}$")

#: Every token starts so, which makes one easy to spot in a leaked file or a log.
TOKEN_PREFIX = "hl_"


class BadRole(ValueError):
    """A role string that is not one of the roles."""


@dataclass(frozen=True)
class Principal:
    """The caller a token stands for: a name for the history, a role, and a unit for units."""

    name: str
    role: Role
    unit_id: str | None = None

    @property
    def label(self) -> str:
        """The role as written in config and on the command line: ``unit:<id>`` for units."""
        return f"unit:{self.unit_id}" if self.role is Role.UNIT else self.role.value

    def is_unit(self, unit_id: str | None = None) -> bool:
        """Say whether this caller is a unit (this unit, when one is named)."""
        return self.role is Role.UNIT and (unit_id is None or self.unit_id == unit_id)


def parse_role(text: str) -> tuple[Role, str | None]:
    """``call-taker``, ``unit:<id>``, ``dispatcher``, ... into a role and its unit id."""
    if text.startswith("unit:"):
        unit_id = text.removeprefix("unit:")
        if not _UNIT_ID.match(unit_id):
            raise BadRole(f"bad unit id in role {text!r}")
        return Role.UNIT, unit_id
    try:
        role = Role(text)
    except ValueError:
        names = ", ".join(r.value if r is not Role.UNIT else "unit:<id>" for r in Role)
        raise BadRole(f"unknown role {text!r}; roles: {names}") from None
    if role is Role.UNIT:
        raise BadRole("a unit role names its unit: unit:<id>")
    return role, None


def new_token() -> str:
    """A fresh secret for one caller."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """What is stored of a token: its SHA-256, hex."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def parse_config_tokens(text: str) -> dict[str, Principal]:
    """Tokens given in config: ``NAME:ROLE:SHA256`` entries, separated by commas or spaces.

    ``ROLE`` may itself hold a colon (``unit:friendship-street``); the hash is
    what ``hotline token create --print-only`` prints. Returns hash -> principal.
    """
    found: dict[str, Principal] = {}
    for entry in re.split(r"[,\s]+", text.strip()):
        if not entry:
            continue
        name, _, rest = entry.partition(":")
        role_text, _, digest = rest.rpartition(":")
        if not name or not role_text or not _HASH.match(digest):
            raise BadRole(f"token entry {entry[:40]!r} is not NAME:ROLE:SHA256 (64 hex digits)")
        role, unit_id = parse_role(role_text)
        found[digest] = Principal(name=name, role=role, unit_id=unit_id)
    return found
