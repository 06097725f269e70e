"""The Grafana dashboards, written from code so that they follow the metrics' names.

    python -m hotline.shared.observability.dashboards deploy/grafana/dashboards

writes ``district.json``, ``unit.json`` and ``city.json`` there; Grafana loads
them from files (deploy/grafana/provisioning). A test checks that the
committed files are what this writes, that every query parses, and (against a
real Prometheus scraping a simulated load) that every query returns data.

Gauges from the ledger are reported by every replica of a service, so panels
take ``max`` over replicas before summing over units or states.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from hotline.shared.observability import metrics

DATASOURCE = {"type": "prometheus", "uid": "prometheus"}
D = 'district=~"$district"'
DU = 'district=~"$district", unit=~"$unit"'
CLOCK_WINDOWS = ("1h", "1d", "7d", "30d")
COMPLIANCE = "district_clock:hotline_sla_clock_stops_met:ratio_{}"
UNIT_COMPLIANCE = "district_unit_clock:hotline_sla_clock_stops_met:ratio_{}"

Panel = dict[str, Any]

#: What the completion rate panels show, in the words of `hotline report`.
COMPLETION = (
    "Completed over given to units, as `hotline report` defines it: tasks resolved over "
    "requests received less those answered at first contact, in the chosen time range. From "
    "the counters, so a task resolved again after a reopening counts again, and requests "
    "transferred to other districts or waiting in triage count as given; the report, from "
    "the ledger, is exact."
)


def _name(metric: Any) -> str:
    """The exposed name of a metric of hotline.shared.observability.metrics (counters with ``_total``)."""
    if isinstance(metric, metrics.Scraped):
        return metric.name
    name: str = metric._name
    return f"{name}_total" if metric._type == "counter" else name


RECEIVED = _name(metrics.REQUESTS_RECEIVED)
ASSIGNED = _name(metrics.TASKS_ASSIGNED)
SIGNED = _name(metrics.TASKS_SIGNED_FOR)
RESOLVED = _name(metrics.TASKS_RESOLVED)
RETURNED = _name(metrics.TASKS_RETURNED)
TRIAGED = _name(metrics.TICKETS_TRIAGED)
AT_INTAKE = _name(metrics.REQUESTS_RESOLVED_AT_INTAKE)
ESCALATIONS = _name(metrics.ESCALATIONS)
HOTSPOTS = _name(metrics.HOTSPOTS)
TO_SIGN_FOR = _name(metrics.TIME_TO_SIGN_FOR)
TO_RESOLUTION = _name(metrics.TIME_TO_RESOLUTION)
TO_ASSIGNMENT = _name(metrics.TIME_TO_ASSIGNMENT)
TICKETS_OPEN = _name(metrics.TICKETS_OPEN)
TASKS_OPEN = _name(metrics.TASKS_OPEN)
OVERDUE = _name(metrics.TASKS_OVERDUE)
OUTBOX_AGE = _name(metrics.OUTBOX_OLDEST_AGE)
OUTBOX_PENDING = _name(metrics.OUTBOX_PENDING)
LAG = _name(metrics.STREAM_CONSUMER_LAG)


def target(expr: str, legend: str = "", ref: str = "A") -> dict[str, Any]:
    """One query of a panel."""
    return {"datasource": DATASOURCE, "expr": expr, "legendFormat": legend, "refId": ref}


def panel(
    kind: str,
    title: str,
    targets: list[tuple[str, str]],
    *,
    unit: str = "short",
    description: str = "",
    width: int = 8,
    height: int = 8,
    options: dict[str, Any] | None = None,
    instant: bool = False,
) -> Panel:
    """A panel of ``kind`` (timeseries, stat, bargauge, table) with its (expr, legend) queries."""
    refs = "ABCDEFGHIJ"
    queries = [target(expr, legend, refs[i]) for i, (expr, legend) in enumerate(targets)]
    if instant:
        for query in queries:
            query["instant"] = True
            query["range"] = False
    return {
        "type": kind,
        "title": title,
        "description": description,
        "datasource": DATASOURCE,
        "targets": queries,
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "options": options or {},
        "gridPos": {"w": width, "h": height},
    }


def district_variable(*, multi: bool) -> dict[str, Any]:
    """The ``district`` variable: every district that has sent a metric."""
    query = f"label_values({RECEIVED}, district)"
    return {
        "name": "district",
        "label": "District",
        "type": "query",
        "datasource": DATASOURCE,
        "definition": query,
        "query": {"query": query, "refId": "district"},
        "refresh": 2,
        "multi": multi,
        "includeAll": multi,
        "allValue": ".+" if multi else None,
        "sort": 1,
        "current": {"text": ["All"], "value": ["$__all"]} if multi else {},
        "options": [],
    }


def unit_variable() -> dict[str, Any]:
    """The ``unit`` variable: the units of the chosen district."""
    query = f"label_values({TASKS_OPEN}{{{D}}}, unit)"
    return {
        "name": "unit",
        "label": "Unit",
        "type": "query",
        "datasource": DATASOURCE,
        "definition": query,
        "query": {"query": query, "refId": "unit"},
        "refresh": 2,
        "multi": False,
        "includeAll": False,
        "sort": 1,
        "current": {},
        "options": [],
    }


def _laid_out(panels: list[Panel]) -> list[Panel]:
    """Number the panels and place them left to right, wrapping at Grafana's 24 columns."""
    x = y = row_height = 0
    for number, each in enumerate(panels, start=1):
        grid = each["gridPos"]
        if x + grid["w"] > 24:
            x, y, row_height = 0, y + row_height, 0
        grid.update(x=x, y=y)
        x, row_height = x + grid["w"], max(row_height, grid["h"])
        each["id"] = number
    return panels


