"""The SearchIndex port: what the API and the projector need of a search backend, and the exact
query semantics both backends are held to by one conformance suite.

Institutions (``InstitutionQuery``):
- ``q``: an 18-character credit code matches that code exactly; letters only (``yihe``, ``yh``)
  also match the name's pinyin or its initials; anything else is a case-insensitive substring of
  the name or the address, or an exact receipt number;
- ``region``: a province, city or county code, matching institutions within it;
- ``status``, ``grade`` (0 = ungraded), ``listed`` (on a credit list), ``open_major_hazard``;
- sorted by name then id (code-point order) or by last change (seq descending, then id).
Records (``RecordQuery``), one per decision of any department:
- ``q``: a case-insensitive substring of the institution's name, the summary or the document number;
- ``institution_id``, ``region``, ``department``, ``event_type``, ``aggregate_type``, occurred
  between ``date_from`` and ``date_to`` (inclusive), ``since_seq`` (exclusive);
- sorted by seq ascending (a timeline, a change feed) or occurred_at descending then seq.
Both: ``size`` ≤ 200, an opaque ``cursor`` for the next page (stable: search_after on the sort
keys), and ``facets`` with counts over everything the filters match.
Record states (``StateQuery``, projections/record_states.py): every record of the kinds asked for,
in a region, of an institution, current between two days; all of them, in id order.
Documents carry the ledger seq of the last event that changed them; an upsert never replaces a
document with one of a lower or equal seq, so replays and duplicates change nothing.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

from events.lifecycle import INSTITUTION
from events.record_kinds import RETRACTED
from events.regions import prefix_of
from projections.record_states import StateQuery

CREDIT_CODE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")
LETTERS = re.compile(r"^[A-Za-z]+$")
STATUS_NAMES = {**INSTITUTION.states, RETRACTED: "登记已撤销"}
STATUSES = tuple(STATUS_NAMES)
INSTITUTION_SORT_NAMES = {"name": "按机构名称", "updated": "按最近更新"}
INSTITUTION_SORTS = tuple(INSTITUTION_SORT_NAMES)
RECORD_SORT_NAMES = {"seq": "按台账序号", "recent": "按时间由近及远"}
RECORD_SORTS = tuple(RECORD_SORT_NAMES)
INSTITUTION_FACETS = ("status", "region_code", "grade_level", "listed")
RECORD_FACETS = ("department", "event_type", "aggregate_type")
MAX_PAGE = 200


class QueryInvalid(ValueError):
    def __init__(self, field_name: str, message_zh: str, message_en: str) -> None:
        super().__init__(message_en)
        self.field_name = field_name
        self.message_zh = message_zh
        self.message_en = message_en


def _check_common(q: str | None, region: str | None, size: int) -> str | None:
    if q is not None and not q.strip():
        q = None
    if q is not None and len(q) > 100:
        raise QueryInvalid("q", "检索词不能超过100个字符", "q is longer than 100 characters")
    if region is not None and not re.fullmatch(r"\d{6}", region):
        raise QueryInvalid("region", "region 应为6位行政区划代码", "region must be a 6-digit region code")
    if not 1 <= size <= MAX_PAGE:
        raise QueryInvalid("size", f"size 应在1到{MAX_PAGE}之间", f"size must be between 1 and {MAX_PAGE}")
    return q.strip() if q else None


@dataclass(frozen=True)
class InstitutionQuery:
    q: str | None = None
    region: str | None = None
    status: str | None = None
    grade: int | None = None
    listed: bool | None = None
    open_major_hazard: bool | None = None
    sort: str = "name"
    size: int = 20
    cursor: str | None = None
    facets: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "q", _check_common(self.q, self.region, self.size))
        if self.status is not None and self.status not in STATUSES:
            raise QueryInvalid("status", f"机构状态（status）应为：{'、'.join(STATUS_NAMES.values())}", f"status must be one of {list(STATUSES)}")
        if self.grade is not None and not 0 <= self.grade <= 5:
            raise QueryInvalid("grade", "grade 应为0（未评定）至5", "grade is 0 (ungraded) to 5")
        if self.sort not in INSTITUTION_SORTS:
            raise QueryInvalid("sort", f"排序方式（sort）应为：{'、'.join(INSTITUTION_SORT_NAMES.values())}", f"sort must be one of {list(INSTITUTION_SORTS)}")
        if self.cursor is not None:
            decode_cursor(self.cursor, self.sort)

    @property
    def is_credit_code(self) -> bool:
        return self.q is not None and bool(CREDIT_CODE.match(self.q.upper()))

    @property
    def is_letters(self) -> bool:
        return self.q is not None and bool(LETTERS.match(self.q))

    @property
    def region_prefix(self) -> str | None:
        return None if self.region is None else prefix_of(self.region)


# The first walking-skeleton name, kept for callers that only search institutions.
SearchQuery = InstitutionQuery


@dataclass(frozen=True)
class RecordQuery:
    q: str | None = None
    institution_id: str | None = None
    region: str | None = None
    department: str | None = None
    event_type: str | None = None
    aggregate_type: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    since_seq: int | None = None
    sort: str = "recent"
    size: int = 20
    cursor: str | None = None
    facets: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "q", _check_common(self.q, self.region, self.size))
        if self.sort not in RECORD_SORTS:
            raise QueryInvalid("sort", f"排序方式（sort）应为：{'、'.join(RECORD_SORT_NAMES.values())}", f"sort must be one of {list(RECORD_SORTS)}")
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise QueryInvalid("date_from", "起始日期不能晚于截止日期", "date_from is after date_to")
        if self.since_seq is not None and self.since_seq < 0:
            raise QueryInvalid("since_seq", "since_seq 不能为负数", "since_seq is not negative")
        if self.cursor is not None:
            decode_cursor(self.cursor, self.sort)

    @property
    def region_prefix(self) -> str | None:
        return None if self.region is None else prefix_of(self.region)


@dataclass(frozen=True)
class SearchResult:
    total: int
    hits: list[dict[str, Any]] = field(default_factory=list)
    next_cursor: str | None = None
    facets: dict[str, dict[str, int]] | None = None


def encode_cursor(sort: str, keys: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps([sort, *keys], ensure_ascii=False).encode()).decode()


def decode_cursor(cursor: str, sort: str) -> list[Any]:
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        if not isinstance(values, list) or len(values) != 3 or values[0] != sort:
            raise ValueError
        return values[1:]
    except Exception:
        raise QueryInvalid("cursor", "翻页游标无效（或与排序方式不符）", "the cursor is not one this API issued for this sort") from None


def facet_key(value: Any) -> str:
    """Facet buckets are keyed by strings on both backends (true/false, numbers as digits)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def institution_fields(doc: dict[str, Any]) -> dict[str, Any]:
    """The indexed (filterable, sortable) fields of an institution document."""
    summary = doc.get("summary") or {}
    return {
        "id": doc["id"], "seq": doc["seq"], "status": doc["status"], "name": doc["name"], "address": doc["address"],
        "credit_code": doc.get("credit_code"), "receipt_no": doc.get("receipt_no"), "region_code": doc["region_code"],
        "region_path": doc["region_path"], "name_pinyin": doc.get("name_pinyin", ""), "name_initials": doc.get("name_initials", ""),
        "grade_level": summary.get("grade_level", 0), "listed": bool(summary.get("listings")),
        "open_major_hazard": (summary.get("open_hazards") or {}).get("major", 0) > 0,
    }


