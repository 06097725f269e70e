"""Handing requests that belong to a neighbouring district to that district's intake.

The ledger holds every ticket owed to a peer (state ``transfer-pending``);
this loop posts each one to the peer's own API, with our ticket id as the
idempotency key, so a retry after a timeout never makes a second ticket
there. A peer that is down is retried with a growing pause; nothing is lost.
A peer that refuses the request sends it to our manual triage, with its reason.

The peer's intake wants a call-taker token that the peer district made for us.
It is looked up at each delivery (:func:`peer_token`), from the environment or
a file the district file names, so that it lives in a Secret, not in the
district file; a transfer whose token cannot be found goes to our manual
triage saying so (counted as ``outcome="no-token"``), and the router logs the
peers it has no token for when it starts (:func:`missing_peer_tokens`).
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy.orm import Session, sessionmaker

from hotline.shared.configuration.source import ConfigSource
from hotline.shared.domain.config import DistrictConfig, Peer
from hotline.shared.domain.ticket import State
from hotline.shared.ledger import dispatch, routing, tickets
from hotline.shared.ledger.schema import Ticket
from hotline.shared.observability import metrics
from hotline.shared.runtime.waiting import wait_for_event

log = logging.getLogger(__name__)

#: How often pending transfers are looked at when nothing wakes the loop.
PERIOD = 2.0
#: Longest pause before trying a peer that was down again.
MAX_BACKOFF = 60.0
#: Longest wait for a peer's answer.
TIMEOUT = 10.0
#: Pending transfers looked at per round; a longer queue is worked through in later rounds.
PENDING_BATCH = 100


class NoPeerToken(Exception):
    """The peer's token cannot be found; the message says where it was looked for."""


def peer_token(peer: Peer, env: Mapping[str, str] | None = None) -> str:
    """The token to send to ``peer``, read now: ``token_env`` from ``env`` (the process's
    environment by default), ``token_file`` from disk (surrounding blanks and the final
    newline that editors and ``kubectl create secret --from-file`` leave are dropped), or
    the inline ``token``. Raises NoPeerToken when there is none to send."""
    env = os.environ if env is None else env
    if peer.token_env:
        token = env.get(peer.token_env, "").strip()
        if not token:
            raise NoPeerToken(f"{peer.token_env} is not set")
        return token
    if peer.token_file:
        try:
            with open(peer.token_file, encoding="utf-8") as file:
                token = file.read().strip()
        except OSError as exc:
            raise NoPeerToken(f"cannot read {peer.token_file}: {exc.strerror}") from exc
        if not token:
            raise NoPeerToken(f"{peer.token_file} is empty")
        return token
    if peer.token:
        return peer.token
    raise NoPeerToken("the district file gives it no token_env, token_file or token")


def missing_peer_tokens(config: DistrictConfig, env: Mapping[str, str] | None = None) -> str | None:
    """The peers we could not send a transfer to now, and why (``None`` when every peer's
    token is there): said in the log when the router starts, before any transfer is due."""
    problems = []
    for peer in config.peers:
        try:
            peer_token(peer, env)
        except NoPeerToken as exc:
            problems.append(f"no token for peer {peer.district}: {exc}")
    if not problems:
        return None
    return "; ".join(problems) + " (their transfers go to manual triage)"


def transfer_body(ticket: Ticket, peer: str) -> dict[str, Any]:
    """The request as the peer's intake takes it: the citizen's words, not our decisions."""
    message = dispatch.ticket_message(ticket)
    fields = ("channel", "caller", "location", "category", "description", "urgency")
    return {"district": peer} | {field: message[field] for field in fields}