def dashboard(
    uid: str, title: str, description: str, variables: list[dict[str, Any]], panels: list[Panel]
) -> dict[str, Any]:
    """A whole dashboard, as Grafana's file provisioning reads it."""
    return {
        "uid": uid,
        "title": title,
        "description": description,
        "tags": ["hotline"],
        "editable": False,
        "timezone": "browser",
        "refresh": "1m",
        "schemaVersion": 39,
        "time": {"from": "now-24h", "to": "now"},
        "templating": {"list": variables},
        "panels": _laid_out(panels),
    }


def _quantile(q: float, histogram: str, selector: str, by: str = "") -> str:
    group = f"le, {by}" if by else "le"
    return (
        f"histogram_quantile({q}, sum by ({group}) "
        f"(rate({histogram}_bucket{{{selector}}}[$__rate_interval])))"
    )


def _compliance(template: str, selector: str, by: str) -> list[tuple[str, str]]:
    return [
        (f"min by ({by}) ({template.format(w)}{{{selector}}})", f"{{{{{by}}}}} {w}")
        for w in CLOCK_WINDOWS
    ]


def district_overview() -> dict[str, Any]:
    """One district: requests in, where tickets stand, SLA compliance, escalations, hot spots."""
    per_hour = f"sum by (category) (rate({RECEIVED}{{{D}}}[$__rate_interval])) * 3600"
    # As `hotline report` and the README define it: completed ÷ given to units, the units'
    # share being what the call-takers did not answer at first contact (0 when none were).
    given_to_units = (
        f"(sum(increase({RECEIVED}{{{D}}}[$__range]))"
        f" - (sum(increase({AT_INTAKE}{{{D}}}[$__range])) or vector(0)))"
    )
    completion = f"sum(increase({RESOLVED}{{{D}}}[$__range])) / {given_to_units}"
    first_contact = (
        f"sum(increase({AT_INTAKE}{{{D}}}[$__range])) / sum(increase({RECEIVED}{{{D}}}[$__range]))"
    )
    panels = [
        panel("stat", "Requests in", [(f"sum(increase({RECEIVED}{{{D}}}[$__range]))", "")],
              description="Requests the intake accepted in the chosen time range.", width=4,
              instant=True),
        panel("stat", "Completion rate", [(completion, "")], unit="percentunit", width=4,
              description=COMPLETION,
              instant=True),
        panel("stat", "First-contact resolution rate", [(first_contact, "")], unit="percentunit",
              width=4, instant=True,
              description="Requests the call-taker answered on the spot, over requests received."),
        panel("stat", "Sent to manual triage", [(f"sum(increase({TRIAGED}{{{D}}}[$__range]))", "")],
              width=4, instant=True,
              description="Requests no rule or remaining unit could take (dispatchers handle them)."),
        panel("stat", "Returned by units", [(f"sum(increase({RETURNED}{{{D}}}[$__range]))", "")],
              width=4, instant=True, description="Tasks a unit handed back as not its own."),
        panel("bargauge", "Open tickets by state", [(f"max by (state) ({TICKETS_OPEN}{{{D}}})", "{{state}}")],
              width=8, instant=True, description="Tickets not yet resolved or transferred, now."),
        panel("timeseries", "Requests in per hour, by category", [(per_hour, "{{category}}")], width=12),
        panel("timeseries", "Tasks per hour", [
            (f"sum(rate({ASSIGNED}{{{D}}}[$__rate_interval])) * 3600", "assigned"),
            (f"sum(rate({SIGNED}{{{D}}}[$__rate_interval])) * 3600", "signed for"),
            (f"sum(rate({RESOLVED}{{{D}}}[$__rate_interval])) * 3600", "resolved"),
        ], width=12),
        panel("bargauge", "SLA compliance per clock (1h, 1d, 7d, 30d)",
              _compliance(COMPLIANCE, D, "clock"), unit="percentunit", width=12, instant=True,
              description="Share of SLA clocks met; the SLO is 95% (docs/monitoring.md)."),
        panel("timeseries", "Escalations by level",
              [(f"sum by (level) (increase({ESCALATIONS}{{{D}}}[$__rate_interval]))", "level {{level}}")],
              width=12),
        panel("timeseries", "Time to sign-for (p50, p90)", [
            (_quantile(0.5, TO_SIGN_FOR, D), "p50"),
            (_quantile(0.9, TO_SIGN_FOR, D), "p90"),
        ], unit="s", width=12),
        panel("timeseries", "Time to resolution (p50, p90)", [
            (_quantile(0.5, TO_RESOLUTION, D), "p50"),
            (_quantile(0.9, TO_RESOLUTION, D), "p90"),
        ], unit="s", width=12),
        panel("bargauge", "Hot spots raised, by category",
              [(f"sum by (category) (increase({HOTSPOTS}{{{D}}}[$__range]))", "{{category}}")],
              width=6, instant=True,
              description="Hot spots the notifier raised in the chosen time range: a hotspots rule's "
              "threshold of requests from one area within its window (README, Hot spots), by "
              "top-level category; 0 for a watched category with none. The events stream and "
              "the supervision group's messages name the area."),
        panel("bargauge", "Hot spots: units with the most overdue tasks",
              [(f"topk(10, sum by (unit) (max by (unit, clock) ({OVERDUE}{{{D}}})))", "{{unit}}")],
              width=6, instant=True, description="Tasks past their deadline, clock still running."),
        panel("bargauge", "Hot spots: units with the most tasks waiting for sign-for",
              [(f'topk(10, max by (unit) ({TASKS_OPEN}{{{D}, state="assigned"}}))', "{{unit}}")],
              width=6, instant=True),
        panel("bargauge", "Hot spots: categories",
              [(f"topk(5, sum by (category) (increase({RECEIVED}{{{D}}}[$__range])))", "{{category}}")],
              width=6, instant=True),
        panel("timeseries", "Pipeline: oldest unpublished outbox row",
              [(f"max by (relay) ({OUTBOX_AGE}{{{D}}})", "{{relay}}")], unit="s", width=12,
              description="Grows when a broker is down or a relay is stuck (alert after 2 min)."),
        panel("timeseries", "Pipeline: consumer lag",
              [(f"max by (consumer, topic) ({LAG}{{{D}}})", "{{consumer}}")], width=12,
              description="Messages a consumer group has not committed yet."),
    ]  # fmt: skip
    return dashboard(
        "hotline-district",
        "Hotline: district overview",
        "One district's requests, tickets, SLA compliance, escalations and hot spots.",
        [district_variable(multi=False)],
        panels,
    )


