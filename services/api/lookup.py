"""Cross-department lookup: one search over every department's records ("线索互联、标准互通、
结果互认"), an institution's timeline, a change feed for other departments' systems to sync
from, and the index's lag behind the ledger."""

from datetime import date, datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from projections.search.index import InstitutionQuery, RecordQuery
from services.api.dependencies import ActorDep, RuntimeDep
from services.api.models import ERRORS
from services.api.parameters import ledger_seq
from services.api.visibility import decision_view, institution_view
from services.domain.errors import RuleViolation

router = APIRouter(prefix="/v1", responses=ERRORS, tags=["联合检索 lookup"])
Size = Annotated[int, Query(ge=1, le=200, description="每页条数（1-200）")]
Cursor = Annotated[str | None, Query(description="上一页返回的 next_cursor")]
Region = Annotated[str | None, Query(description="省、市或县级行政区划代码")]


class Page(BaseModel):
    total: int = Field(..., title="命中总数")
    hits: list[dict[str, Any]] = Field(..., title="结果（view 为 restricted 时含不公开字段）")
    next_cursor: str | None = Field(None, title="下一页游标")
    facets: dict[str, dict[str, int]] | None = Field(None, title="分面计数")
    indexed_seq: int = Field(..., title="检索索引已处理到的台账序号")


def _page(runtime, result, view, actor) -> Page:
    """A page of hits as the caller may see them; a hit the caller may not know of at all (an
    inspection before it takes place) is left out, so a page may hold fewer than ``size``."""
    shown = [view(actor, h) for h in result.hits]
    return Page(
        total=result.total, hits=[h for h in shown if h is not None], next_cursor=result.next_cursor,
        facets=result.facets, indexed_seq=runtime.search.position()["seq"],
    )


@router.get("/search", response_model=Page, summary="检索养老机构（各部门共享）")
def search(
    actor: ActorDep,
    runtime: RuntimeDep,
    q: Annotated[str | None, Query(description="名称或地址中的任意连续文字；拼音全拼或首字母（如 yihe、yhyly）；18位统一社会信用代码；备案回执编号")] = None,
    region: Region = None,
    status: Annotated[str | None, Query(description="登记状态：discovered、filed、suspended、closing、closed……")] = None,
    grade: Annotated[int | None, Query(ge=0, le=5, description="等级（0为未评定）")] = None,
    listed: Annotated[bool | None, Query(description="是否在失信名单上")] = None,
    open_major_hazard: Annotated[bool | None, Query(description="是否有未销账的重大隐患")] = None,
    sort: Annotated[str, Query(description="name（名称）或 updated（最近变化）")] = "name",
    facets: Annotated[bool, Query(description="是否返回分面计数")] = False,
    size: Size = 20,
    cursor: Cursor = None,
):
    query = InstitutionQuery(q=q, region=region, status=status, grade=grade, listed=listed, open_major_hazard=open_major_hazard,
                             sort=sort, size=size, cursor=cursor, facets=facets)
    return _page(runtime, runtime.search.search(query), institution_view, actor)


@router.get("/records", response_model=Page, summary="检索各部门的监管决定记录")
def records(
    actor: ActorDep,
    runtime: RuntimeDep,
    q: Annotated[str | None, Query(description="机构名称、决定摘要或文书编号中的任意连续文字")] = None,
    institution_id: Annotated[UUID | None, Query(description="机构编号")] = None,
    region: Region = None,
    department: Annotated[str | None, Query(description="作出决定的部门，如 fire_rescue")] = None,
    event_type: Annotated[str | None, Query(description="决定类型（事件类型），如 PenaltyDecided")] = None,
    aggregate_type: Annotated[str | None, Query(description="记录类别，如 Hazard、SanctionCase")] = None,
    date_from: Annotated[date | None, Query(description="决定日期起")] = None,
    date_to: Annotated[date | None, Query(description="决定日期止")] = None,
    sort: Annotated[str, Query(description="recent（决定日期倒序）或 seq（台账顺序）")] = "recent",
    facets: Annotated[bool, Query(description="是否返回分面计数")] = False,
    size: Size = 20,
    cursor: Cursor = None,
):
    query = RecordQuery(q=q, institution_id=str(institution_id) if institution_id else None, region=region, department=department,
                        event_type=event_type, aggregate_type=aggregate_type, date_from=date_from, date_to=date_to, sort=sort,
                        size=size, cursor=cursor, facets=facets)
    return _page(runtime, runtime.search.search_records(query), decision_view, actor)


