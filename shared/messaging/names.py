"""Names on the brokers, in one place; every one carries the district id or lives in
a district's own exchange, so one deployment never reads another's data.

These names are a public interface: units, gateways and dashboards bind to them.
"""

from __future__ import annotations


def requests_topic(district: str) -> str:
    """The Kafka stream of requests the router owes a decision."""
    return f"{district}.requests"


def events_topic(district: str) -> str:
    """The Kafka stream of everything that happened to the district's tickets."""
    return f"{district}.events"


def topic_district(topic: str) -> str:
    """The district a stream belongs to, from its name (``lunan.requests`` is Lunan's)."""
    return topic.rsplit(".", 1)[0]


def exchange_name(district: str) -> str:
    """The district's AMQP topic exchange: tasks, escalations and notifications."""
    return f"hotline.{district}"


def unit_queue_name(district: str, unit_id: str) -> str:
    """The durable queue a handling unit consumes."""
    return f"{district}.unit.{unit_id}"


def unit_routing_key(unit_id: str) -> str:
    """The routing key of a unit's tasks on the district's exchange."""
    return f"unit.{unit_id}"


def escalation_routing_key(level: int) -> str:
    """The routing key of an escalation step of ``level``."""
    return f"escalation.{level}"


def triage_queue_name(district: str) -> str:
    """The durable queue of tickets no rule fits, read by the district's dispatchers."""
    return f"{district}.triage"


#: The routing key of tickets for manual triage.
TRIAGE_ROUTING_KEY = "triage"


def notify_routing_key(channel: str) -> str:
    """The routing key a district's notification gateway (``sms``, ``wechat``...) consumes."""
    return f"notify.{channel}"


def notify_queue_name(district: str, channel: str) -> str:
    """The durable queue that holds a gateway's notifications until it takes them."""
    return f"{district}.notify.{channel}"