def unit_drilldown() -> dict[str, Any]:
    """One unit: its queue, its sign-for and resolution times, its overdue tasks."""
    panels = [
        panel("bargauge", "Queue", [(f"max by (state) ({TASKS_OPEN}{{{DU}}})", "{{state}}")],
              width=8, instant=True,
              description="Tasks the unit holds: assigned (not yet signed for) and signed for."),
        panel("bargauge", "Overdue tasks by clock", [(f"max by (clock) ({OVERDUE}{{{DU}}})", "{{clock}}")],
              width=8, instant=True,
              description="Tasks whose clock is past its deadline and still runs, by clock."),
        panel("bargauge", "SLA compliance per clock (1h, 1d, 7d, 30d)",
              _compliance(UNIT_COMPLIANCE, DU, "clock"), unit="percentunit", width=8, instant=True),
        panel("timeseries", "Queue over time", [(f"max by (state) ({TASKS_OPEN}{{{DU}}})", "{{state}}")],
              width=12),
        panel("timeseries", "Tasks per hour", [
            (f"sum(rate({ASSIGNED}{{{DU}}}[$__rate_interval])) * 3600", "assigned"),
            (f"sum(rate({SIGNED}{{{DU}}}[$__rate_interval])) * 3600", "signed for"),
            (f"sum(rate({RESOLVED}{{{DU}}}[$__rate_interval])) * 3600", "resolved"),
        ], width=12),
        panel("timeseries", "Time to sign-for by urgency (p90)",
              [(_quantile(0.9, TO_SIGN_FOR, DU, "urgency"), "{{urgency}}")], unit="s", width=12),
        panel("timeseries", "Time to resolution by urgency (p90)",
              [(_quantile(0.9, TO_RESOLUTION, DU, "urgency"), "{{urgency}}")], unit="s", width=12),
        panel("timeseries", "Time from intake to assignment (p90)",
              [(_quantile(0.9, TO_ASSIGNMENT, DU), "p90")], unit="s", width=12),
        panel("timeseries", "Overdue tasks over time", [(f"max by (clock) ({OVERDUE}{{{DU}}})", "{{clock}}")],
              width=12),
    ]  # fmt: skip
    return dashboard(
        "hotline-unit",
        "Hotline: unit drill-down",
        "One handling unit: its queue, sign-for and resolution times, overdue tasks.",
        [district_variable(multi=False), unit_variable()],
        panels,
    )