@router.get("/institutions/{institution_id}/timeline", response_model=Page, summary="机构跨部门监管时间线")
def timeline(institution_id: Annotated[UUID, Path(title="机构编号")], actor: ActorDep, runtime: RuntimeDep, size: Size = 200,
             cursor: Cursor = None):
    query = RecordQuery(institution_id=str(institution_id), sort="seq", size=size, cursor=cursor)
    return _page(runtime, runtime.search.search_records(query), decision_view, actor)


@router.get("/changes", response_model=Page, summary="变更订阅：某台账序号（或时间）之后的全部决定，按台账顺序",
            description="供其他部门系统增量同步：以上次同步到的台账序号为 since（或 ISO 时间），按 next_cursor 翻页直至为空。")
def changes(
    actor: ActorDep,
    runtime: RuntimeDep,
    since: Annotated[str, Query(description="台账序号（整数），或 ISO 8601 时间（取该时间之后记录的决定）")],
    department: Annotated[str | None, Query(description="只看某部门作出的决定")] = None,
    region: Region = None,
    size: Size = 100,
    cursor: Cursor = None,
):
    query = RecordQuery(since_seq=_since_seq(runtime, since), department=department, region=region, sort="seq", size=size, cursor=cursor)
    return _page(runtime, runtime.search.search_records(query), decision_view, actor)


def _since_seq(runtime, since: str) -> int:
    seq = ledger_seq(since, "since")
    if seq is not None:
        return seq
    try:
        moment = datetime.fromisoformat(since)
    except ValueError:
        raise RuleViolation("QUERY_INVALID", "查询参数 since 应为台账序号或 ISO 8601 时间", "since is a ledger seq or an ISO 8601 time",
                            field="since") from None
    if moment.tzinfo is None:
        raise RuleViolation("QUERY_INVALID", "查询参数 since 时间须带时区，如 2024-05-01T00:00:00+08:00", "since needs a time zone",
                            field="since")
    return runtime.sealer.log.seq_before(moment.isoformat())


class Status(BaseModel):
    profile: str
    sealed_seq: int = Field(..., title="台账已封存的最新序号")
    indexed_seq: int = Field(..., title="检索索引已处理到的序号")
    lag_events: int = Field(..., title="检索索引落后的事件数")


@router.get("/status", response_model=Status, summary="台账与检索索引的进度（滞后）", tags=["运维 operations"])
def status(actor: ActorDep, runtime: RuntimeDep):
    sealed = runtime.sealer.log.head().seq
    indexed = runtime.search.position()["seq"]
    return Status(profile=runtime.settings.profile, sealed_seq=sealed, indexed_seq=indexed, lag_events=max(0, sealed - indexed))


public = APIRouter(prefix="/v1/public", responses=ERRORS, tags=["公开查询 public"])


@public.get("/search", response_model=Page, summary="公开检索养老机构（无需登录，仅公开字段）")
def public_search(
    runtime: RuntimeDep,
    q: Annotated[str | None, Query(description="名称、地址、拼音或统一社会信用代码")] = None,
    region: Region = None,
    status: Annotated[str | None, Query(description="登记状态")] = None,
    grade: Annotated[int | None, Query(ge=0, le=5, description="等级")] = None,
    size: Size = 20,
    cursor: Cursor = None,
):
    if status == "retracted":  # a retracted registration is on no public list and in no public search
        raise RuleViolation("QUERY_INVALID", "公开检索不提供已撤销的登记", "the public search holds no retracted registration",
                            field="status")
    query = InstitutionQuery(q=q, region=region, status=status, grade=grade, size=size, cursor=cursor)
    return _page(runtime, runtime.search.search(query), institution_view, None)
