"""Import of an existing register: a province going live brings years of decisions from its
current system, one CSV or XLSX file per decision family.

Each row becomes the event it is — a filing an ``InstitutionFiled``, a known-unfiled institution an
``InstitutionDiscovered`` — through the ordinary command pipeline, so every rule of the decision's
own date applies; with its original date, document number and legal basis, the importing officer
as actor, and the source (file SHA-256, file name, row) in the decision's basis. A row is one
command whose idempotency key names the decision itself (its content, not the file, the row or who
imports it), so the same decision imported again — the same file, a corrected or re-saved copy, by
another officer — records nothing twice. A dry run checks every row and records nothing. Refusals are reported per row
in Chinese, with the rule's code.

Columns are named in Chinese as a register exports them (``FAMILIES``); enum columns take the
Chinese names the catalogue gives the values (营利性, 租赁, …) or the codes.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from events import CATALOGUE
from events.canonical import canonical_json
from events.catalogue import Field
from services.domain.actors import Actor
from services.domain.errors import DomainError, RuleViolation
from services.ledger.application import Basis, Command, SupervisionLedger

MAX_ROWS = 100_000
YES, NO = ("是", "有", "齐全", "true", "1", "y", "yes"), ("否", "无", "不齐全", "false", "0", "n", "no")


@dataclass(frozen=True)
class Column:
    header: str  # as the register names it
    path: str  # the request field it fills ("registration_authority.level" for a member)
    kind: str = "text"  # text | integer | decimal | date | enum | boolean | list | level | institution | persons
    required: bool = True
    default: Any = None
    event_type: str | None = None  # the event the field belongs to, if not the family's own (a follow-up's)


@dataclass(frozen=True)
class Family:
    name: str
    title_zh: str
    operation: str
    event_type: str
    columns: tuple[Column, ...]
    identifiers: tuple[str, ...] = ()  # request fields no two rows of a file may share
    departments: tuple[str, ...] = ()  # who may import the family (any department, if empty)
    # decisions that followed on the same record, each (operation, its request fields — the first
    # dates it): recorded after the row's own decision when the row gives their date
    follow: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def enum_field(self, path: str, event_type: str | None = None) -> Field | None:
        spec: Field | None = None
        fields = CATALOGUE[event_type or self.event_type].fields
        for part in path.split("."):
            spec = next((f for f in fields if f.name == part), None)
            if spec is None:
                return None
            fields = spec.fields or (spec.items.fields if spec.items else ())
        return spec.items if spec is not None and spec.kind == "array" and spec.items is not None else spec


DOCUMENT = (Column("文书编号", "basis.document_no"), Column("法律依据", "basis.legal_basis", required=False,
                                                         default="《养老机构管理办法》"))
FAMILIES = {
    "filings": Family(
        "filings", "养老机构备案", "institution.file_new", "InstitutionFiled",
        columns=(
            Column("备案回执编号", "receipt_no"), Column("机构名称", "name"), Column("地址", "address"),
            Column("行政区划代码", "region_code"), Column("统一社会信用代码", "credit_code"),
            Column("营利性质", "nature", "enum"), Column("运营模式", "ownership_type", "enum"), Column("举办者", "operator"),
            Column("法定代表人", "legal_representative"), Column("床位数", "beds", "integer"),
            Column("护理型床位数", "nursing_beds", "integer"), Column("建筑面积（平方米）", "floor_area_m2", "decimal"),
            Column("服务场所权属", "premises_ownership", "enum"), Column("联系人", "contact_person"),
            Column("联系电话", "contact_phone"),
            Column("登记机关类别", "registration_authority.kind", "enum"),
            Column("登记机关层级", "registration_authority.level", "enum"),
            Column("登记机关行政区划代码", "registration_authority.region_code"),
            Column("备案材料齐全", "materials", "boolean", required=False, default=True),
            Column("首次收住老年人日期", "first_resident_admitted_on", "date"),
            Column("备案申请受理日期", "application_received_on", "date"), Column("备案日期", "filed_on", "date"),
            Column("逾期备案说明", "late_filing_reason", required=False),
            *DOCUMENT,
        ),
        identifiers=("receipt_no", "credit_code"), departments=("civil_affairs",),
    ),
    "unfiled": Family(
        "unfiled", "已掌握未登记备案机构", "institution.discover", "InstitutionDiscovered",
        columns=(
            Column("机构名称", "name"), Column("地址", "address"), Column("行政区划代码", "region_code"),
            Column("举办者", "operator"), Column("统一社会信用代码", "credit_code", required=False),
            Column("发现日期", "discovered_on", "date"), Column("线索来源", "source", "enum"),
            Column("收住老年人数", "residents", "integer"),
            Column("抄送部门", "handling.referred_to", "list", required=False),
            Column("未登记备案原因", "handling.reason", required=False), Column("处置措施", "handling.measures", required=False),
            Column("办结时限", "handling.deadline", "date", required=False),
            Column("责任人", "handling.responsible_person", required=False),
            *DOCUMENT,
        ),
        identifiers=("credit_code",),
    ),
    "gradings": Family(
        "gradings", "养老机构等级评定结果（本系统启用前）", "grading.import_award", "GradeAwarded",
        columns=(
            Column("统一社会信用代码", "institution_id", "institution"), Column("等级", "level", "level"),
            Column("评定日期", "awarded_on", "date"), Column("证书编号", "certificate_no"),
            *DOCUMENT,
        ),
        identifiers=("certificate_no",), departments=("civil_affairs",),
    ),
    "listings": Family(
        "listings", "养老服务市场失信联合惩戒对象名单（本系统启用前）", "listing.import", "CreditListingDecided",
        columns=(
            Column("统一社会信用代码", "institution_id", "institution"), Column("名单类别", "list", "enum"),
            Column("列入事由", "ground", "enum"), Column("原列入依据文书", "grounding_ref", required=False),
            Column("相关责任人", "persons", "persons", required=False), Column("列入决定日期", "decided_on", "date"),
            Column("列入理由", "reasons"), Column("决定", "outcome", "enum", required=False, default="listed"),
            Column("公布日期", "published_on", "date", required=False),
            *DOCUMENT,
        ),
        departments=("civil_affairs",), follow=(("listing.publish", ("published_on",)),),
    ),
    "sanctions": Family(
        "sanctions", "行政处罚决定（本系统启用前）", "sanction.import", "PenaltyDecided",
        columns=(
            Column("统一社会信用代码", "institution_id", "institution"), Column("违法情形类别", "ground", "enum"),
            Column("立案日期", "filed_on", "date", required=False), Column("行政处罚决定书文号", "decision_no"),
            Column("决定日期", "decided_on", "date"), Column("违法行为类型", "violation_type"), Column("违法事实", "facts"),
            Column("处罚依据", "legal_basis"), Column("处罚种类", "penalties", "penalties"),
            Column("罚款金额（元）", "fine_amount", "decimal", required=False), Column("履行方式和期限", "compliance"),
            Column("救济途径和期限", "remedies"), Column("作出决定的行政机关", "deciding_authority"),
            Column("公示日期", "published_on", "date", required=False), Column("失信程度", "publication_class", "enum", required=False, event_type="PenaltyPublished"),
            Column("逾期公示说明", "late_reason", required=False),
            *DOCUMENT,
        ),
        identifiers=("decision_no",), follow=(("sanction.publish", ("published_on", "publication_class", "late_reason")),),
    ),
}
LEVELS_ZH = {"一级": 1, "二级": 2, "三级": 3, "四级": 4, "五级": 5}
OPERATION_TITLES = {"listing.publish": "公布", "sanction.publish": "公示"}
MATERIALS = ("application_form", "registration_certificate", "compliance_commitment")


@dataclass
class RowResult:
    row: int  # the row number as a spreadsheet shows it (the header is row 1)
    outcome: str  # recorded | already | would_record | refused
    code: str | None = None
    message_zh: str | None = None
    record_id: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


@dataclass
class ImportReport:
    family: str
    file_name: str
    file_sha256: str
    dry_run: bool
    rows: list[RowResult] = field(default_factory=list)

    def count(self, outcome: str) -> int:
        return sum(r.outcome == outcome for r in self.rows)

    def as_dict(self) -> dict[str, Any]:
        outcomes = ("recorded", "already", "would_record", "refused")
        return {"family": self.family, "file_name": self.file_name, "file_sha256": self.file_sha256, "dry_run": self.dry_run,
                "total": len(self.rows), **{o: self.count(o) for o in outcomes},
                "refusals": [r.as_dict() for r in self.rows if r.outcome == "refused"]}


class ImportRefused(RuleViolation):
    """A file or row that cannot be read as the family's decisions."""


