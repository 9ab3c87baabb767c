"""The rule table: every number has a source and says whether it was confirmed; national versions
are cumulative and dated from 2019-01-01; regional rows override them for the regions under them,
the most specific region winning; a recorded rule version resolves back to its parameters; README
renders the table as the code holds it."""

from datetime import date
from pathlib import Path

import pytest

from services.domain.errors import RuleViolation
from services.domain.rules import RULES, Param, RegionalRows, RuleTable

README = Path(__file__).resolve().parents[2] / "README.md"


def test_every_parameter_names_its_source_and_whether_it_is_confirmed():
    for row in RULES.rows():
        assert row["source"].strip() and row["document"].strip(), row["rule"]
        assert isinstance(row["confirmed"], bool), row["rule"]


def test_versions_are_dated_named_by_their_date_and_carry_everything_before_them():
    versions = sorted(RULES.versions, key=lambda v: v.effective_from)
    assert versions[0].effective_from == date(2019, 1, 1)
    for earlier, later in zip(versions, versions[1:]):
        assert set(earlier.params) <= set(later.params)
        assert later.name == f"rules-{later.effective_from.isoformat()}"


def test_the_version_in_force_is_the_latest_on_or_before_the_day():
    assert RULES.in_force(date(2023, 4, 30), "110101").name == "rules-2021-07-15"
    assert RULES.in_force(date(2023, 5, 1), "110101").name == "rules-2023-05-01"
    assert RULES.in_force(date(2026, 4, 1), "110101").name == "rules-2026-04-01"
    assert RULES.in_force(date(2019, 1, 1), "110101").name == "rules-2019-01-01"


def test_a_parameter_not_yet_in_force_is_a_clear_refusal():
    # the credit list began with 民发〔2019〕103号 (2019-11-01)
    with pytest.raises(RuleViolation) as refused:
        RULES.in_force(date(2019, 8, 1), "321111")["listing.term_years"]
    assert refused.value.code == "RULE_NOT_IN_FORCE"
    assert RULES.in_force(date(2019, 11, 1), "321111")["listing.term_years"] == 3
    with pytest.raises(RuleViolation):
        RULES.in_force(date(2018, 12, 31), "321111")


def test_the_most_specific_region_wins():
    august_2020 = date(2020, 8, 3)
    zhenjiang, nanjing, beijing, wuhan = (RULES.in_force(august_2020, code) for code in ("321111", "320102", "110101", "420102"))
    assert zhenjiang["grading.upgrade_after_years"] == 0  # the city's row
    assert nanjing["grading.upgrade_after_years"] == 1 == beijing["grading.upgrade_after_years"]  # national default
    assert wuhan["grading.authority"]["3"] == ["province"]  # Hubei's row
    assert beijing["grading.authority"]["3"] == ["county", "city"]
    assert zhenjiang.name == "rules-2019-11-01+320000-2020-01-01+321100-2020-01-01"
    assert nanjing.name == "rules-2019-11-01+320000-2020-01-01"
    assert beijing.name == "rules-2019-11-01"
    assert zhenjiang.param("grading.authority").confirmed and not beijing.param("grading.authority").confirmed
    # closing a home whose major hazard stays overdue: Zhenjiang and Sanming without a suspension first
    closure = {code: RULES.in_force(date(2024, 6, 3), code)["hazard.closure_needs_suspension_first"]
               for code in ("321111", "320102", "350404", "120105", "110101")}
    assert closure == {"321111": False, "320102": True, "350404": False, "120105": True, "110101": True}


def test_a_regional_row_holds_only_while_it_is_in_force():
    periods = RULES.in_force(date(2024, 1, 1), "440304")["publication.periods"]
    assert periods["safety_minimum_months"] == 12  # Shenzhen's own minimum for safety entries
    assert RULES.in_force(date(2024, 1, 1), "321111")["publication.periods"]["safety_minimum_months"] is None
    assert RULES.in_force(date(2026, 5, 1), "440304")["publication.periods"]["safety_minimum_months"] is None  # the 2026 rules


def test_a_recorded_rule_version_resolves_to_the_parameters_that_judged_it():
    for day, region in ((date(2020, 8, 3), "321111"), (date(2024, 1, 1), "440304"), (date(2026, 5, 1), "110101")):
        in_force = RULES.in_force(day, region)
        assert RULES.named(in_force.name).params == in_force.params
    with pytest.raises(KeyError):
        RULES.named("rules-2020-11-01+999900-2020-01-01")


def test_a_regional_row_may_only_set_a_rule_the_nation_has():
    with pytest.raises(ValueError):
        RuleTable(RULES.versions, (RegionalRows("320000", date(2020, 1, 1), "x", {"no.such_rule": Param(1, "x", False)}),))


def test_publication_periods_change_with_the_credit_rules():
    assert RULES.in_force(date(2022, 1, 1), "321111")["publication.periods"]["serious"] == (6, 36)
    # 58号令 (2023): ordinary entries a year at most, as before and after it
    assert RULES.in_force(date(2024, 1, 1), "321111")["publication.periods"]["ordinary"] == (3, 12)
    assert RULES.in_force(date(2024, 1, 1), "321111")["publication.periods"]["serious"] == (12, 36)
    periods_2026 = RULES.in_force(date(2026, 5, 1), "321111")["publication.periods"]
    assert periods_2026["minor"] == (0, 3) and periods_2026["minor_only_where_necessary"]  # only where necessary, 3 months


def test_readme_renders_the_rule_table_as_the_code_holds_it():
    text = README.read_text(encoding="utf-8")
    start, end = "<!-- rule-table:start -->\n", "<!-- rule-table:end -->"
    assert start in text and end in text, "README has no rendered rule table"
    rendered = text.split(start, 1)[1].split(end, 1)[0]
    assert rendered == RULES.markdown(), "README's rule table is stale: run `eldercare rules` and paste it between the markers"
