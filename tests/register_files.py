"""Register files as a province's current system would export them, for the import tests and the
bench: realistic Chinese filings across Jiangsu's counties, 2019 to 2024, with bad rows at known
places, each with the refusal code it must get."""

from __future__ import annotations

import csv
import io
import random
from datetime import date, timedelta

from events.regions import NAMES, level_of
from events.working_days import working_day_deadline
from services.domain.credit_code import with_check_character
from services.ledger.register_import import FAMILIES

COUNTIES = sorted(c for c in NAMES if c.startswith("32") and level_of(c) == "county")
WORDS = ("康宁", "颐和", "福寿", "安康", "松鹤", "夕阳红", "长乐", "瑞祥", "恒爱", "仁和", "泰康", "怡养", "乐龄", "同心", "慈航",
         "百岁", "万福", "德馨", "嘉禾", "金秋", "银杏", "青松", "和美", "惠民", "博爱")
KINDS = ("养老院", "颐养中心", "敬老院", "护理院", "老年公寓", "康养中心")
STREETS = ("解放路", "人民路", "中山路", "建设路", "长江路", "和平路", "文化路", "新华路", "北京路", "学府路")
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = ("华", "芳", "明", "静", "强", "丽", "军", "敏", "伟", "娟", "磊", "霞", "勇", "燕", "杰")
# bad rows: every BAD_EVERY-th row, cycling through these (what is wrong, the code it must get)
BAD_KINDS = ("credit_checksum", "too_few_beds", "nursing_over_beds", "unknown_region", "filed_before_received", "no_name",
             "duplicate_receipt", "late_without_reason", "unknown_nature", "impossible_date", "before_the_rules", "other_province")
CODES = {
    "credit_checksum": "CREDIT_CODE_INVALID", "too_few_beds": "BEDS_BELOW_MINIMUM", "nursing_over_beds": "NURSING_BEDS_EXCEED_BEDS",
    "unknown_region": "REGION_CODE_INVALID", "filed_before_received": "DATE_ORDER_INVALID", "no_name": "IMPORT_VALUE_MISSING",
    "duplicate_receipt": "IMPORT_DUPLICATE_ROW", "late_without_reason": "FILING_LATE", "unknown_nature": "IMPORT_VALUE_INVALID",
    "impossible_date": "IMPORT_VALUE_INVALID", "before_the_rules": "RULE_NOT_IN_FORCE", "other_province": "OUTSIDE_JURISDICTION",
}
BAD_EVERY = 20


def _person(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.randint(1, 2)))