# --- reading a file --------------------------------------------------------------------------------


def read_table(content: bytes, file_name: str) -> list[dict[str, str]]:
    """The rows of a CSV (UTF-8, with or without BOM, or GB18030 as Chinese spreadsheets save it) or
    XLSX file (its first sheet), each a mapping of header to text."""
    if file_name.lower().endswith(".xlsx") or content[:2] == b"PK":
        grid = _xlsx(content)
    else:
        try:
            grid = list(csv.reader(io.StringIO(_decoded(content))))
        except csv.Error as error:  # a cell beyond the csv module's limit, a NUL byte, …
            raise ImportRefused("IMPORT_FILE_UNREADABLE", "无法按CSV读取该文件（单元格过长或含有不允许的字符）",
                                f"the file cannot be read as CSV: {error}") from None
    if not grid or not any(cell.strip() for cell in grid[0]):
        raise ImportRefused("IMPORT_FILE_EMPTY", "文件为空或缺少表头行", "the file is empty or has no header row")
    headers = [h.strip() for h in grid[0]]
    if len(grid) - 1 > MAX_ROWS:
        raise ImportRefused("IMPORT_FILE_TOO_LARGE", f"单个文件最多{MAX_ROWS}行，请分批导入", f"at most {MAX_ROWS} rows per file")
    return [{h: (row[i].strip() if i < len(row) else "") for i, h in enumerate(headers) if h} for row in grid[1:]]


