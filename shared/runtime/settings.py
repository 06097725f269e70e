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
class NotifySettings:
    """How the notifier reaches webhooks and e-mail, from the environment.

    ``webhook_secret`` (``HOTLINE_WEBHOOK_SECRET``) signs every webhook of the
    district; ``smtp_url`` (``HOTLINE_SMTP_URL``, ``smtp://host:port``, or
    ``smtps://user:password@host:465``) and ``smtp_from`` (``HOTLINE_SMTP_FROM``)
    send e-mail; ``max_tries`` (``HOTLINE_NOTIFY_MAX_TRIES``) refusals
    dead-letter a notification. Without a secret or an SMTP URL, notifications
    on that channel fail and end dead-lettered, visible and counted.
    """

    webhook_secret: str | None = None
    smtp_url: str | None = None
    smtp_from: str = "hotline@localhost"
    max_tries: int = 8

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> NotifySettings:
        """Read the ``HOTLINE_WEBHOOK_SECRET``, ``HOTLINE_SMTP_*`` and retry variables."""
        env = os.environ if env is None else env
        smtp_url = env.get("HOTLINE_SMTP_URL") or None
        if smtp_url is not None and not smtp_url.startswith(("smtp://", "smtps://")):
            raise SettingsError(f"HOTLINE_SMTP_URL: {smtp_url!r} is not smtp://host:port")
        tries = env.get("HOTLINE_NOTIFY_MAX_TRIES", "8")
        if not tries.isdigit() or int(tries) < 1:
            raise SettingsError(f"HOTLINE_NOTIFY_MAX_TRIES: {tries!r} is not a whole number >= 1")
        return cls(
            webhook_secret=env.get("HOTLINE_WEBHOOK_SECRET") or None,
            smtp_url=smtp_url,
            smtp_from=env.get("HOTLINE_SMTP_FROM") or cls.smtp_from,
            max_tries=int(tries),
        )


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
    notify: NotifySettings = NotifySettings()
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
            notify=NotifySettings.from_env(env),
        )


def config_tokens(env: Mapping[str, str] | None = None) -> dict[str, Principal]:
    """``HOTLINE_TOKENS``: ``NAME:ROLE:SHA256`` entries (``hotline token create --print-only``)."""
    env = os.environ if env is None else env
    try:
        return parse_config_tokens(env.get("HOTLINE_TOKENS", ""))
    except BadRole as exc:
        raise SettingsError(f"HOTLINE_TOKENS: {exc}") from exc