class SearchIndex(Protocol):
    def get(self, institution_id: str) -> dict[str, Any] | None: ...

    def get_many(self, institution_ids: list[str]) -> dict[str, dict[str, Any]]: ...

    def get_records(self, event_ids: list[str]) -> dict[str, dict[str, Any]]: ...

    def get_states(self, record_ids: list[str]) -> dict[str, dict[str, Any]]: ...

    def states(self, query: StateQuery) -> Iterator[dict[str, Any]]:
        """Every record state ``query`` selects, in id order."""

    def upsert(self, documents: list[dict[str, Any]], position: dict[str, Any] | None, records: list[dict[str, Any]] = (),
               states: list[dict[str, Any]] = ()) -> None:
        """Store institution and decision documents and record states (stale ones ignored). With a
        ``position``, *publish* it: everything stored so far becomes searchable, then the position
        moves there, so whoever reads a position finds every document up to it. Without one, the
        documents are stored (readable by id) and the position stays where it was."""

    def position(self) -> dict[str, Any]:
        """``{"seq", "hash"}`` of the last event folded in and the feed ``cursor`` after it;
        ``{0, 0, GENESIS_HASH}`` when nothing has been projected."""

    def documents(self) -> Iterator[tuple[str, str, dict[str, Any]]]:
        """Every document held, as ("institution" | "record" | "state", id, document): for reconciliation."""

    def search(self, query: InstitutionQuery) -> SearchResult: ...

    def search_records(self, query: RecordQuery) -> SearchResult: ...

    def close(self) -> None: ...
