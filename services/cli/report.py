"""``hotline report``: the period's bulletin, from the ledger (read only).

The period is whole days in the district's time zone, both ends included:
``--from 2026-11-01 --to 2026-11-30`` is November as the district lives it.
Tickets received in the period are counted with what has happened to them
since (see :mod:`hotline.shared.domain.report` for what each figure means).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import sys
from datetime import date, datetime, time, timedelta

from hotline.shared.configuration.file import load_config
from hotline.shared.domain.config import DistrictConfig
from hotline.shared.domain.report import GRASS_ROOTS_KINDS, Report, tally
from hotline.shared.ledger.readonly import LedgerUnavailable, reading
from hotline.shared.ledger.report import period_tickets

FORMATS = ("md", "csv", "json")
#: What a figure shows when it has no value (no feedback yet: no satisfaction rate).
NONE = "n/a"


class BadPeriod(ValueError):
    """The dates given do not make a period."""


def parse_period(start: str, end: str) -> tuple[date, date]:
    """Both dates, checked: ISO dates (2026-11-01), the first not after the last."""
    days = []
    for option, value in (("--from", start), ("--to", end)):
        try:
            days.append(date.fromisoformat(value))
        except ValueError:
            raise BadPeriod(f"{option} {value!r} is not a date (use YYYY-MM-DD)") from None
    if days[0] > days[1]:
        raise BadPeriod(f"--from {start} is after --to {end}")
    return days[0], days[1]


def period_bounds(config: DistrictConfig, start: date, end: date) -> tuple[datetime, datetime]:
    """[midnight of ``start``, midnight after ``end``) in the district's zone."""
    zone = config.zone
    return (
        datetime.combine(start, time(0), zone),
        datetime.combine(end + timedelta(days=1), time(0), zone),
    )


def unit_kinds(config: DistrictConfig) -> dict[str, str]:
    """Each unit's kind as the district file says it."""
    return {u.id: u.kind.value for u in config.units}


def _percent(value: object) -> str:
    return NONE if value is None else f"{float(str(value)) * 100:.1f}%"


def _duration(value: object) -> str:
    if value is None:
        return NONE
    seconds = round(float(str(value)))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m {secs:02d}s" if minutes else f"{secs}s"


def _to_units(report: Report) -> str:
    """Where the units' tickets went, as the seeds' bulletin says it ("298 to special teams,
    84 to grass-roots units"): the grass-roots kinds as one group, with its own parts; the
    biggest first."""
    grass = [(k, n) for k, n in sorted(report.by_kind.items()) if k in GRASS_ROOTS_KINDS]
    groups = [(n, f"{n:,} to {k}") for k, n in report.by_kind.items() if k not in GRASS_ROOTS_KINDS]
    if grass:
        parts = ", ".join(f"{n:,} {k}" for k, n in grass)
        total = report.to_grass_roots
        groups.append((total, f"{total:,} to grass-roots units ({parts})"))
    return ", ".join(text for _, text in sorted(groups, key=lambda g: (-g[0], g[1])))


def render_md(report: Report, name: str) -> str:
    """A bulletin: one sentence as a newspaper would print it, then the table."""
    d = report.as_dict()
    lines = [
        f"# {name}: hotline figures, {d['from']} to {d['to']}",
        "",
        f"Received {report.received:,} requests, {report.first_contact:,} answered at first"
        + f" contact; {report.to_units:,} given to units"
        + (f": {_to_units(report)}" if report.by_kind else "")
        + (f"; {report.transferred:,} transferred to other districts" if report.transferred else "")
        + f"; {report.completed:,} completed"
        + (
            f", a completion rate of {_percent(report.completion_rate)}"
            if report.completion_rate is not None
            else ""
        )
        + ".",
        "",
        "| Section | Figure | Value |",
        "|---|---|---:|",
    ]
    # Percentages from the exact rates: the rows' are rounded to 4 places already, and a
    # second rounding would print 250 / 382 (65.445%) as 65.5%.
    rates = {
        "completion rate": report.completion_rate,
        "satisfaction rate": report.satisfaction_rate,
    }
    for section, figure, value in report.as_rows():
        if figure.endswith("rate"):
            shown = _percent(rates.get(figure, value))
        elif figure.endswith("(s)"):
            figure, shown = figure.removesuffix(" (s)"), _duration(value)
        else:
            shown = NONE if value is None else str(value)
        lines.append(f"| {section} | {figure} | {shown} |")
    return "\n".join(lines)


def render_csv(report: Report) -> str:
    """One row per figure: section, figure, value (rates as fractions, times in seconds)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["section", "figure", "value"])
    for row in report.as_rows():
        writer.writerow(["" if v is None else v for v in row])
    return out.getvalue().rstrip("\n")


def render(report: Report, fmt: str, name: str) -> str:
    if fmt == "json":
        return json.dumps(report.as_dict(), ensure_ascii=False, indent=2)
    if fmt == "csv":
        return render_csv(report)
    return render_md(report, name)


def run(args: argparse.Namespace) -> int:
    """Print the period's figures; 2 on a bad period or a ledger that cannot be read."""
    try:
        start, end = parse_period(args.start, args.end)
    except BadPeriod as exc:
        print(f"hotline report: {exc}", file=sys.stderr)
        return 2
    config = load_config(args.config or os.environ.get("HOTLINE_CONFIG"))
    low, high = period_bounds(config, start, end)
    try:
        with reading(args.database) as session:
            report = tally(
                period_tickets(session, low, high),
                unit_kinds(config),
                start=start,
                end=end,
                district=config.district,
            )
    except LedgerUnavailable as exc:
        print(f"hotline report: {exc}", file=sys.stderr)
        return 2
    print(render(report, args.format, config.name or config.district))
    return 0
