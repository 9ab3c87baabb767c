"""GB 32100-2015: the unified social credit code and its check character."""

import pytest

from services.domain.credit_code import check_character, validate_credit_code
from services.domain.errors import RuleViolation


def test_the_standards_own_example_code_is_valid():
    # GB 32100-2015 uses 91350100M000100Y43 as its worked example.
    assert check_character("91350100M000100Y4") == "3"
    assert validate_credit_code("91350100m000100y43") == "91350100M000100Y43"


@pytest.mark.parametrize(
    "code, reason",
    [
        ("91350100M000100Y44", "check character"),
        ("91350100M000100Y4", "18 characters"),
        ("91350100M000100I43", "characters outside"),
        ("91AB0100M000100Y43", "registration region"),
    ],
)
def test_a_code_that_breaks_the_standard_is_refused_saying_why(code, reason):
    with pytest.raises(RuleViolation) as refused:
        validate_credit_code(code)
    assert refused.value.code == "CREDIT_CODE_INVALID"
    assert reason in refused.value.message_en


def test_every_single_character_typo_is_caught():
    code = "91350100M000100Y43"
    from services.domain.credit_code import CHARSET

    for position in range(18):
        for replacement in CHARSET:
            if replacement == code[position]:
                continue
            typo = code[:position] + replacement + code[position + 1 :]
            with pytest.raises(RuleViolation):
                validate_credit_code(typo)
