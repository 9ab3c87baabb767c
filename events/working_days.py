"""Working days (工作日) on the Chinese statutory calendar, with make-up workdays (调休上班).

The statutory calendar is published year by year; the `chinese-calendar` package knows the years
the State Council has announced. A deadline that reaches into a year not yet announced is computed
with Monday–Friday as working days less every statutory holiday of 《全国年节及纪念日放假办法》 as
revised in 2024 (in force 2025-01-01): 1 January; the Spring Festival, 除夕 to 正月初三 (lunar dates,
converted by `lunar_python`); 清明 (the solar term, from `chinese-calendar`); 1–2 May; 端午 (the 5th of
the 5th lunar month); 中秋 (the 15th of the 8th lunar month); 1–3 October. The year's own
arrangement (bridges and make-up Saturdays) is not known until it is announced, so such a deadline
is marked provisional in ``Deadline.calendar``; the rules that act on a deadline recompute it from
its start when they act (``working_day_deadline`` again), so once a package version knows the year
the exact day governs.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, timedelta

import chinese_calendar
from chinese_calendar import constants
from lunar_python import Lunar

FIRST_KNOWN_DAY = min(constants.holidays)
LAST_KNOWN_DAY = date(max(constants.holidays).year, 12, 31)
CALENDAR_NAME = f"chinese_calendar {chinese_calendar.__version__}"
PROVISIONAL = "provisional"

FIXED_DATE_HOLIDAYS = ((1, 1), (5, 1), (5, 2), (10, 1), (10, 2), (10, 3))


def _solar(lunar_year: int, month: int, day: int) -> date:
    solar = Lunar.fromYmd(lunar_year, month, day).getSolar()
    return date(solar.getYear(), solar.getMonth(), solar.getDay())


@functools.cache
def statutory_holidays(year: int) -> frozenset[date]:
    """The statutory holidays of a year by the 2024 revision, before the year's own arrangement."""
    new_year = _solar(year, 1, 1)
    days = {date(year, m, d) for m, d in FIXED_DATE_HOLIDAYS}
    days |= {new_year + timedelta(days=n) for n in range(-1, 3)}  # 除夕 and 正月初一至初三
    days |= {day for day, name in chinese_calendar.get_solar_terms(date(year, 4, 1), date(year, 4, 10)) if name == "清明"}
    days |= {_solar(year, 5, 5), _solar(year, 8, 15)}
    return frozenset(days)  # the lunar new year falls between 21 January and 20 February: all within the year


@functools.cache
def _announced_working_day(day: date) -> bool:
    """The announced calendar's answer, asked once per day per process (the package validates its
    argument on every call, which was most of a decision's time in the calendar)."""
    return chinese_calendar.is_workday(day)


def is_working_day(day: date) -> bool:
    if FIRST_KNOWN_DAY <= day <= LAST_KNOWN_DAY:
        return _announced_working_day(day)
    return day.weekday() < 5 and day not in statutory_holidays(day.year)


def calendar_used(first: date, last: date) -> str:
    """Name the calendar that judged the days from ``first`` to ``last``."""
    if last > LAST_KNOWN_DAY or first < FIRST_KNOWN_DAY:
        return f"{CALENDAR_NAME}; {PROVISIONAL} after {LAST_KNOWN_DAY.isoformat()}: Mon-Fri less the statutory holidays"
    return CALENDAR_NAME


@dataclass(frozen=True)
class Deadline:
    due: date
    calendar: str

    @property
    def provisional(self) -> bool:
        return PROVISIONAL in self.calendar


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


def recomputed_due(start: str, due: str, calendar: str | None) -> str:
    """A deadline judged on a provisional calendar (``calendar`` as recorded), recomputed with the
    calendar known now: the same number of working days after ``start`` that the provisional
    judgment counted. A deadline judged on the official calendar stays as it was."""
    if not calendar or PROVISIONAL not in calendar:
        return due
    known_until = date.fromisoformat(calendar.rsplit(" after ", 1)[1].split(":")[0])
    first, last = date.fromisoformat(start), date.fromisoformat(due)

    def then(day: date) -> bool:  # as the provisional judgment counted a day
        if day <= known_until:
            return is_working_day(day)
        return day.weekday() < 5 and day not in statutory_holidays(day.year)

    counted = sum(then(first + timedelta(days=n)) for n in range(1, (last - first).days + 1))
    return working_day_deadline(first, counted).due.isoformat() if counted else due


def working_days_after(deadline: date, day: date) -> int:
    """How many working days ``day`` lies after ``deadline`` (0 if on or before it)."""
    count, cursor = 0, deadline
    while cursor < day:
        cursor += timedelta(days=1)
        if is_working_day(cursor):
            count += 1
    return count
