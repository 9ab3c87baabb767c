"""Administrative region codes (GB/T 2260) as reference data: names and the hierarchy.

A 6-digit code names a province (first 2 digits, ends 0000), a prefecture-level city (first 4,
ends 00) or a county-level unit. Consumers of the ledger use this to name and group regions; the
write side validates codes against it (services/domain/regions.py).
"""

from __future__ import annotations

PROVINCES = {
    "11": "北京市", "12": "天津市", "13": "河北省", "14": "山西省", "15": "内蒙古自治区",
    "21": "辽宁省", "22": "吉林省", "23": "黑龙江省", "31": "上海市", "32": "江苏省",
    "33": "浙江省", "34": "安徽省", "35": "福建省", "36": "江西省", "37": "山东省",
    "41": "河南省", "42": "湖北省", "43": "湖南省", "44": "广东省", "45": "广西壮族自治区",
    "46": "海南省", "50": "重庆市", "51": "四川省", "52": "贵州省", "53": "云南省",
    "54": "西藏自治区", "61": "陕西省", "62": "甘肃省", "63": "青海省", "64": "宁夏回族自治区",
    "65": "新疆维吾尔自治区",
}  # fmt: skip

# Cities and counties of the seed documents' places (镇江, 鞍山, 三明, 天津河北区).
NAMED_REGIONS = {
    "321100": "镇江市", "321102": "京口区", "321111": "润州区", "321112": "丹徒区",
    "321181": "丹阳市", "321182": "扬中市", "321183": "句容市",
    "210300": "鞍山市", "210302": "铁东区", "210303": "铁西区", "210304": "立山区",
    "210311": "千山区", "210321": "台安县", "210323": "岫岩满族自治县", "210381": "海城市",
    "350400": "三明市", "350404": "三元区", "350405": "沙县区", "350421": "明溪县",
    "350423": "清流县", "350424": "宁化县", "350425": "大田县", "350426": "尤溪县",
    "350428": "将乐县", "350429": "泰宁县", "350430": "建宁县", "350481": "永安市",
    "120100": "天津市市辖区", "120105": "河北区",
}  # fmt: skip

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


def name_of(code: str) -> str | None:
    if code.endswith("0000"):
        return PROVINCES.get(code[:2])
    return NAMED_REGIONS.get(code)


def full_name(code: str) -> str:
    """区划全称 as far as the table knows it, e.g. 江苏省镇江市润州区."""
    parts = [name_of(c) for c in parents(code)]
    return "".join(p for p in parts if p) or code


def covers(jurisdiction_region: str, jurisdiction_level: str, region_code: str) -> bool:
    n = LEVEL_PREFIX[jurisdiction_level]
    return region_code[:n] == jurisdiction_region[:n]