class Transfers:
    """Delivers pending transfers; ``wake()`` after a commit that created some."""

    def __init__(self, sessions: sessionmaker[Session], source: ConfigSource) -> None:
        self._sessions = sessions
        self._source = source
        self._wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._backoff: dict[str, tuple[float, float]] = {}  # peer -> (pause, not before)

    def wake(self) -> None:
        """Say new transfers wait; callable from any thread."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until ``stop`` is set."""
        self._loop = asyncio.get_running_loop()
        missing = missing_peer_tokens(self._source.config)
        if missing is not None:
            log.warning("router: %s", missing)
        async with httpx.AsyncClient(timeout=TIMEOUT) as client:
            while not stop.is_set():
                try:
                    await self.deliver_once(client)
                except Exception as exc:  # the ledger is down: try again next round
                    log.warning("router: transfers failed: %s", exc)
                self._wake.clear()
                await wait_for_event(self._wake, PERIOD)

    async def deliver_once(self, client: httpx.AsyncClient) -> int:
        """Try every pending transfer whose peer is not resting; return how many were done."""
        with self._sessions() as session:
            pending = await asyncio.to_thread(routing.pending_transfers, session, PENDING_BATCH)
        done = 0
        for ticket_id, peer_id in pending:
            peer = next((p for p in self._source.config.peers if p.district == peer_id), None)
            if peer is None:
                await self._settle(ticket_id, None, f"district {peer_id} is no longer a peer")
                continue
            if self._backoff.get(peer_id, (0.0, 0.0))[1] > time.monotonic():
                continue
            done += await self._deliver(client, ticket_id, peer)
        return done

    async def _deliver(self, client: httpx.AsyncClient, ticket_id: str, peer: Peer) -> int:
        district = self._source.config.district
        with self._sessions() as session:
            ticket = session.get(Ticket, ticket_id)
            if ticket is None or ticket.state is not State.TRANSFER_PENDING:
                return 0
            body = transfer_body(ticket, peer.district)
        try:
            token = peer_token(peer)
        except NoPeerToken as exc:
            # Sending would only earn a 401; the dispatchers learn why at once instead.
            log.warning("router: no token for district %s: %s", peer.district, exc)
            await self._settle(ticket_id, None, f"no token for district {peer.district}: {exc}")
            metrics.TRANSFERS.labels(district, peer.district, "no-token").inc()
            return 0
        headers = {"Idempotency-Key": f"{district}:{ticket_id}", "Authorization": f"Bearer {token}"}
        url = f"{peer.url.rstrip('/')}/api/v1/requests"
        try:
            answer = await client.post(url, json=body, headers=headers)
        except httpx.HTTPError as exc:
            self._rest(peer.district, f"{type(exc).__name__}: {exc}")
            return 0
        if answer.status_code in (200, 201):
            self._backoff.pop(peer.district, None)
            await self._settle(ticket_id, str(answer.json()["id"]), None)
            metrics.TRANSFERS.labels(district, peer.district, "done").inc()
            return 1
        if 400 <= answer.status_code < 500 and answer.status_code not in (408, 429):
            reason = f"district {peer.district} refused the transfer: {answer.text[:500]}"
            await self._settle(ticket_id, None, reason)
            metrics.TRANSFERS.labels(district, peer.district, "refused").inc()
            return 0
        self._rest(peer.district, f"HTTP {answer.status_code}")
        return 0

    def _rest(self, peer: str, why: str) -> None:
        pause = min(max(self._backoff.get(peer, (0.0, 0.0))[0] * 2, 1.0), MAX_BACKOFF)
        self._backoff[peer] = (pause, time.monotonic() + pause)
        metrics.TRANSFERS.labels(self._source.config.district, peer, "failed-try").inc()
        log.warning(
            "router: district %s did not take a transfer (%s); retry in %.0fs", peer, why, pause
        )

    async def _settle(
        self, ticket_id: str, peer_ticket_id: str | None, refused: str | None
    ) -> None:
        def work() -> None:
            with self._sessions.begin() as session:
                try:
                    ticket = tickets.lock(session, ticket_id)
                except tickets.NotFound:
                    return
                if ticket.state is not State.TRANSFER_PENDING:
                    return
                now = datetime.now(UTC)
                if peer_ticket_id is not None:
                    dispatch.confirm_transfer(session, ticket, peer_ticket_id, now)
                else:
                    dispatch.send_to_triage(session, ticket, refused or "transfer failed", now)

        await asyncio.to_thread(work)
