"""Every metric the services export, defined once.

Labels carry the district (cities scrape many districts into one Prometheus),
the unit and the top-level category; never a ticket id or anything personal.
Buckets run from a second to days because SLA limits do.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

#: From one second (a fast router) to three days (a resolution limit).
SLA_BUCKETS = (
    0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800,
    3600, 7200, 14400, 28800, 86400, 172800, 259200,
)  # fmt: skip


def top_category(category: str) -> str:
    """The top level of a category: a bounded label value whatever the taxonomy's depth."""
    return category.split(".", 1)[0]


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
TASKS_ASSIGNED = Counter(
    "hotline_tasks_assigned_total",
    "Tasks assigned to a unit by the router.",
    ["district", "unit", "category"],
)
TICKETS_TRIAGED = Counter(
    "hotline_tickets_sent_to_triage_total",
    "Tickets no rule or remaining unit could take, left for a dispatcher.",
    ["district", "category"],
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
ESCALATIONS = Counter(
    "hotline_escalations_total",
    "Escalation steps fired because a clock ran out.",
    ["district", "unit", "category", "level"],
)
TIME_TO_ASSIGNMENT = Histogram(
    "hotline_time_to_assignment_seconds",
    "From the request's intake to its assignment to a unit.",
    ["district", "unit", "category"],
    buckets=SLA_BUCKETS,
)
TIME_TO_SIGN_FOR = Histogram(
    "hotline_time_to_sign_for_seconds",
    "From a task's assignment to the unit signing for it.",
    ["district", "unit", "category"],
    buckets=SLA_BUCKETS,
)
EVENTS_CONSUMED = Counter(
    "hotline_events_consumed_total",
    "Events read from the district's events stream by the notifier.",
    ["district", "type"],
)
POISON_MESSAGES = Counter(
    "hotline_poison_messages_total",
    "Stream messages that could not be understood and were set aside.",
    ["district", "stream"],
)
OUTBOX_PUBLISHED = Counter(
    "hotline_outbox_published_total",
    "Outbox rows a relay published and the broker confirmed.",
    ["district", "relay"],
)
OUTBOX_OLDEST_AGE = Gauge(
    "hotline_outbox_oldest_pending_age_seconds",
    "Age of the oldest outbox row not yet published (0 when none wait).",
    ["district", "relay"],
)
REDRIVEN = Counter(
    "hotline_tickets_redriven_total",
    "Tickets the router took from the ledger because their request message never came.",
    ["district"],
)
CONFIG_RELOADS = Counter(
    "hotline_config_reloads_total",
    "District file reloads, taken or refused (a refused one leaves the old config in force).",
    ["district", "result"],
)
TRANSFERS = Counter(
    "hotline_transfers_total",
    "Requests handed to a peer district's intake, by outcome (done, refused, failed try).",
    ["district", "peer", "outcome"],
)
