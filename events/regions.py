"""Administrative region codes (GB/T 2260) as reference data: names and the hierarchy (the table is
events/data/gbt2260.tsv).

A 6-digit code names a province (first 2 digits, ends 0000), a prefecture-level city (first 4,
ends 00) or a county-level unit. Consumers of the ledger use this to name and group regions; the
write side validates codes against it (services/domain/regions.py).
"""

from __future__ import annotations

from pathlib import Path

DATA = Path(__file__).parent / "data" / "gbt2260.tsv"


def _load() -> dict[str, str]:
    names = {}
    for line in DATA.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            code, name = line.split("\t")
            names[code] = name
    return names


NAMES: dict[str, str] = _load()
PROVINCES = {code[:2]: name for code, name in NAMES.items() if code.endswith("0000")}

LEVEL_PREFIX = {"province": 2, "city": 4, "county": 6}


def level_of(code: str) -> str:
    if code.endswith("0000"):
        return "province"
    if code.endswith("00"):
        return "city"
    return "county"


def prefix_of(code: str) -> str:
    """The code prefix a region's jurisdiction covers: 2 digits for a province, 4 for a city."""
    return code[: LEVEL_PREFIX[level_of(code)]]


def parents(code: str) -> list[str]:
    """The province, city and county codes a code belongs to, itself last, without repeats."""
    out: list[str] = []
    for c in (code[:2] + "0000", code[:4] + "00", code):
        if c not in out:
            out.append(c)
    return out


def children(code: str) -> list[str]:
    """The regions directly within a region, in code order: a province's cities (and the county-level
    units it governs directly), a city's counties; none for a county."""
    if level_of(code) == "county":
        return []
    return sorted(c for c in NAMES if c != code and c.startswith(prefix_of(code)) and _parent(c) == code)


def _parent(code: str) -> str | None:
    """The nearest region the table knows that contains ``code`` (a municipality's districts belong
    to the municipality where the table has no city between them)."""
    above = [c for c in parents(code)[:-1] if c in NAMES]
    return above[-1] if above else None


def name_of(code: str) -> str | None:
    return NAMES.get(code)


def is_known(code: str) -> bool:
    return code in NAMES


def full_name(code: str) -> str:
    """区划全称 as far as the table knows it, e.g. 江苏省镇江市润州区."""
    parts = [name_of(c) for c in parents(code)]
    return "".join(p for p in parts if p) or code


def covers(jurisdiction_region: str, jurisdiction_level: str, region_code: str) -> bool:
    n = LEVEL_PREFIX[jurisdiction_level]
    return region_code[:n] == jurisdiction_region[:n]
