"""Every metric the services export, defined once.

Names follow Prometheus conventions: the ``hotline_`` prefix, base units
(``_seconds``), ``_total`` on counters. Labels carry the district (cities
scrape many districts into one Prometheus), the unit, the top-level category,
the urgency, the clock or the stage; never a ticket id or anything personal.
Histogram buckets run from a fraction of a second to days because SLA limits do.

Two kinds live here: the counters, gauges and histograms the code updates as
things happen, and :class:`Scraped` gauges, which a service computes from the
ledger or its config every few seconds (``hotline.shared.observability.gauges``) and
Prometheus reads as they were last computed. ``docs/metrics.md`` is generated
from this module (``python -m hotline.shared.observability.metrics_doc``).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

# The ``_created`` series double every counter's lines and no query of ours reads them.
disable_created_metrics()  # type: ignore[no-untyped-call]

#: From a twentieth of a second (a fast router) through the sign-for limits
#: (10 min, 30 min, 2 h) to a week (a resolution limit in working days).
SLA_BUCKETS = (
    0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 900, 1800,
    3600, 7200, 14400, 28800, 43200, 86400, 172800, 259200, 432000, 604800,
)  # fmt: skip


def top_category(category: str) -> str:
    """The top level of a category: a bounded label value whatever the taxonomy's depth."""
    return category.split(".", 1)[0]


# --- the intake ---------------------------------------------------------------------------

REQUESTS_RECEIVED = Counter(
    "hotline_requests_received_total",
    "Requests accepted by the intake and written to the ledger.",
    ["district", "category", "channel", "urgency"],
)
REQUESTS_RESOLVED_AT_INTAKE = Counter(
    "hotline_requests_resolved_at_intake_total",
    "Requests the call-taker answered on the spot (first-contact resolution); never routed.",
    ["district", "category", "channel"],
)
TASKS_SIGNED_FOR = Counter(
    "hotline_tasks_signed_for_total",
    "Tasks a unit signed for.",
    ["district", "unit", "category"],
)
TASKS_RETURNED = Counter(
    "hotline_tasks_returned_total",
    "Tasks a unit returned as not its own.",
    ["district", "unit", "category"],
)
TASKS_RESOLVED = Counter(
    "hotline_tasks_resolved_total",
    "Tasks a unit finished with a result.",
    ["district", "unit", "category"],
)

# --- the router ---------------------------------------------------------------------------

TASKS_ASSIGNED = Counter(
    "hotline_tasks_assigned_total",
    "Tasks assigned to a unit by the router.",
    ["district", "unit", "category", "urgency"],
)
TICKETS_TRIAGED = Counter(
    "hotline_tickets_sent_to_triage_total",
    "Tickets no rule or remaining unit could take, left for a dispatcher.",
    ["district", "category"],
)
TIME_TO_ASSIGNMENT = Histogram(
    "hotline_time_to_assignment_seconds",
    "From the request's intake to its assignment to a unit.",
    ["district", "unit", "category", "urgency"],
    buckets=SLA_BUCKETS,
)
REDRIVEN = Counter(
    "hotline_tickets_redriven_total",
    "Tickets the router took from the ledger because their request message never came.",
    ["district"],
)
TRANSFERS = Counter(
    "hotline_transfers_total",
    "Requests handed to a peer district's intake, by outcome (done, refused, failed-try, "
    "no-token: its token could not be found, so it went to manual triage unsent).",
    ["district", "peer", "outcome"],
)

# --- the notifier -------------------------------------------------------------------------

TIME_TO_SIGN_FOR = Histogram(
    "hotline_time_to_sign_for_seconds",
    "From a task's assignment to the unit signing for it.",
    ["district", "unit", "category", "urgency"],
    buckets=SLA_BUCKETS,
)
TIME_TO_FIRST_RESPONSE = Histogram(
    "hotline_time_to_first_response_seconds",
    "From a task's assignment to the unit's first response: its first progress report,"
    " or its result when it reported none before.",
    ["district", "unit", "category", "urgency"],
    buckets=SLA_BUCKETS,
)
TIME_TO_RESOLUTION = Histogram(
    "hotline_time_to_resolution_seconds",
    "From the request's intake to the unit finishing it with a result.",
    ["district", "unit", "category", "urgency"],
    buckets=SLA_BUCKETS,
)
SLA_CLOCK_STOPS = Counter(
    "hotline_sla_clock_stops_total",
    "SLA clocks settled, once each: outcome=met when the clock stops (sign-for, progress, "
    "resolution) at or before its deadline; outcome=missed as soon as its deadline passes with "
    "the clock still running (counted by the notifier then, or at the late stop if that comes "
    "first). A clock stopped before its deadline because the task was returned is not counted. "
    "clock is sign-for, first-response or resolution.",
    ["district", "unit", "category", "urgency", "clock", "outcome"],
)
HOTSPOTS = Counter(
    "hotline_hotspots_total",
    "Hot spots raised: a rule's threshold of requests from one area within one window.",
    ["district", "category"],
)
ESCALATIONS = Counter(
    "hotline_escalations_total",
    "Escalation steps fired because a clock ran out.",
    ["district", "unit", "category", "urgency", "level"],
)
NOTIFICATIONS = Counter(
    "hotline_notifications_total",
    "Notification deliveries by channel (sms, wechat... over AMQP; webhook; email) and outcome:"
    " sent (the gateway's broker or the receiver took it), failed-try (refused; tried again"
    " after a backoff), dead-lettered (refused too often: kept in the ledger, never tried again).",
    ["district", "channel", "outcome"],
)
FEEDBACK = Counter(
    "hotline_feedback_total",
    "Citizens' satisfaction with resolved tickets, as the feedback group recorded it"
    " (satisfied, basically-satisfied, dissatisfied).",
    ["district", "result"],
)
EVENTS_CONSUMED = Counter(
    "hotline_events_consumed_total",
    "Events read from the district's events stream by the notifier.",
    ["district", "type"],
)

