"""Working days (工作日) on the Chinese statutory calendar, with make-up workdays (调休上班).

The statutory calendar is published year by year; the `chinese-calendar` package knows the years
the State Council has announced. A deadline that reaches into a year not yet announced is computed
with Monday–Friday as working days, less the statutory holidays that fall on fixed solar dates
(《全国年节及纪念日放假办法》 as revised in 2024: 1 January, 1–2 May, 1–3 October), and is marked
provisional in ``Deadline.calendar`` so the record
says how it was judged; once the year is announced a new package version recomputes it exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import chinese_calendar
from chinese_calendar import constants

FIRST_KNOWN_DAY = min(constants.holidays)
LAST_KNOWN_DAY = date(max(constants.holidays).year, 12, 31)
CALENDAR_NAME = f"chinese_calendar {chinese_calendar.__version__}"


FIXED_DATE_HOLIDAYS = ((1, 1), (5, 1), (5, 2), (10, 1), (10, 2), (10, 3))


def is_working_day(day: date) -> bool:
    if FIRST_KNOWN_DAY <= day <= LAST_KNOWN_DAY:
        return chinese_calendar.is_workday(day)
    return day.weekday() < 5 and (day.month, day.day) not in FIXED_DATE_HOLIDAYS


def calendar_used(first: date, last: date) -> str:
    """Name the calendar that judged the days from ``first`` to ``last``."""
    if last > LAST_KNOWN_DAY or first < FIRST_KNOWN_DAY:
        return f"{CALENDAR_NAME}; provisional Mon-Fri less fixed-date holidays after {LAST_KNOWN_DAY.isoformat()}"
    return CALENDAR_NAME


@dataclass(frozen=True)
class Deadline:
    due: date
    calendar: str


def working_day_deadline(start: date, working_days: int) -> Deadline:
    """The ``working_days``-th working day after ``start`` (``start`` itself is not counted)."""
    if working_days < 1:
        raise ValueError("a working-day period is at least one day")
    day, counted = start, 0
    while counted < working_days:
        day += timedelta(days=1)
        if is_working_day(day):
            counted += 1
    return Deadline(day, calendar_used(start, day))


def working_days_after(deadline: date, day: date) -> int:
    """How many working days ``day`` lies after ``deadline`` (0 if on or before it)."""
    count, cursor = 0, deadline
    while cursor < day:
        cursor += timedelta(days=1)
        if is_working_day(cursor):
            count += 1
    return count
