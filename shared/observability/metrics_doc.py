"""``docs/metrics.md``, written from ``hotline.shared.observability.metrics`` so that it
cannot drift.

    python -m hotline.shared.observability.metrics_doc > docs/metrics.md

A test checks that the committed file is what this prints.
"""

from __future__ import annotations

from typing import Any

from prometheus_client import Counter, Gauge, Histogram

from hotline.shared.observability import metrics

HEADER = """\
# Metrics

Generated from `shared/observability/metrics.py` by
`python -m hotline.shared.observability.metrics_doc > docs/metrics.md`;
do not edit by hand (a test compares the two).

Every service serves these at `GET /metrics`; a process exports only the ones it updates.
Names follow the Prometheus conventions: the `hotline_` prefix, base units (`_seconds`),
`_total` on counters. Labels:

| label | what it holds |
| --- | --- |
| `district` | the district id of the district file; every metric has it |
| `unit` | a handling unit's id (`none` when a ticket has no unit) |
| `category` | the top level of the request's category (`medical` for `medical.dialysis`) |
| `urgency` | `normal`, `urgent` or `critical` |
| `clock` | an SLA clock: `sign-for`, `first-response`, `resolution` |
| `state` | a ticket's or a task's state |
| `relay`, `consumer`, `topic`, `stream` | a pipeline stage: outbox relay, consumer group, topic |

No label ever carries a ticket id, a caller's name, phone or address.

The gauges marked *from the ledger* are computed every few seconds from the ledger or the
district file (outbox backlog by each relay's service; tickets and tasks by the notifier) and
served as last computed. With more than one replica of a service, take `max` over replicas.

Histogram buckets (seconds), chosen for the SLA limits (minutes for sign-for, hours to days
for resolution): {buckets}.

| metric | type | labels | meaning |
| --- | --- | --- | --- |
"""


def _row(name: str, kind: str, labels: tuple[str, ...] | list[str], help_: str) -> str:
    shown = ", ".join(f"`{label}`" for label in labels)
    return f"| `{name}` | {kind} | {shown} | {help_} |"


def _describe(metric: Any) -> str | None:
    if isinstance(metric, metrics.Scraped):
        return _row(metric.name, "gauge, from the ledger", metric.labels, metric.documentation)
    if isinstance(metric, Counter):
        kind, name = "counter", f"{metric._name}_total"
    elif isinstance(metric, Histogram):
        kind, name = "histogram", metric._name
    elif isinstance(metric, Gauge):
        kind, name = "gauge", metric._name
    else:
        return None
    return _row(name, kind, metric._labelnames, metric._documentation)


def render() -> str:
    """The whole document, metrics in the order ``metrics.py`` defines them."""
    buckets = ", ".join(f"{b:g}" for b in metrics.SLA_BUCKETS)
    rows = [row for value in vars(metrics).values() if (row := _describe(value)) is not None]
    return HEADER.format(buckets=buckets) + "\n".join(rows) + "\n"


def main() -> None:
    """Print the document."""
    print(render(), end="")


if __name__ == "__main__":
    main()