# --- the pipeline (every service) ---------------------------------------------------------

POISON_MESSAGES = Counter(
    "hotline_poison_messages_total",
    "Stream or queue messages that could not be understood and were set aside.",
    ["district", "stream"],
)
OUTBOX_PUBLISHED = Counter(
    "hotline_outbox_published_total",
    "Outbox rows a relay published and the broker confirmed.",
    ["district", "relay"],
)
STREAM_CONSUMER_LAG = Gauge(
    "hotline_stream_consumer_lag_messages",
    "Messages on a Kafka topic that the service's consumer group has not committed yet"
    " (end offset minus committed offset, summed over partitions).",
    ["district", "consumer", "topic"],
    multiprocess_mode="max",
)
CONFIG_RELOADS = Counter(
    "hotline_config_reloads_total",
    "District file reloads, taken or refused (a refused one leaves the old config in force).",
    ["district", "result"],
)


# --- computed from the ledger and the config every few seconds ----------------------------


@dataclass(frozen=True)
class Scraped:
    """A gauge a service computes from the ledger or its config, not one it counts."""

    name: str
    documentation: str
    labels: tuple[str, ...]

    def family(self) -> GaugeMetricFamily:
        """An empty metric family to fill with this gauge's samples."""
        return GaugeMetricFamily(self.name, self.documentation, labels=list(self.labels))


OUTBOX_PENDING = Scraped(
    "hotline_outbox_pending_messages",
    "Outbox rows of a relay not yet published: the first sign of a stuck pipeline.",
    ("district", "relay"),
)
OUTBOX_OLDEST_AGE = Scraped(
    "hotline_outbox_oldest_pending_age_seconds",
    "Age of a relay's oldest outbox row not yet published (0 when none wait).",
    ("district", "relay"),
)
TICKETS_OPEN = Scraped(
    "hotline_tickets_open",
    "Tickets not yet resolved or transferred, by state (received, assigned, signed-for,"
    " returned, triage, transfer-pending, reopened).",
    ("district", "state"),
)
TASKS_OPEN = Scraped(
    "hotline_tasks_open",
    "Tasks a unit holds, by state (assigned: waiting for its sign-for; signed-for: in hand).",
    ("district", "unit", "state"),
)
TASKS_OVERDUE = Scraped(
    "hotline_tasks_overdue",
    "Tasks a unit holds whose clock is past its deadline and still runs, by clock.",
    ("district", "unit", "clock"),
)
TASKS_BY_ESCALATION = Scraped(
    "hotline_tasks_open_by_escalation_level",
    "Tasks a unit holds, by the highest escalation level their ticket has reached (0: none).",
    ("district", "unit", "level"),
)
BUSINESS_HOURS = Scraped(
    "hotline_business_hours",
    "1 while the district's business hours (its district file, its time zone) are open, else 0.",
    ("district",),
)

#: One sample of a scraped gauge: the gauge, its label values, its value.
Sample = tuple[Scraped, tuple[str, ...], float]


class Snapshots(Collector):
    """Serves the scraped gauges as their owners last computed them.

    Owners (a relay, the notifier) compute their samples on their own
    schedule, off the scrape: a slow or unreachable ledger never holds up
    ``/metrics``. An owner that stops, or fails to compute, drops its samples
    instead of leaving stale values behind.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._latest: dict[object, list[Sample]] = {}

    def put(self, owner: object, samples: Iterable[Sample]) -> None:
        """Replace ``owner``'s samples."""
        with self._lock:
            self._latest[owner] = list(samples)

    def drop(self, owner: object) -> None:
        """Forget ``owner``'s samples."""
        with self._lock:
            self._latest.pop(owner, None)

    def describe(self) -> Sequence[GaugeMetricFamily]:
        """Nothing to declare up front: the families depend on who runs."""
        return []

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """One family per scraped gauge that has samples."""
        with self._lock:
            samples = [s for owned in self._latest.values() for s in owned]
        families: dict[str, GaugeMetricFamily] = {}
        for spec, labels, value in samples:
            family = families.get(spec.name)
            if family is None:
                family = families[spec.name] = spec.family()
            family.add_metric(list(labels), value)
        yield from families.values()


SCRAPED = (
    OUTBOX_PENDING,
    OUTBOX_OLDEST_AGE,
    TICKETS_OPEN,
    TASKS_OPEN,
    TASKS_OVERDUE,
    TASKS_BY_ESCALATION,
    BUSINESS_HOURS,
)
SNAPSHOTS = Snapshots()
REGISTRY.register(SNAPSHOTS)


def exposition() -> bytes:
    """What ``/metrics`` answers: this process's metrics, or all its supervisor's workers'.

    Under ``hotline intake --workers N`` (``PROMETHEUS_MULTIPROC_DIR`` set) the
    counters and histograms of every worker are summed from their files, and
    the scraped gauges are this worker's own: each worker computes the same
    ledger figures. Process and GC metrics are per process and left out then.
    """
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return generate_latest()
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    registry.register(SNAPSHOTS)
    return generate_latest(registry)
