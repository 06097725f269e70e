"""What happened to a ticket, in the past tense.

Every state change is recorded as one of these in the ledger and published on
the district's ``events`` stream, so the history of a ticket and the stream
that the notifier reads are the same facts.
"""

from __future__ import annotations

from enum import StrEnum


class EventType(StrEnum):
    """The kinds of event; their values are part of the stream's interface."""

    RECEIVED = "received"
    ASSIGNED = "assigned"
    SENT_TO_TRIAGE = "sent-to-triage"
    SIGNED_FOR = "signed-for"
    RETURNED = "returned"
    RESOLVED = "resolved"
    RESOLVED_AT_INTAKE = "resolved-at-intake"
    LINKED_AS_DUPLICATE = "linked-as-duplicate"
    DUPLICATE_REPORTED = "duplicate-reported"
    PROGRESS_REPORTED = "progress-reported"
    ESCALATED = "escalated"
    TRANSFER_REQUESTED = "transfer-requested"
    TRANSFERRED = "transferred"
    OBSERVED = "copied-to-observer"
    EXTENSION_REQUESTED = "extension-requested"
    EXTENSION_APPROVED = "extension-approved"
    EXTENSION_REFUSED = "extension-refused"
    FEEDBACK_RECORDED = "feedback-recorded"
    REOPENED = "reopened"
    #: Not about one ticket: many requests of a kind from one area (see domain.hotspots).
    HOTSPOT = "hotspot"
