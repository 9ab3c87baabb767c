"""The SearchIndex port: what the API and the projector need of a search backend.

Query semantics (the conformance suite holds both backends to them):
- ``q``: an 18-character credit code matches that code exactly; anything else is a
  case-insensitive substring of the name or the address, or an exact receipt number;
- ``region``: a province, city or county code; matches institutions within it;
- ``status``: the institution's registration status (discovered, filed, suspended, closing, closed, …);
- results sorted by name then id (code-point order), paginated with an opaque cursor.
Documents carry the ledger ``seq`` of the last event folded in; an upsert never replaces a
document with one of a lower or equal seq, so replays and duplicates change nothing.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass, field
from typing import Any, Protocol

from events.regions import prefix_of

CREDIT_CODE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")
STATUSES = ("discovered", "filed", "suspended", "closing", "closed", "service_suspended", "merged", "converted", "retracted")
MAX_PAGE = 200


class QueryInvalid(ValueError):
    def __init__(self, field_name: str, message_zh: str, message_en: str) -> None:
        super().__init__(message_en)
        self.field_name = field_name
        self.message_zh = message_zh
        self.message_en = message_en


@dataclass(frozen=True)
class SearchQuery:
    q: str | None = None
    region: str | None = None
    status: str | None = None
    size: int = 20
    cursor: str | None = None

    def __post_init__(self) -> None:
        if self.q is not None and len(self.q.strip()) == 0:
            object.__setattr__(self, "q", None)
        if self.q is not None and len(self.q) > 100:
            raise QueryInvalid("q", "检索词不能超过100个字符", "q is longer than 100 characters")
        if self.region is not None and not re.fullmatch(r"\d{6}", self.region):
            raise QueryInvalid("region", "region 应为6位行政区划代码", "region must be a 6-digit region code")
        if self.status is not None and self.status not in STATUSES:
            raise QueryInvalid("status", f"status 应为 {list(STATUSES)} 之一", f"status must be one of {list(STATUSES)}")
        if not 1 <= self.size <= MAX_PAGE:
            raise QueryInvalid("size", f"size 应在1到{MAX_PAGE}之间", f"size must be between 1 and {MAX_PAGE}")
        if self.cursor is not None:
            decode_cursor(self.cursor)

    @property
    def is_credit_code(self) -> bool:
        return self.q is not None and bool(CREDIT_CODE.match(self.q.strip().upper()))

    @property
    def region_prefix(self) -> str | None:
        return None if self.region is None else prefix_of(self.region)


@dataclass(frozen=True)
class SearchResult:
    total: int
    hits: list[dict[str, Any]] = field(default_factory=list)
    next_cursor: str | None = None


def encode_cursor(sort_key: tuple[str, str]) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(sort_key), ensure_ascii=False).encode()).decode()


def decode_cursor(cursor: str) -> tuple[str, str]:
    try:
        name, doc_id = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        if not isinstance(name, str) or not isinstance(doc_id, str):
            raise ValueError
        return name, doc_id
    except Exception:
        raise QueryInvalid("cursor", "翻页游标无效", "the cursor is not one this API issued") from None


class SearchIndex(Protocol):
    def get(self, institution_id: str) -> dict[str, Any] | None: ...

    def get_many(self, institution_ids: list[str]) -> dict[str, dict[str, Any]]: ...

    def upsert(self, documents: list[dict[str, Any]], position: dict[str, Any]) -> None:
        """Store documents (stale ones ignored) and the projector position they bring it to."""

    def position(self) -> dict[str, Any]:
        """``{"seq", "hash"}`` of the last event folded in and the feed ``cursor`` after it;
        ``{0, 0, GENESIS_HASH}`` when nothing has been projected."""

    def search(self, query: SearchQuery) -> SearchResult: ...

    def close(self) -> None: ...
