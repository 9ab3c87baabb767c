"""工作日 deadlines on the Chinese statutory calendar, with make-up workdays."""

from datetime import date, timedelta

from events.working_days import working_day_deadline, working_days_after


def test_ten_working_days_from_28_september_2020_skip_the_national_day_week():
    # 2020-10-01..08 were holidays; Saturday 2020-10-10 was a make-up workday.
    deadline = working_day_deadline(date(2020, 9, 28), 10)
    assert deadline.due == date(2020, 10, 19)
    assert deadline.due != date(2020, 10, 12)
    assert "provisional" not in deadline.calendar


def test_the_make_up_saturday_counts_as_a_working_day():
    # 29, 30 Sep, 9 Oct, then Saturday 10 Oct (调休上班) is the 4th working day.
    assert working_day_deadline(date(2020, 9, 28), 4).due == date(2020, 10, 10)


def test_spring_festival_2024_is_skipped_and_its_make_up_sunday_counted():
    # 2024-02-10..17 holidays; Sunday 2024-02-04 and Sunday 2024-02-18 were make-up workdays.
    assert working_day_deadline(date(2024, 2, 8), 1).due == date(2024, 2, 9)
    assert working_day_deadline(date(2024, 2, 9), 1).due == date(2024, 2, 18)
    assert working_day_deadline(date(2024, 2, 3), 1).due == date(2024, 2, 4)


def test_twenty_working_days_for_the_first_inspection_after_a_filing_on_new_years_eve_2023():
    # 2024-01-01 is a holiday: counting starts 2 January.
    assert working_day_deadline(date(2023, 12, 31), 20).due == date(2024, 1, 29)


def test_days_late_counts_working_days_after_the_deadline():
    assert working_days_after(date(2020, 10, 19), date(2020, 10, 19)) == 0
    assert working_days_after(date(2020, 10, 19), date(2020, 10, 21)) == 2
    assert working_days_after(date(2020, 9, 30), date(2020, 10, 9)) == 1  # the holiday week counts nothing


def test_a_deadline_beyond_the_published_calendar_is_marked_provisional_and_skips_fixed_holidays():
    deadline = working_day_deadline(date(2026, 12, 30), 2)
    # 31 Dec 2026 (Thu) is day 1; 1 Jan 2027 is New Year's Day; 2-3 Jan is a weekend.
    assert deadline.due == date(2027, 1, 4)
    assert "provisional" in deadline.calendar


def test_beyond_the_published_calendar_the_lunar_holidays_are_skipped_too():
    """2027 is not yet announced: the Spring Festival (除夕 5 Feb to 初三 8 Feb 2027), 清明 (5 April),
    端午 (9 June) and 中秋 (15 September) are holidays by the 2024 revision of the holiday rules."""
    from events.working_days import statutory_holidays

    assert {date(2027, 2, 5), date(2027, 2, 8), date(2027, 4, 5), date(2027, 6, 9), date(2027, 9, 15)} <= statutory_holidays(2027)
    spring = working_day_deadline(date(2027, 2, 3), 5)  # Thu 4 Feb, then Tue 9 … Fri 12 Feb
    assert spring.due == date(2027, 2, 12) and spring.provisional
    assert working_day_deadline(date(2027, 6, 8), 1).due == date(2027, 6, 10)
    assert working_day_deadline(date(2027, 9, 14), 1).due == date(2027, 9, 16)
    assert working_day_deadline(date(2027, 4, 2), 1).due == date(2027, 4, 6)


def test_a_listing_defence_window_is_recomputed_when_the_listing_acts_on_it(monkeypatch):
    """A deadline judged on a provisional calendar is recomputed from its start when a rule acts on
    it, so the official calendar, once known, governs (here: an announced make-up Saturday)."""
    from events import working_days
    from services.domain.credit_listing import defence_deadline

    served = date(2027, 2, 3)
    before = defence_deadline(served, 5)
    assert before.due == date(2027, 2, 12) and before.provisional
    announced = {date(2027, 2, 7)}  # suppose the State Council makes Sunday 7 Feb a working day
    original = working_days.is_working_day
    monkeypatch.setattr(working_days, "is_working_day", lambda day: day in announced or original(day))
    assert defence_deadline(served, 5).due == date(2027, 2, 11)


def test_a_provisional_due_date_is_recomputed_once_the_calendar_knows_its_year(monkeypatch):
    """The first inspection after a filing on 3 February 2027 was judged provisionally (20 working
    days, the lunar holidays skipped); once the year's arrangement is known — here, suppose Sunday 7
    February is made a working day — the obligation falls due a day earlier."""
    from events import working_days
    from events.working_days import recomputed_due

    judged = working_day_deadline(date(2027, 2, 3), 20)
    assert judged.provisional
    assert recomputed_due("2027-02-03", judged.due.isoformat(), judged.calendar) == judged.due.isoformat()
    official = working_days.is_working_day
    monkeypatch.setattr(working_days, "is_working_day", lambda day: day == date(2027, 2, 7) or official(day))
    assert recomputed_due("2027-02-03", judged.due.isoformat(), judged.calendar) == (judged.due - timedelta(days=1)).isoformat()
    assert recomputed_due("2024-03-12", "2024-04-10", "chinese_calendar 1.11.0") == "2024-04-10"  # official then: as it was
