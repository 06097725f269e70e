"""Working time: what a working-time SLA clock counts, in the district's local time."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from hotline.shared.domain.calendar import AroundTheClock, WorkingCalendar
from hotline.shared.domain.config import TimeWindow, Weekday, WorkingTime

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Mon-Fri with a lunch break; National Day week off; a make-up Sunday and Saturday.
WORKING = WorkingTime(
    days=(Weekday.MON, Weekday.TUE, Weekday.WED, Weekday.THU, Weekday.FRI),
    hours=(
        TimeWindow(start=time(8, 30), end=time(12, 0)),
        TimeWindow(start=time(13, 30), end=time(17, 30)),
    ),
    holidays=tuple(date(2026, 10, d) for d in (1, 2, 5, 6, 7)),
    workdays=(date(2026, 9, 27), date(2026, 10, 10)),
)
CAL = WorkingCalendar.from_config(WORKING, SHANGHAI)


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)  # type: ignore[misc]


def test_counts_only_inside_the_windows_of_the_day() -> None:
    assert CAL.add(local(2026, 11, 23, 9, 0), timedelta(hours=2)) == local(2026, 11, 23, 11, 0)
    # 1 h before lunch, the lunch break is skipped, 1 h after.
    assert CAL.add(local(2026, 11, 23, 11, 0), timedelta(hours=2)) == local(2026, 11, 23, 14, 30)


def test_evening_and_weekend_do_not_count() -> None:
    friday_evening = local(2026, 11, 27, 20, 0)
    assert CAL.add(friday_evening, timedelta(hours=1)) == local(2026, 11, 30, 9, 30)


def test_holidays_are_skipped_and_make_up_days_count() -> None:
    # Wed 30 Sep 17:00 + 1 h: 30 min that day; 1-2 Oct off, 3-4 weekend, 5-7 off,
    # Thu 8 Oct is the next working day.
    assert CAL.add(local(2026, 9, 30, 17, 0), timedelta(hours=1)) == local(2026, 10, 8, 9, 0)
    # Sat 10 Oct is a make-up working day.
    assert CAL.add(local(2026, 10, 9, 17, 0), timedelta(hours=1)) == local(2026, 10, 10, 9, 0)
    assert CAL.works_on(date(2026, 9, 27)) and not CAL.works_on(date(2026, 10, 1))


def test_a_full_working_day_is_seven_and_a_half_hours() -> None:
    monday = local(2026, 11, 23, 0, 0)
    assert CAL.between(monday, monday + timedelta(days=1)) == timedelta(hours=7, minutes=30)
    assert CAL.between(monday, monday + timedelta(days=7)) == timedelta(hours=37, minutes=30)


def test_zero_adds_nothing_and_around_the_clock_is_plain_addition() -> None:
    t = local(2026, 11, 28, 3, 0)
    assert CAL.add(t, timedelta(0)) == t
    assert AroundTheClock().add(t, timedelta(hours=5)) == t + timedelta(hours=5)
    assert AroundTheClock().between(t, t - timedelta(hours=1)) == timedelta(0)


instants = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2028, 1, 1), timezones=st.just(UTC)
)
durations = st.timedeltas(min_value=timedelta(seconds=1), max_value=timedelta(days=20))


@settings(max_examples=200, deadline=None)
@given(instants, durations)
def test_ends_in_working_time_and_gives_back_what_was_added(
    start: datetime, duration: timedelta
) -> None:
    end = CAL.add(start, duration)
    assert end > start
    assert CAL.is_working(end)
    assert CAL.between(start, end) == duration


@settings(max_examples=200, deadline=None)
@given(instants, durations, durations)
def test_adding_is_monotonic_in_the_duration(
    start: datetime, one: timedelta, two: timedelta
) -> None:
    shorter, longer = sorted((one, two))
    assert CAL.add(start, shorter) <= CAL.add(start, longer)
    # and adding in two parts is adding at once
    assert CAL.add(CAL.add(start, shorter), longer - shorter) == CAL.add(start, longer)


@settings(max_examples=200, deadline=None)
@given(instants, instants, durations)
def test_a_later_start_never_ends_earlier(a: datetime, b: datetime, duration: timedelta) -> None:
    early, late = sorted((a, b))
    assert CAL.add(early, duration) <= CAL.add(late, duration)


def test_a_zone_with_daylight_saving_counts_real_hours() -> None:
    berlin = WorkingCalendar.from_config(
        WorkingTime(days=tuple(Weekday), hours=(TimeWindow(start=time(0, 0), end=time(23, 59)),)),
        ZoneInfo("Europe/Berlin"),
    )
    # 29 Mar 2026: clocks jump from 02:00 to 03:00, so that day holds 22 h 59 min.
    day = datetime(2026, 3, 29, tzinfo=ZoneInfo("Europe/Berlin"))
    assert berlin.between(day, day + timedelta(days=1)) == timedelta(hours=22, minutes=59)
