"""Times of day and the district's calendar: opening hours, daily windows, working time.

A file writes a time of day as ``"08:30"`` and a window as ``"22:00-06:00"``;
YAML 1.1 reads either unquoted as a number, which is refused with the quoted
form to write instead.
"""

from __future__ import annotations

import itertools
from datetime import date, time
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BeforeValidator, GetJsonSchemaHandler, WithJsonSchema, model_validator
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from hotline.shared.domain.config.fields import FileModel

_HH_MM = r"([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]+)?)?"
#: A local time as pydantic reads it from text: ``08:30`` (seconds and an offset optional).
_TIME = rf"^{_HH_MM}(Z|[+-]([01][0-9]|2[0-3]):?[0-5][0-9])?$"
#: A daily window as ``TimeWindow`` reads it from text: ``22:00-06:00``.
_WINDOW = rf"^\s*{_HH_MM}\s*-\s*{_HH_MM}\s*$"


def _clock_digits(value: Any) -> list[int] | None:
    """The hours, minutes (and seconds) of the unquoted ``8:30`` that YAML 1.1 read as ``value``.

    YAML 1.1 takes ``8:30`` for the base-60 integer 8 * 60 + 30 = 510, and ``8:30:00``
    for 8 * 3600 + 30 * 60; the base-60 digits of the number give back what the file said.
    """
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return None
    digits: list[int] = []
    while value:
        value, digit = divmod(value, 60)
        digits.insert(0, digit)
    return digits if len(digits) in (2, 3) and digits[0] < 24 else None


def _not_a_number(value: Any, what: str, example: str) -> None:
    """Refuse a number where text is expected, saying to quote it as in ``example``.

    Pydantic would read 510 as 510 seconds after midnight (00:08:30 UTC), so an
    unquoted ``open: 8:30`` would load without a word and open the office at 00:08.
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        return
    digits = _clock_digits(value)
    if digits is None:
        why = f"not the number {value}"
    else:
        written = ":".join([str(digits[0]), *(f"{d:02d}" for d in digits[1:])])
        why = f"YAML reads an unquoted {written} as the number {value}"
    raise ValueError(f'{what} is text: quote it, as in "{example}" ({why})')


def _clock_time(value: Any) -> Any:
    """A time of day as the file wrote it; a number (an unquoted ``8:30``) is refused."""
    digits = _clock_digits(value)
    example = ":".join(f"{d:02d}" for d in digits) if digits else "08:30"
    _not_a_number(value, "a time of day", example)
    return value


#: A time of day, written as text; the schema takes ``08:30`` as the loader does, not only
#: ``08:30:00``, and neither takes a number.
ClockTime = Annotated[
    time,
    BeforeValidator(_clock_time),
    WithJsonSchema({"type": "string", "pattern": _TIME, "description": "a time of day: HH:MM"}),
]


class Weekday(StrEnum):
    """Days as a district file names them."""

    MON = "mon"
    TUE = "tue"
    WED = "wed"
    THU = "thu"
    FRI = "fri"
    SAT = "sat"
    SUN = "sun"


WORKDAYS = (Weekday.MON, Weekday.TUE, Weekday.WED, Weekday.THU, Weekday.FRI)


class Hours(FileModel):
    """Opening hours: the days and the daily window (``close`` before ``open`` spans midnight)."""

    days: tuple[Weekday, ...] = WORKDAYS
    open: ClockTime = time(8, 30)
    close: ClockTime = time(17, 30)


class TimeWindow(FileModel):
    """A daily window, ``"22:00-06:00"`` style; it may span midnight."""

    start: ClockTime
    end: ClockTime

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        """The object form, and the ``"22:00-06:00"`` text that files use."""
        written = handler.resolve_ref_schema(handler(core_schema))
        return {
            "anyOf": [{"type": "string", "pattern": _WINDOW}, written],
            "description": written.get("description", ""),
        }

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, data: Any) -> Any:
        _not_a_number(data, "a time window", "22:00-06:00")
        if isinstance(data, str):
            start, sep, end = data.partition("-")
            if not sep:
                raise ValueError(f"time window {data!r} is not HH:MM-HH:MM")
            return {"start": start.strip(), "end": end.strip()}
        return data

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


class WorkingTime(FileModel):
    """The district's working time, for clocks that count only it.

    ``hours`` are daily windows (local time, none across midnight, e.g. a
    lunch break as two windows); ``holidays`` are days off that would be
    working days, ``workdays`` the make-up working days that would be off.
    """

    days: tuple[Weekday, ...] = WORKDAYS
    hours: tuple[TimeWindow, ...] = (TimeWindow(start=time(8, 30), end=time(17, 30)),)
    holidays: tuple[date, ...] = ()
    workdays: tuple[date, ...] = ()

    @model_validator(mode="after")
    def _sane(self) -> WorkingTime:
        if not self.hours:
            raise ValueError("working time needs at least one window in hours")
        for window in self.hours:
            if window.end <= window.start:
                raise ValueError(f"window {window} must end after it starts, on the same day")
        for earlier, later in itertools.pairwise(self.hours):
            if later.start < earlier.end:
                raise ValueError(f"windows {earlier} and {later} overlap or are out of order")
        both = sorted(set(self.holidays) & set(self.workdays))
        if both:
            raise ValueError(f"{both[0]} is both a holiday and a make-up working day")
        if not self.days and not self.workdays:
            raise ValueError("working time needs working days or make-up working days")
        return self