def filing_rows(n: int, *, seed: int = 12, bad_every: int = BAD_EVERY, last_day: date = date(2024, 10, 31)) -> tuple[list[dict], dict[int, str]]:
    """``n`` filing rows (header → text, as in the file) and, by spreadsheet row number (the header
    is row 1), the refusal code each bad row must get."""
    rng = random.Random(seed)
    rows, expected = [], {}
    span = (last_day - date(2019, 1, 10)).days
    for i in range(n):
        county = rng.choice(COUNTIES)
        admitted = date(2019, 1, 10) + timedelta(days=rng.randrange(span - 30))
        received = working_day_deadline(admitted, rng.randint(1, 8)).due
        filed = received + timedelta(days=rng.randint(0, 3))
        nature = rng.choice(("营利性", "营利性", "非营利性"))
        beds = rng.randint(12, 400)
        name = f"{NAMES[county]}{rng.choice(WORDS)}{rng.choice(KINDS)}"
        row = {
            "备案回执编号": f"{county}-{filed.year}-{i:05d}", "机构名称": name,
            "地址": f"{NAMES.get(county[:4] + '00', '')}{NAMES[county]}{rng.choice(STREETS)}{rng.randint(1, 999)}号",
            "行政区划代码": county,
            "统一社会信用代码": with_check_character(("91" if nature == "营利性" else "52") + county + f"{rng.getrandbits(36):09X}"[:9]),
            "营利性质": nature, "运营模式": rng.choice(("民办", "民办", "公建民营", "公建公营")),
            "举办者": f"{NAMES[county]}{rng.choice(WORDS)}养老服务有限公司", "法定代表人": _person(rng),
            "床位数": str(beds), "护理型床位数": str(rng.randint(0, beds)), "建筑面积（平方米）": f"{beds * rng.randint(25, 45)}.0",
            "服务场所权属": rng.choice(("自有", "租赁", "划拨或无偿使用")), "联系人": _person(rng),
            "联系电话": f"0{rng.randint(510, 527)}-8{rng.randint(1000000, 9999999)}",
            "登记机关类别": "市场监管部门" if nature == "营利性" else "民政部门", "登记机关层级": "县级", "登记机关行政区划代码": county,
            "备案材料齐全": "是", "首次收住老年人日期": admitted.isoformat(), "备案申请受理日期": received.isoformat(),
            "备案日期": filed.isoformat(), "逾期备案说明": "",
            "文书编号": f"{NAMES[county][:2]}民养备〔{filed.year}〕{i}号", "法律依据": "《养老机构管理办法》第九条",
        }
        number = i + 2
        if i % bad_every == bad_every - 1:
            kind = BAD_KINDS[(i // bad_every) % len(BAD_KINDS)]
            _spoil(row, kind, rows, county)
            expected[number] = CODES[kind]
        rows.append(row)
    return rows, expected


def _spoil(row: dict, kind: str, earlier: list[dict], county: str) -> None:
    if kind == "credit_checksum":
        code = row["统一社会信用代码"]
        row["统一社会信用代码"] = code[:-1] + ("0" if code[-1] != "0" else "1")
    elif kind == "too_few_beds":
        row["床位数"], row["护理型床位数"] = "6", "2"
    elif kind == "nursing_over_beds":
        row["护理型床位数"] = str(int(row["床位数"]) + 5)
    elif kind == "unknown_region":
        row["行政区划代码"] = "329999"
    elif kind == "filed_before_received":
        row["备案日期"] = (date.fromisoformat(row["备案申请受理日期"]) - timedelta(days=2)).isoformat()
    elif kind == "no_name":
        row["机构名称"] = ""
    elif kind == "duplicate_receipt":
        row["备案回执编号"] = earlier[-1]["备案回执编号"]
    elif kind == "late_without_reason":
        admitted = date.fromisoformat(row["首次收住老年人日期"])
        row["备案申请受理日期"] = working_day_deadline(admitted, 15).due.isoformat()
        row["备案日期"] = row["备案申请受理日期"]
    elif kind == "unknown_nature":
        row["营利性质"] = "民营"
    elif kind == "impossible_date":
        row["备案日期"] = "2021-02-30"
    elif kind == "before_the_rules":
        row["首次收住老年人日期"], row["备案申请受理日期"], row["备案日期"] = "2018-11-05", "2018-11-08", "2018-11-12"
    elif kind == "other_province":
        row["行政区划代码"] = row["登记机关行政区划代码"] = "210302"
        row["统一社会信用代码"] = with_check_character(row["统一社会信用代码"][:2] + "210302" + row["统一社会信用代码"][8:17])


def as_csv(rows: list[dict], family: str = "filings") -> bytes:
    headers = [c.header for c in FAMILIES[family].columns]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=headers, lineterminator="\r\n", extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return ("\ufeff" + buffer.getvalue()).encode()


def as_xlsx(rows: list[dict], family: str = "filings") -> bytes:
    """The same rows as an Excel workbook would hold them: dates as dates, numbers as numbers."""
    from openpyxl import Workbook

    headers = [c.header for c in FAMILIES[family].columns]
    kinds = {c.header: c.kind for c in FAMILIES[family].columns}
    book = Workbook()
    sheet = book.active
    sheet.append(headers)
    for row in rows:
        cells = []
        for h in headers:
            value = row.get(h, "")
            if kinds[h] == "date" and value:
                try:
                    value = date.fromisoformat(value)
                except ValueError:
                    pass
            elif kinds[h] == "integer" and value.isdigit():
                value = int(value)
            cells.append(value)
        sheet.append(cells)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
