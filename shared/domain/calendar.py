"""Counting time the way an SLA clock does: every second, or working time only.

A working-time clock stops at the end of the working day and at weekends and
public holidays, and runs on make-up working days, all in the district's
local time. Both kinds answer the same two questions, so the clock code does
not care which one it holds: what instant is ``duration`` of counted time
after ``start``, and how much counted time lies between two instants.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from hotline.shared.domain.config import Counting, Weekday, WorkingTime

#: How far ahead a working-time sum may look before the calendar is declared empty.
HORIZON_DAYS = 3660

_WEEKDAYS = tuple(Weekday)  # Monday first, as date.weekday() counts


class Timekeeper(Protocol):
    """What an SLA clock needs to know about counted time."""

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """The instant at which ``duration`` of counted time after ``start`` is used up."""
        ...

    def between(self, start: datetime, end: datetime) -> timedelta:
        """The counted time from ``start`` to ``end`` (zero when ``end`` is not later)."""
        ...


class AroundTheClock:
    """Every second counts."""

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """``start`` plus ``duration``."""
        return start + max(duration, timedelta(0))

    def between(self, start: datetime, end: datetime) -> timedelta:
        """Wall-clock time from ``start`` to ``end``."""
        return max(end - start, timedelta(0))


@dataclass(frozen=True)
class WorkingCalendar:
    """Working hours per working day, in one time zone.

    A day works when it is a make-up working day, or a working weekday that
    is not a holiday. ``windows`` are sorted, non-overlapping, within one day.
    """

    zone: ZoneInfo
    days: frozenset[int]
    windows: tuple[tuple[time, time], ...]
    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()

    @classmethod
    def from_config(cls, working: WorkingTime, zone: ZoneInfo) -> WorkingCalendar:
        """The calendar a district file describes."""
        return cls(
            zone=zone,
            days=frozenset(_WEEKDAYS.index(d) for d in working.days),
            windows=tuple((w.start, w.end) for w in working.hours),
            holidays=frozenset(working.holidays),
            workdays=frozenset(working.workdays),
        )

    def works_on(self, day: date) -> bool:
        """Say whether ``day`` (a local date) is a working day."""
        if day in self.workdays:
            return True
        return day.weekday() in self.days and day not in self.holidays

    def _periods(self, day: date) -> list[tuple[datetime, datetime]]:
        """The working periods of a local day, as UTC instants."""
        if not self.works_on(day):
            return []
        return [
            (
                datetime.combine(day, start, self.zone).astimezone(UTC),
                datetime.combine(day, end, self.zone).astimezone(UTC),
            )
            for start, end in self.windows
        ]

    def _from(self, start: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Every working period that ends after ``start``, clipped to begin no earlier."""
        day = start.astimezone(self.zone).date()
        for _ in range(HORIZON_DAYS):
            for begin, end in self._periods(day):
                if end > start:
                    yield max(begin, start), end
            day += timedelta(days=1)
        raise ValueError(f"no working time in the {HORIZON_DAYS} days after {start.isoformat()}")

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """The instant ``duration`` of working time after ``start``.

        A positive duration ends inside a working period (possibly at its last
        instant); a zero duration is ``start`` itself.
        """
        remaining = duration
        if remaining <= timedelta(0):
            return start.astimezone(UTC)
        for begin, end in self._from(start):
            if remaining <= end - begin:
                return begin + remaining
            remaining -= end - begin
        raise AssertionError("unreachable: _from raises when it runs out")  # pragma: no cover

    def between(self, start: datetime, end: datetime) -> timedelta:
        """The working time from ``start`` to ``end``."""
        total = timedelta(0)
        if end <= start:
            return total
        for begin, finish in self._from(start):
            if begin >= end:
                break
            total += min(finish, end) - begin
        return total

    def is_working(self, instant: datetime) -> bool:
        """Say whether ``instant`` lies in a working period (its end included)."""
        day = instant.astimezone(self.zone).date()
        return any(begin <= instant <= end for begin, end in self._periods(day))


def timekeeper(counting: Counting, working: WorkingTime, zone: ZoneInfo) -> Timekeeper:
    """The timekeeper for a clock that counts the way ``counting`` says."""
    if counting is Counting.WORKING_TIME:
        return WorkingCalendar.from_config(working, zone)
    return AroundTheClock()
