"""Process settings, read once from the environment by the composition root."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from hotline.shared.domain.access import BadRole, Principal, parse_config_tokens
from hotline.shared.domain.durations import parse_duration


class SettingsError(Exception):
    """A setting that is missing or malformed; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    """Where the ledger, the brokers and the district file are.

    ``redrive_after`` is how long a ticket may wait for the router before the
    ledger re-publishes it: the guard against a broker that forgot a message.
    ``tokens`` are API tokens given in config (``HOTLINE_TOKENS``), by their hash.
    """

    database_url: str
    kafka_url: str
    amqp_url: str
    config_path: str | None = None
    redrive_after: timedelta = timedelta(seconds=30)
    tokens: Mapping[str, Principal] = field(default_factory=dict)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read ``HOTLINE_*`` variables; every production setting must be present."""
        env = os.environ if env is None else env
        missing = [
            name
            for name in ("HOTLINE_DATABASE_URL", "HOTLINE_KAFKA_URL", "HOTLINE_AMQP_URL")
            if not env.get(name)
        ]
        if missing:
            raise SettingsError(
                f"set {', '.join(missing)} (or run `hotline up` for the embedded default)"
            )
        try:
            redrive = parse_duration(env.get("HOTLINE_REDRIVE_AFTER", "30s"))
        except ValueError as exc:
            raise SettingsError(f"HOTLINE_REDRIVE_AFTER: {exc}") from exc
        return cls(
            tokens=config_tokens(env),
            database_url=env["HOTLINE_DATABASE_URL"],
            kafka_url=env["HOTLINE_KAFKA_URL"],
            amqp_url=env["HOTLINE_AMQP_URL"],
            config_path=env.get("HOTLINE_CONFIG") or None,
            redrive_after=redrive,
        )


def config_tokens(env: Mapping[str, str] | None = None) -> dict[str, Principal]:
    """``HOTLINE_TOKENS``: ``NAME:ROLE:SHA256`` entries (``hotline token create --print-only``)."""
    env = os.environ if env is None else env
    try:
        return parse_config_tokens(env.get("HOTLINE_TOKENS", ""))
    except BadRole as exc:
        raise SettingsError(f"HOTLINE_TOKENS: {exc}") from exc
