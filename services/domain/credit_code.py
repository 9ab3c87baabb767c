"""Unified social credit code (统一社会信用代码), GB 32100-2015.

18 characters from the 31-character set (no I, O, Z, S, V): registration authority (1), institution
type (1), registration region (6, GB/T 2260), organisation code (9) and a check character computed
with the weights 3^(i) mod 31.
"""

from __future__ import annotations

from services.domain.errors import RuleViolation

CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
VALUES = {c: i for i, c in enumerate(CHARSET)}


def check_character(first17: str) -> str:
    total = sum(VALUES[c] * w for c, w in zip(first17, WEIGHTS, strict=True))
    return CHARSET[(31 - total % 31) % 31]


def with_check_character(first17: str) -> str:
    """Complete a 17-character body with its check character (used by the demo data generator)."""
    return first17 + check_character(first17)


def validate_credit_code(code: str) -> str:
    """Return the normalised code or raise CREDIT_CODE_INVALID saying what is wrong with it."""
    normalised = code.strip().upper()
    if len(normalised) != 18:
        raise RuleViolation(
            "CREDIT_CODE_INVALID",
            f"统一社会信用代码应为18位，收到{len(normalised)}位",
            f"a unified social credit code has 18 characters, got {len(normalised)}",
            credit_code=code,
        )
    bad = sorted({c for c in normalised if c not in VALUES})
    if bad:
        raise RuleViolation(
            "CREDIT_CODE_INVALID",
            f"统一社会信用代码含有不允许的字符：{''.join(bad)}",
            f"the code contains characters outside GB 32100's set: {''.join(bad)}",
            credit_code=code,
        )
    if not normalised[2:8].isdigit():
        raise RuleViolation(
            "CREDIT_CODE_INVALID",
            "统一社会信用代码第3至8位应为行政区划码",
            "characters 3-8 must be the registration region code",
            credit_code=code,
        )
    expected = check_character(normalised[:17])
    if normalised[17] != expected:
        raise RuleViolation(
            "CREDIT_CODE_INVALID",
            "统一社会信用代码校验位错误",
            "the check character does not match (GB 32100-2015)",
            credit_code=code,
        )
    return normalised
