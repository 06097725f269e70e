"""faust apps run inside our own event loop, beside the HTTP server.

We do not use faust's Worker: it owns the loop and the signal handlers, and a
process here also serves HTTP and runs relays. A :class:`StreamRunner` starts
an app in the running loop, in the background. faust cannot start without a
reachable broker, and a faust app that failed to start cannot be started
again; so the runner first waits until Kafka answers (the HTTP API and the
ledger work on meanwhile), and builds a fresh app for every attempt.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import faust
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from aiokafka.structs import TopicPartition

from hotline.shared.messaging import names
from hotline.shared.messaging.streams.tansu import bootstrap_servers, kafka_broker_url
from hotline.shared.observability import metrics

log = logging.getLogger(__name__)

#: Defines a service's topics and agents on a freshly made app.
Define = Callable[[faust.App], None]

#: Partitions of the topics we create. One keeps a district's requests in
#: order and carries far more than a district's load.
PARTITIONS = 1

#: How long a consumer that vanished (a crash) keeps its partitions; faust's
#: default, 60 s, would stall a restarted router for a minute. It also sets the
#: start-up delay on Tansu, which holds a group's join for half of it (measured:
#: 20 s gave 10 s, 10 s gave 5 s, 6 s gave 3 s). 6 s is real Kafka's default
#: ``group.min.session.timeout.ms``, the lowest it accepts.
SESSION_TIMEOUT = 6.0

#: How often the runner checks that Kafka answers (for ``ready``) and re-creates
#: the topics a memory-only broker forgot when it restarted.
PROBE_SECONDS = 2.0

#: Longest wait for one Kafka round trip of the runner's own.
PROBE_TIMEOUT = 5.0

#: Longest pause between two attempts to reach Kafka.
MAX_BACKOFF = 5.0

#: Longest time one start of an app may take (it includes joining the group).
START_TIMEOUT = 60.0

#: Longest time a stop may take; faust would wait on an unreachable broker.
STOP_TIMEOUT = 10.0


def make_app(
    app_id: str,
    broker_url: str,
    data_dir: Path | None = None,
    *,
    partitions: int = PARTITIONS,
) -> faust.App:
    """A faust app on our transport, for a service that serves HTTP itself.

    ``app_id`` is also the consumer group: replicas of one service share it.
    ``broker_url`` may be a plain Kafka setting (``kafka://h:p``, ``h:p,h2:p``):
    it always selects our transport. faust keeps table state in ``data_dir``
    (a fresh temporary folder by default); give each app its own.
    """
    datadir = data_dir if data_dir is not None else Path(tempfile.mkdtemp(prefix="hotline-"))
    return faust.App(
        app_id,
        broker=kafka_broker_url(broker_url),
        broker_client_id=app_id,
        datadir=str(datadir),
        key_serializer="raw",
        value_serializer="json",
        # We serve HTTP ourselves (FastAPI under uvicorn).
        web_enabled=False,
        # A write counts once all in-sync replicas have it: the relay marks an
        # outbox row published only when Kafka really holds the message.
        producer_acks=-1,
        # A message the broker has not taken in this time fails, instead of
        # waiting in the client for faust's default 20 minutes: the relay keeps
        # the row, and an outage does not pile messages up in memory.
        producer_request_timeout=10.0,
        topic_partitions=partitions,
        topic_replication_factor=1,
        # The leader topic serves faust's table assignor; we keep no tables.
        topic_disable_leader=True,
        # A new group (or one a memory-only broker forgot) reads what was sent
        # before it joined: our consumers are idempotent, lost requests are not.
        consumer_auto_offset_reset="earliest",
        broker_session_timeout=SESSION_TIMEOUT,
        broker_heartbeat_interval=1.0,
        broker_rebalance_timeout=SESSION_TIMEOUT,
        # See a re-created topic soon after a broker restart (default: 5 minutes).
        consumer_metadata_max_age_ms=5_000,
    )


def requests_topic(app: faust.App, district: str) -> Any:
    """The district's requests stream, ``<district>.requests``: str keys, JSON values.

    ``value_type`` stays ``None``: faust takes only its own models there (``dict``
    fails on the first message), and ``None`` hands agents the decoded JSON.
    """
    return app.topic(
        names.requests_topic(district), key_type=str, value_type=None, value_serializer="json"
    )


def events_topic(app: faust.App, district: str) -> Any:
    """The district's events stream, ``<district>.events``: str keys, JSON values."""
    return app.topic(
        names.events_topic(district), key_type=str, value_type=None, value_serializer="json"
    )


def subscribed_topics(app: faust.App) -> set[str]:
    """The names of the topics the app's agents read.

    faust creates only its internal topics; the ones agents read must exist
    before the consumer subscribes (else a broker's auto-creation picks the
    partition count: Tansu makes several).
    """
    channels = [agent.channel for agent in app.agents.values()]
    return {name for channel in channels for name in getattr(channel, "topics", None) or ()}


class StreamRunner:
    """Keeps one faust app running in the current event loop.

    ``start()`` returns at once. A background task waits until Kafka answers,
    creates the topics the app's agents read, builds a fresh app (``define``
    adds its topics and agents) and starts it; then it keeps probing Kafka,
    re-creating forgotten topics, and replaces the app if it crashes.
    With ``producer_only`` an app starts only its producer: for a process
    that publishes and reads nothing (the intake).
    """

    def __init__(
        self,
        app_id: str,
        broker_url: str,
        data_dir: Path,
        define: Define | None = None,
        *,
        producer_only: bool = False,
        partitions: int = PARTITIONS,
    ) -> None:
        self.app_id = app_id
        self._broker_url = kafka_broker_url(broker_url)
        self._data_dir = data_dir
        self._define = define
        self._producer_only = producer_only
        self._partitions = partitions
        self._app: faust.App | None = None
        self._reachable = False
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self._attempts = itertools.count(1)

    @property
    def ready(self) -> bool:
        """The app runs (for a consumer: it has joined its group) and Kafka answers."""
        app = self._app
        return app is not None and self._reachable and not app.should_stop

    @property
    def app(self) -> faust.App | None:
        """The running app, or ``None`` while none has started."""
        return self._app

    async def start(self) -> None:
        """Begin starting the app in the background; return at once."""
        if self._task is None:
            self._stopping.clear()
            self._task = asyncio.create_task(self._run(), name=f"stream:{self.app_id}")

    async def wait_ready(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for ``ready``; say whether it came."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not self.ready and loop.time() < deadline:
            await asyncio.sleep(0.02)
        return self.ready

    async def stop(self) -> None:
        """Stop the app, or the attempts to start it (bounded in time)."""
        self._stopping.set()
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        app, self._app = self._app, None
        self._reachable = False
        if app is not None:
            await _stop_quietly(app)
            if not self._producer_only:
                self._forget_lag(subscribed_topics(app))  # a stopped consumer measures nothing

    async def _run(self) -> None:
        admin: AIOKafkaAdminClient | None = None
        backoff = 0.0
        try:
            while not self._stopping.is_set():
                try:
                    if admin is None:
                        admin = await self._connect()
                    await self._keep_app(admin)
                    backoff = 0.0
                except Exception as exc:
                    self._reachable = False
                    backoff = min(max(backoff * 2, 0.25), MAX_BACKOFF)
                    log.warning(
                        "%s: Kafka not reachable (%r); retrying in %.2fs", self.app_id, exc, backoff
                    )
                    if admin is not None:
                        await _close(admin)
                        admin = None
                    await _wait(self._stopping, backoff)
                    continue
                await _wait(self._stopping, PROBE_SECONDS)
        finally:
            if admin is not None:
                await _close(admin)

    async def _keep_app(self, admin: AIOKafkaAdminClient) -> None:
        """One round: probe Kafka, re-create lost topics, replace a dead app or start one."""
        running = self._app
        if running is not None and running.should_stop:
            log.warning(
                "%s: faust app stopped (%r); starting a new one", self.app_id, running.crash_reason
            )
            self._app = None
            await _stop_quietly(running)
        if self._app is not None:
            await self._declare(admin, self._app)
            self._reachable = True
            await self._observe_lag(admin, self._app)
            return
        app = self._fresh_app(next(self._attempts))
        await self._declare(admin, app)
        self._reachable = True
        try:
            await asyncio.wait_for(app.start(), START_TIMEOUT)
            if app.should_stop:  # it crashed while starting
                raise RuntimeError(f"faust app {self.app_id} crashed while starting")
        except BaseException:
            await _stop_quietly(app)
            raise
        self._app = app
        log.info("%s: streaming", self.app_id)

    async def _observe_lag(self, admin: AIOKafkaAdminClient, app: faust.App) -> None:
        """Set the consumer lag gauge: each read topic's end offsets minus the group's commits.

        The group's committed offsets come from the broker, as Kafka's own
        tools report them: a consumer that stopped committing shows lag even
        while it still fetches. Never fatal: a failed measure leaves the last one.
        A topic this replica holds no partition of (another replica of the group
        reads it, or a rebalance is under way) has its series removed: the
        number it had would be stale, and the replica that holds it reports it.
        """
        if self._producer_only:
            return
        topics = subscribed_topics(app)
        try:
            partitions = [tp for tp in app.consumer.assignment() if tp.topic in topics]
            if not partitions:
                self._forget_lag(topics)
                return
            # the end offsets the last fetch saw (Tansu answers ListOffsets per batch, not
            # per record); a consumer that fetches every few milliseconds keeps them fresh
            ends = {tp: app.consumer.highwater(tp) for tp in partitions}
            committed = await asyncio.wait_for(
                admin.list_consumer_group_offsets(
                    self.app_id,
                    partitions=[TopicPartition(tp.topic, tp.partition) for tp in partitions],
                ),
                PROBE_TIMEOUT,
            )
        except Exception as exc:
            log.debug("%s: cannot measure consumer lag: %r", self.app_id, exc)
            return
        held = {tp.topic for tp in partitions}
        self._forget_lag(topics - held)
        lag = dict.fromkeys(held, 0)
        for tp in partitions:
            end = ends.get(tp)
            done = committed.get(TopicPartition(tp.topic, tp.partition))
            offset = done.offset if done is not None and done.offset >= 0 else 0
            if end is not None:
                lag[tp.topic] += max(end - offset, 0)
        for topic, behind in lag.items():
            metrics.STREAM_CONSUMER_LAG.labels(names.topic_district(topic), self.app_id, topic).set(
                behind
            )

    def _forget_lag(self, topics: set[str]) -> None:
        """Remove this consumer group's lag series for ``topics`` (none there: nothing done)."""
        for topic in topics:
            with contextlib.suppress(KeyError):  # older prometheus-client raises on a missing one
                metrics.STREAM_CONSUMER_LAG.remove(names.topic_district(topic), self.app_id, topic)

    async def _connect(self) -> AIOKafkaAdminClient:
        admin = AIOKafkaAdminClient(
            bootstrap_servers=bootstrap_servers(self._broker_url),
            client_id=f"{self.app_id}-probe",
            request_timeout_ms=int(PROBE_TIMEOUT * 1000),
        )
        try:
            await asyncio.wait_for(admin.start(), PROBE_TIMEOUT)
        except BaseException:
            await _close(admin)
            raise
        return admin

    async def _declare(self, admin: AIOKafkaAdminClient, app: faust.App) -> None:
        """Create the topics ``app`` reads if the broker lacks them; a liveness probe too."""
        existing = set(await asyncio.wait_for(admin.list_topics(), PROBE_TIMEOUT))
        wanted = set() if self._producer_only else subscribed_topics(app)
        missing = sorted(wanted - existing)
        if not missing:
            return
        log.info("%s: creating topics %s", self.app_id, missing)
        response = await asyncio.wait_for(
            admin.create_topics(
                [NewTopic(name, self._partitions, 1) for name in missing],
                timeout_ms=int(PROBE_TIMEOUT * 1000),
            ),
            PROBE_TIMEOUT,
        )
        for error in response.to_object()["topic_errors"]:
            if error["error_code"] not in (0, TopicAlreadyExistsError.errno):
                # e.g. a managed Kafka that forbids it: the topics must be made by hand
                log.warning(
                    "%s: cannot create topic %s: %s (code %s)",
                    self.app_id,
                    error["topic"],
                    error["error_message"],
                    error["error_code"],
                )

    def _fresh_app(self, attempt: int) -> faust.App:
        app = make_app(
            self.app_id,
            self._broker_url,
            self._data_dir / f"{self.app_id}-{attempt}",
            partitions=self._partitions,
        )
        app.producer_only = self._producer_only
        if self._define is not None:
            self._define(app)
        return app


async def _stop_quietly(app: faust.App) -> None:
    """Stop an app without letting an unreachable broker hold the process."""
    try:
        await asyncio.wait_for(app.stop(), STOP_TIMEOUT)
    except Exception as exc:
        log.warning("%s: stop did not finish cleanly: %r", app.conf.id, exc)


async def _close(admin: AIOKafkaAdminClient) -> None:
    with contextlib.suppress(Exception):
        await asyncio.wait_for(admin.close(), PROBE_TIMEOUT)


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
