"""Delivering notifications the notifier sends itself: signed webhooks and e-mail.

The relay hands each ``webhook`` or ``smtp`` outbox row to a :class:`Sender`
in a worker thread. A sender returns once the receiver accepted the message
and raises :class:`DeliveryFailed` otherwise; the relay then retries the row
with backoff and dead-letters it after :attr:`RetryPolicy.max_tries`.

A webhook is a POST of the JSON body with ``X-Hotline-Signature:
sha256=<hex HMAC-SHA256 of the exact body>`` under the district's secret, and
``X-Hotline-Timestamp`` (the body's ``sent_at``, also inside the signed body).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import smtplib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx

SIGNATURE_HEADER = "X-Hotline-Signature"
TIMESTAMP_HEADER = "X-Hotline-Timestamp"
ID_HEADER = "X-Hotline-Notification-Id"


class DeliveryFailed(Exception):
    """The receiver did not take the message (refused, unreachable, timed out)."""


class Sender(Protocol):
    """Delivers one message to ``target`` (a URL, an address); raises DeliveryFailed."""

    def send(self, target: str, payload: dict[str, Any], message_id: str) -> None: ...


@dataclass(frozen=True)
class RetryPolicy:
    """How often a refused notification is tried again before it is dead-lettered."""

    max_tries: int = 8
    first_backoff: timedelta = timedelta(seconds=5)
    max_backoff: timedelta = timedelta(minutes=10)

    def backoff(self, tries: int) -> timedelta:
        """The wait after the ``tries``-th failed try: doubling from the first, capped."""
        factor: int = 2 ** max(tries - 1, 0)
        return min(self.first_backoff * factor, self.max_backoff)


def sign(secret: str, body: bytes) -> str:
    """The signature header's value for ``body``: ``sha256=<hex>``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, header: str) -> bool:
    """Say whether ``header`` is the signature of ``body`` (what a receiver checks)."""
    return hmac.compare_digest(sign(secret, body), header)


class WebhookSender:
    """POSTs signed JSON; any 2xx is delivered, anything else is a failed try."""

    def __init__(self, secret: str, timeout: float = 10.0) -> None:
        if not secret:
            raise ValueError("a webhook needs a secret to sign with (HOTLINE_WEBHOOK_SECRET)")
        self._secret = secret
        self._client = httpx.Client(timeout=timeout)

    def send(self, target: str, payload: dict[str, Any], message_id: str) -> None:
        """Sign and POST the body; raise DeliveryFailed unless the receiver answers 2xx."""
        sent_at = datetime.now(UTC).isoformat()
        body = json.dumps(payload | {"sent_at": sent_at}, ensure_ascii=False).encode()
        headers = {
            "content-type": "application/json",
            SIGNATURE_HEADER: sign(self._secret, body),
            TIMESTAMP_HEADER: sent_at,
            ID_HEADER: message_id,
        }
        try:
            answer = self._client.post(target, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise DeliveryFailed(f"POST {target}: {exc!r}") from exc
        if not answer.is_success:
            raise DeliveryFailed(f"POST {target}: HTTP {answer.status_code}")

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._client.close()


@dataclass(frozen=True)
class SmtpSettings:
    """Where e-mail goes out: ``smtp://host:port`` (``smtps://`` for TLS) and the sender."""

    url: str
    from_address: str

    def endpoint(self) -> tuple[str, int, bool, str | None, str | None]:
        """Host, port, TLS, user, password from the URL."""
        parts = urlsplit(self.url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError(f"not an smtp:// or smtps:// URL: {self.url!r}")
        tls = parts.scheme == "smtps"
        port = parts.port or (465 if tls else 25)
        return parts.hostname, port, tls, parts.username, parts.password


def subject(payload: dict[str, Any]) -> str:
    """A subject line a person reads at a glance."""
    if payload.get("kind") == "escalation":
        return (
            f"[{payload.get('district')}] escalation level {payload.get('level')}"
            f" ({payload.get('clock')}): ticket {payload.get('ticket_id')}"
        )
    return f"[{payload.get('district')}] ticket {payload.get('ticket_id')}: {payload.get('kind')}"


class SmtpSender:
    """Sends one plain-text e-mail per notification with :mod:`smtplib`."""

    def __init__(self, settings: SmtpSettings, timeout: float = 10.0) -> None:
        self._settings = settings
        self._endpoint = settings.endpoint()
        self._timeout = timeout

    def send(self, target: str, payload: dict[str, Any], message_id: str) -> None:
        """Send the mail; raise DeliveryFailed if the server refuses it or cannot be reached."""
        mail = EmailMessage()
        mail["From"] = self._settings.from_address
        mail["To"] = target
        mail["Subject"] = subject(payload)
        mail["X-Hotline-Notification-Id"] = message_id
        mail.set_content(json.dumps(payload, ensure_ascii=False, indent=2))
        host, port, tls, user, password = self._endpoint
        kind = smtplib.SMTP_SSL if tls else smtplib.SMTP
        try:
            with kind(host, port, timeout=self._timeout) as server:
                if user and password:
                    server.login(user, password)
                server.send_message(mail)
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryFailed(f"mail to {target} via {host}:{port}: {exc!r}") from exc