def city_overview() -> dict[str, Any]:
    """Every district side by side (``district`` is a multi-select)."""
    by = "district"
    received = f"sum by (district) (increase({RECEIVED}{{{D}}}[$__range]))"
    # a district with no first-contact answer yet has no such series: it subtracts 0
    at_intake = f"(sum by (district) (increase({AT_INTAKE}{{{D}}}[$__range])) or {received} * 0)"
    completion = (
        f"sum by (district) (increase({RESOLVED}{{{D}}}[$__range])) / ({received} - {at_intake})"
    )
    panels = [
        panel("timeseries", "Requests in per hour",
              [(f"sum by (district) (rate({RECEIVED}{{{D}}}[$__rate_interval])) * 3600", "{{district}}")],
              width=12),
        panel("bargauge", "Open tickets",
              [(f"sum by (district) (max by (district, state) ({TICKETS_OPEN}{{{D}}}))", "{{district}}")],
              width=6, instant=True),
        panel("bargauge", "Completion rate", [(completion, "{{district}}")], unit="percentunit",
              width=6, instant=True, description=COMPLETION),
        panel("table", "SLA compliance per district and clock (1d)",
              [(f"min by (district, clock) ({COMPLIANCE.format('1d')}{{{D}}})", "{{district}} {{clock}}")],
              unit="percentunit", width=12, instant=True),
        panel("bargauge", "SLA compliance per district and clock (30d)",
              [(f"min by (district, clock) ({COMPLIANCE.format('30d')}{{{D}}})", "{{district}} {{clock}}")],
              unit="percentunit", width=12, instant=True),
        panel("timeseries", "Escalations per district",
              [(f"sum by (district) (increase({ESCALATIONS}{{{D}}}[$__rate_interval]))", "{{district}}")],
              width=12),
        panel("bargauge", "Overdue tasks per district",
              [(f"sum by (district) (max by (district, unit, clock) ({OVERDUE}{{{D}}}))", "{{district}}")],
              width=12, instant=True),
        panel("timeseries", "Time to sign-for per district (p90)",
              [(_quantile(0.9, TO_SIGN_FOR, D, by), "{{district}}")], unit="s", width=12),
        panel("timeseries", "Pipeline: oldest unpublished outbox row",
              [(f"max by (district) ({OUTBOX_AGE}{{{D}}})", "{{district}}"),
               (f"max by (district) ({OUTBOX_PENDING}{{{D}}})", "{{district}} rows waiting")],
              width=12),
    ]  # fmt: skip
    return dashboard(
        "hotline-city",
        "Hotline: city overview",
        "Every district's hotline side by side: load, backlog, completion, SLA compliance.",
        [district_variable(multi=True)],
        panels,
    )


DASHBOARDS = {
    "district.json": district_overview,
    "unit.json": unit_drilldown,
    "city.json": city_overview,
}


def rendered() -> dict[str, str]:
    """Each dashboard file's name and text."""
    return {name: json.dumps(build(), indent=2) + "\n" for name, build in DASHBOARDS.items()}


def queries(board: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """Every panel query of a dashboard, as (panel title, PromQL with Grafana's variables)."""
    for each in board["panels"]:
        for query in each["targets"]:
            yield each["title"], query["expr"]


def main(argv: list[str] | None = None) -> None:
    """Write the dashboards into the folder given (default: deploy/grafana/dashboards)."""
    args = sys.argv[1:] if argv is None else argv
    folder = Path(args[0] if args else "deploy/grafana/dashboards")
    for name, text in rendered().items():
        (folder / name).write_text(text, encoding="utf-8")
        print(f"wrote {folder / name}")


if __name__ == "__main__":
    main()
