"""The rule table: every number has a source and says whether it was confirmed; versions are
cumulative and dated; a decision before the first version is refused."""

from datetime import date

import pytest

from services.domain.errors import RuleViolation
from services.domain.rules import RULES


def test_every_parameter_names_its_source_and_whether_it_is_confirmed():
    for version in RULES.versions:
        for name, param in version.params.items():
            assert param.source.strip(), name
            assert isinstance(param.confirmed, bool), name


def test_versions_are_dated_named_by_their_date_and_carry_everything_before_them():
    versions = sorted(RULES.versions, key=lambda v: v.effective_from)
    for earlier, later in zip(versions, versions[1:]):
        assert set(earlier.params) <= set(later.params)
        assert later.name == f"rules-{later.effective_from.isoformat()}"


def test_the_version_in_force_is_the_latest_on_or_before_the_day():
    assert RULES.in_force(date(2023, 4, 30)).name == "rules-2021-07-15"
    assert RULES.in_force(date(2023, 5, 1)).name == "rules-2023-05-01"
    assert RULES.in_force(date(2026, 4, 1)).name == "rules-2026-04-01"


def test_a_parameter_a_version_does_not_have_is_a_clear_refusal():
    with pytest.raises(RuleViolation) as refused:
        RULES.in_force(date(2019, 8, 1))["filing.deadline_working_days"]
    assert refused.value.code == "RULE_NOT_IN_FORCE"
    with pytest.raises(RuleViolation):
        RULES.in_force(date(2018, 1, 1))


def test_publication_periods_change_with_the_credit_rules():
    assert RULES.in_force(date(2022, 1, 1))["publication.periods"]["serious"] == (6, 36)
    assert RULES.in_force(date(2024, 1, 1))["publication.periods"]["safety_minimum_months"] == 12
    assert RULES.in_force(date(2026, 5, 1))["publication.periods"]["minor"] is None
