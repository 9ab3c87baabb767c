"""Validation of region codes on the write side; the reference data lives in events/regions.py."""

from __future__ import annotations

import re

from events.regions import PROVINCES, covers, full_name, is_known, level_of, name_of, parents
from services.domain.errors import RuleViolation

__all__ = ["covers", "full_name", "level_of", "name_of", "parents", "validate_region_code"]

CODE = re.compile(r"^\d{6}$")
MUNICIPALITIES = ("11", "12", "31", "50")


def validate_region_code(code: str, *, level: str | None = None) -> str:
    """A code of the GB/T 2260 table (provinces, and cities and counties that exist), of the given
    level if one is asked for. City-level codes of municipalities (e.g. 110100) are accepted for
    jurisdictions although the table lists their districts directly."""
    structural = bool(CODE.match(code or "")) and code[:2] in PROVINCES
    municipal_city = code[:2] in MUNICIPALITIES and code[2:] in ("0100", "0200")
    if not structural or not (is_known(code) or municipal_city):
        raise RuleViolation(
            "REGION_CODE_INVALID",
            f"行政区划代码 {code} 不是有效的 GB/T 2260 代码",
            f"{code} is not a valid GB/T 2260 region code",
            region_code=code,
        )
    if level is not None and level_of(code) != level:
        level_zh = {"province": "省级", "city": "市级", "county": "县级"}[level]
        raise RuleViolation(
            "REGION_CODE_WRONG_LEVEL",
            f"行政区划代码 {code} 应为{level_zh}代码",
            f"region code {code} must be a {level}-level code",
            region_code=code,
        )
    return code