def _decoded(content: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportRefused("IMPORT_FILE_ENCODING", "无法识别文件编码（应为UTF-8或GB18030）", "the file is neither UTF-8 nor GB18030")


def _xlsx(content: bytes) -> list[list[str]]:
    import datetime as dt

    from openpyxl import load_workbook


    def text(value: Any) -> str:
        if value is None:
            return ""
        if isinstance(value, dt.datetime):
            return value.date().isoformat()
        if isinstance(value, dt.date):
            return value.isoformat()
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value)

    try:
        sheet = load_workbook(io.BytesIO(content), read_only=True, data_only=True).worksheets[0]
        return [[text(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    except Exception as error:  # noqa: BLE001  (any unreadable workbook, or sheet, is the same refusal)
        raise ImportRefused("IMPORT_FILE_UNREADABLE", "无法读取该XLSX文件", f"the XLSX file cannot be read: {type(error).__name__}") from None


# --- a row as a command ----------------------------------------------------------------------------


def request_of(family: Family, row: dict[str, str], holder_of: Callable[[str, str], str | None] = lambda kind, value: None,
               ) -> tuple[dict[str, Any], dict[str, str]]:
    """The command request and basis a row makes (``holder_of``: the institution an identifier is
    bound to in the ledger); ImportRefused names the first column that cannot."""
    missing = [c.header for c in family.columns if c.required and c.header not in row]
    if missing:
        raise ImportRefused("IMPORT_COLUMN_MISSING", f"缺少必需的列：{'、'.join(missing)}", f"missing columns: {', '.join(missing)}")
    request: dict[str, Any] = {}
    basis: dict[str, str] = {}
    for column in family.columns:
        raw = row.get(column.header, "")
        if raw == "":
            if column.required:
                raise ImportRefused("IMPORT_VALUE_MISSING", f"“{column.header}”不能为空", f"{column.header} is empty")
            if column.default is None:
                continue
            value = column.default
        elif column.kind == "institution":
            value = holder_of("credit_code", raw.strip().upper())
            if value is None:
                raise ImportRefused("IMPORT_INSTITUTION_UNKNOWN", f"台账中没有统一社会信用代码为 {raw} 的机构，请先导入其备案",
                                    f"no institution with credit code {raw} in the ledger: import its filing first")
        else:
            value = _converted(family, column, raw)
        target, *rest = column.path.split(".")
        if target == "basis":
            basis[rest[0]] = value
        elif column.path == "materials":
            request["materials"] = dict.fromkeys(MATERIALS, bool(value))
        elif rest:
            request.setdefault(target, {})[rest[0]] = value
        else:
            request[target] = value
    if "fine_amount" in request:  # the amount belongs to the fine among the penalties
        amount = request.pop("fine_amount")
        for penalty in request.get("penalties", []):
            if penalty["type"] == "fine":
                penalty["amount"] = amount
    return request, basis


CONVERTERS: dict[str, Callable[[str], Any]] = {
    "integer": lambda raw: _integer(raw.replace(",", "")),
    "decimal": lambda raw: str(raw.replace(",", "")),
    "text": str,
}


def _integer(raw: str) -> int:
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 9):
        raise ValueError(raw)
    return int(raw)


def _converted(family: Family, column: Column, raw: str) -> Any:
    if column.kind == "enum" or column.kind == "list":
        spec = family.enum_field(column.path, column.event_type)
        values = [v.strip() for v in raw.replace("，", "、").replace(",", "、").split("、") if v.strip()] if column.kind == "list" else [raw]
        codes = [_code_of(spec, v, column.header) for v in values]
        return codes if column.kind == "list" else codes[0]
    if column.kind == "boolean":
        if raw.lower() in YES:
            return True
        if raw.lower() in NO:
            return False
        raise ImportRefused("IMPORT_VALUE_INVALID", f"“{column.header}”应填“是”或“否”", f"{column.header} is yes or no")
    if column.kind == "date":
        return _date(raw, column.header)
    if column.kind == "penalties":  # 警告、罚款 (a fine's amount comes from its own column)
        spec = family.enum_field("penalties.type")
        return [{"type": _code_of(spec, v, column.header)} for v in raw.replace("，", "、").replace(",", "、").split("、") if v.strip()]
    if column.kind == "persons":  # 王某（法定代表人）、李某（院长）
        persons = []
        for part in (p.strip() for p in raw.replace("；", "、").replace(";", "、").split("、") if p.strip()):
            name, _, role = part.replace("(", "（").replace(")", "）").partition("（")
            persons.append({"name": name.strip(), "role": role.rstrip("）").strip() or "相关责任人"})
        return persons
    if column.kind == "level":
        level = LEVELS_ZH.get(raw, int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 3 else 0)
        if not 1 <= level <= 5:
            raise ImportRefused("IMPORT_VALUE_INVALID", f"“{column.header}”应为一级至五级：{raw}", f"{column.header} is level 1 to 5: {raw}")
        return level
    try:
        return CONVERTERS[column.kind](raw)
    except ValueError:
        raise ImportRefused("IMPORT_VALUE_INVALID", f"“{column.header}”应为数字：{raw}", f"{column.header} is not a number: {raw}") from None


def _code_of(spec: Field | None, value: str, header: str) -> str:
    if spec is None:
        return value
    if value in spec.enum:
        return value
    by_name = {name: code for code, name in spec.names.items()}
    if value in by_name:
        return by_name[value]
    raise ImportRefused("IMPORT_VALUE_INVALID", f"“{header}”的取值“{value}”不在允许范围内，应为：{'、'.join(spec.names.values())}",
                        f"{header}: {value} is not one of {list(spec.enum)}")


def _date(raw: str, header: str) -> str:
    from datetime import date

    text = raw.strip().replace("/", "-").replace(".", "-").replace("年", "-").replace("月", "-").replace("日", "")
    try:
        y, m, d = (int(part) for part in text.split("-")[:3])
        return date(y, m, d).isoformat()
    except (ValueError, TypeError):
        raise ImportRefused("IMPORT_VALUE_INVALID", f"“{header}”不是有效日期：{raw}", f"{header} is not a date: {raw}") from None


# --- the import ------------------------------------------------------------------------------------


def import_register(ledger: SupervisionLedger, family_name: str, content: bytes, file_name: str, actor: Actor, *,
                    dry_run: bool = False) -> ImportReport:
    """Record (or, with ``dry_run``, check) every row of a register file; the report says what
    became of each row."""
    family = FAMILIES.get(family_name)
    if family is None:
        raise ImportRefused("IMPORT_FAMILY_UNKNOWN", f"不支持导入“{family_name}”，可导入：{'、'.join(f.title_zh for f in FAMILIES.values())}",
                            f"no import for {family_name}; known: {', '.join(FAMILIES)}")
    actor.require_role("officer")
    if family.departments:
        actor.require_department(*family.departments)
    digest = hashlib.sha256(content).hexdigest()
    file_name = "".join(ch for ch in file_name if ch.isprintable())[-200:] or "unnamed"  # it goes into every row's basis
    report = ImportReport(family.name, file_name, digest, dry_run)
    seen: dict[tuple[str, str], int] = {}
    for number, row in enumerate(read_table(content, file_name), start=2):
        if not any(row.values()):
            continue  # a blank line
        report.rows.append(_one_row(ledger, family, row, number, digest, file_name, actor, seen, dry_run))
    return report


def _one_row(ledger: SupervisionLedger, family: Family, row: dict[str, str], number: int, digest: str, file_name: str,
             actor: Actor, seen: dict[tuple[str, str], int], dry_run: bool) -> RowResult:
    try:
        request, basis = request_of(family, row, ledger.holder_of)
        for name in family.identifiers:
            value = request.get(name)
            if value and (name, value) in seen:
                raise ImportRefused("IMPORT_DUPLICATE_ROW", f"与第{seen[(name, value)]}行的{_header(family, name)}重复：{value}",
                                    f"{name} {value} repeats row {seen[(name, value)]}")
        for name in family.identifiers:
            if request.get(name):
                seen[(name, request[name])] = number
        source = {"file_sha256": digest, "file_name": file_name, "row": number}
        recorded_basis = Basis(basis.get("document_no", ""), basis.get("legal_basis", ""), source)
        following = [(operation, {f: request.pop(f) for f in fields if f in request}) for operation, fields in family.follow
                     if fields[0] in request]
        for _, fields in family.follow:  # a follow-up the row does not date: its other columns go with it
            for f in fields:
                request.pop(f, None)
        # the decision itself names the command: the same row again — from this file or another,
        # imported by whomever — is the same decision, recorded once
        content = canonical_json({"request": request, "follow": following, "basis": recorded_basis.record() | {"imported_from": None}})
        key = f"import:{family.name}:{hashlib.sha256(content).hexdigest()}"
        result = ledger.execute(family.operation, Command(actor, recorded_basis, request, key, scoped=False), dry_run=dry_run)
    except DomainError as refused:
        return RowResult(number, "refused", refused.code, refused.message_zh)
    for operation, follow_request in following if not dry_run else ():
        try:
            ledger.execute(operation, Command(actor, recorded_basis, follow_request, f"{key}:{operation}", scoped=False), result.aggregate_id)
        except DomainError as refused:  # the row's decision stands; what followed it is reported
            return RowResult(number, "refused", refused.code, f"本行决定已记录，但其后的“{OPERATION_TITLES.get(operation, operation)}”未记录："
                             f"{refused.message_zh}", str(result.aggregate_id))
    outcome = "already" if result.replayed else "would_record" if dry_run else "recorded"
    return RowResult(number, outcome, record_id=None if dry_run else str(result.aggregate_id))


def _header(family: Family, path: str) -> str:
    return next((c.header for c in family.columns if c.path == path), path)


def template_csv(family_name: str) -> bytes:
    """An empty file with the family's columns, for a register to fill (UTF-8 with BOM for Excel)."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(c.header for c in FAMILIES[family_name].columns)
    return ("\ufeff" + buffer.getvalue()).encode()
