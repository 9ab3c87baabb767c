"""Register queries: any record's current state, and the lists departments work from (the hazard
"three lists", inspection obligations, campaign progress) — each a query over the record-state
projection, shown through the visibility gate."""

from datetime import date
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Path, Query

from events.catalogue import Field
from events.lifecycle import DISCOVERED
from events.regions import children, prefix_of
from events.visibility import Reader, knows_record, record_view, sees_restricted, view
from projections.campaign_progress import KINDS as PROGRESS_KINDS
from projections.campaign_progress import METRICS, SHORTFALL_FIELDS, progress, shortfall
from projections.hazard_lists import RESPONSIBILITY_FIELDS, ROW_FIELDS, month_bounds, monthly_lists
from projections.inspection_obligations import obligations
from projections.record_states import StateQuery
from projections.worklist import (
    DEFENCE_FIELDS,
    ENDING_FIELDS,
    INSPECTION_FIELDS,
    INSTITUTION_NAME,
    PUBLICITY_FIELDS,
    SCHEDULER_FIELDS,
    UNFILED_FIELDS,
    institution_names,
    worklist,
)
from projections.worklist import KINDS as WORKLIST_KINDS
from services.api.commands import RESOURCE_PATHS
from services.api.dependencies import ActorDep, RuntimeDep
from services.api.models import ERRORS, InstitutionResponse, RecordResponse
from services.api.parameters import MonthQuery, RegionQuery
from services.domain.errors import NotFound
from services.domain.operations import OPERATIONS
from services.domain.recorded import LedgerAggregate

router = APIRouter(prefix="/v1", responses=ERRORS)


@router.get("/institutions/{institution_id}", response_model=InstitutionResponse, summary="查询机构当前登记信息", tags=["登记备案 registration"])
def get_institution(institution_id: Annotated[UUID, Path(title="机构编号")], actor: ActorDep, runtime: RuntimeDep):
    institution = runtime.ledger.institution(institution_id)
    shown = record_view(institution.record, actor)
    return InstitutionResponse(
        id=shown["id"], status=shown["status"], status_name=shown["status_name"], aggregate_version=shown["version"],
        profile=shown["state"].get("profile", {}),
    )


def _rows(reader: Reader | None, fields: tuple[Field, ...], rows: list[dict[str, Any]], departments) -> list[dict[str, Any]]:
    return [view(fields, row, full=sees_restricted(reader, departments(row), row["region_code"])) for row in rows]


def _hazard_handlers(row: dict[str, Any]) -> tuple[str, str]:
    """The departments handling a hazard: who identified it and who ordered its rectification."""
    return row["identified_by"], row.get("ordered_by") or row["identified_by"]


@router.get("/hazard-lists", summary="隐患“三个清单”（问题、整改、责任），按地区和月份", tags=["隐患台账 hazards"])
def hazard_lists(
    actor: ActorDep,
    runtime: RuntimeDep,
    region: RegionQuery,
    month: MonthQuery,
):
    start, end = month_bounds(month)
    hazards = runtime.search.states(StateQuery(kinds=("Hazard",), region=region, between=(start, end)))
    lists = monthly_lists(hazards, prefix_of(region), month)
    for name in ("problems", "rectifications"):
        lists[name] = _rows(actor, ROW_FIELDS, lists[name], _hazard_handlers)
    lists["responsibilities"] = _rows(actor, RESPONSIBILITY_FIELDS, lists["responsibilities"], lambda row: row["departments"])
    return lists


@router.get("/worklist", tags=["隐患台账 hazards"],
            summary="待办：到期和逾期的隐患、未备案机构办结时限、陈述申辩期限、公示期、待实施和待公开的检查、即将届满的公示和名单、调度程序的新记录")
def officer_worklist(
    actor: ActorDep,
    runtime: RuntimeDep,
    region: RegionQuery,
    since: Annotated[int | None, Query(ge=0, le=10**12, description="调度程序记录：只列台账序号大于此值的（默认近7日）")] = None,
    until: Annotated[int | None, Query(ge=0, le=10**12, description="调度程序记录：只列台账序号不大于此值的（默认不限）")] = None,
):
    # the unfiled institutions, and the records the reader may know of; the institutions those
    # concern are named from their own states (not every institution of the region is read)
    unfiled = runtime.search.states(StateQuery(kinds=("Institution",), region=region, statuses=(DISCOVERED,)))
    others = [r for r in runtime.search.states(StateQuery(kinds=tuple(k for k in WORKLIST_KINDS if k != "Institution"), region=region))
              if knows_record(r, actor)]
    concerned = sorted({r["institution_id"] for r in others if r["institution_id"]})
    names = institution_names(runtime.search.get_states(concerned).values()) if concerned else {}
    lists = worklist([*unfiled, *others], prefix_of(region), runtime.ledger.today(), since, names, until)
    for name in ("hazards_overdue", "hazards_due_soon", "hazards_without_order"):
        lists[name] = _rows(actor, (*ROW_FIELDS, INSTITUTION_NAME), lists[name], _hazard_handlers)
    lists["unfiled_handling"] = [view(UNFILED_FIELDS, row, full=False) for row in lists["unfiled_handling"]]
    for name, fields in (("defence_windows", DEFENCE_FIELDS), ("publicity_running", PUBLICITY_FIELDS), ("ending_soon", ENDING_FIELDS),
                         ("inspections_to_conduct", INSPECTION_FIELDS), ("results_to_publish", INSPECTION_FIELDS),
                         ("scheduler_recorded", SCHEDULER_FIELDS)):
        lists[name] = _rows(actor, fields, lists[name], lambda row: row["departments"])
    return lists


@router.get("/inspection-obligations", summary="检查义务：备案/发现后20个工作日内首次检查、年度检查覆盖", tags=["监督检查 inspections"])
def inspection_obligations(
    actor: ActorDep,
    runtime: RuntimeDep,
    region: RegionQuery,
    as_of: Annotated[date | None, Query(description="截至日期（默认今天）")] = None,
    year: Annotated[int | None, Query(ge=2019, le=2100, description="覆盖率统计年度（默认截至日期所在年度）")] = None,
):
    day = as_of or runtime.ledger.today()
    institutions = runtime.search.states(StateQuery(kinds=("Institution",), region=region))
    inspections = runtime.search.states(StateQuery(kinds=("Inspection",), region=region))
    return obligations(list(institutions), inspections, prefix_of(region), day.isoformat(), year or day.year)


@router.get("/campaign-progress", summary="工作目标完成情况（备案率、达标率、评定率）", tags=["标准符合性与工作目标 compliance"])
def campaign_progress(
    actor: ActorDep,
    runtime: RuntimeDep,
    region: RegionQuery,
    year: Annotated[int, Query(ge=2019, le=2100, description="年度")],
    sub_regions: Annotated[bool, Query(description="同时列出下一级各地区的完成情况")] = False,
):
    as_of = _campaign_day(runtime, year)
    records = runtime.search.states(StateQuery(kinds=PROGRESS_KINDS, region=region))
    return progress(records, region, year, as_of, sub_regions=children(region) if sub_regions else ())


def _campaign_day(runtime: Any, year: int) -> str:
    """A year's figures are as of its last day, or today for the current year."""
    return min(date(year, 12, 31), runtime.ledger.today()).isoformat()


@router.get("/campaign-progress/shortfall", summary="工作目标：尚未达到某项指标的机构", tags=["标准符合性与工作目标 compliance"])
def campaign_shortfall(
    actor: ActorDep,
    runtime: RuntimeDep,
    region: RegionQuery,
    year: Annotated[int, Query(ge=2019, le=2100, description="年度")],
    metric: Annotated[Literal[METRICS], Query(description="指标：filed 备案、gb38600_compliant、gbt35796_compliant、graded 评定")],
):
    records = runtime.search.states(StateQuery(kinds=PROGRESS_KINDS, region=region))
    rows = shortfall(records, region, year, _campaign_day(runtime, year), metric)
    return {"region": region, "year": year, "metric": metric, "institutions": [view(SHORTFALL_FIELDS, row, full=False) for row in rows]}


RECORD_CLASSES = {op.aggregate.__name__: op.aggregate for op in OPERATIONS.values() if op.aggregate is not LedgerAggregate}


@router.get("/records/{record_id}", response_model=RecordResponse, summary="查询任一记录（机构、隐患、检查、案件、名单、评定……）", tags=["联合检索 lookup"])
def get_record(record_id: Annotated[UUID, Path(title="记录编号")], actor: ActorDep, runtime: RuntimeDep):
    return _shown(runtime.ledger.aggregate(LedgerAggregate, record_id).record, actor, record_id)


def _shown(record: dict[str, Any], actor: Any, record_id: UUID) -> dict[str, Any]:
    """The record as the caller may see it; one the caller may not know of is not found."""
    shown = record_view(record, actor)
    if shown is None:
        raise NotFound("RECORD_NOT_FOUND", f"未找到记录 {record_id}", f"no record {record_id}", id=str(record_id))
    return shown


def _typed_reader(cls: type):
    def read(record_id: Annotated[UUID, Path(title="记录编号")], actor: ActorDep, runtime: RuntimeDep) -> RecordResponse:
        return _shown(runtime.ledger.aggregate(cls, record_id).record, actor, record_id)

    return read


for _type, _path in RESOURCE_PATHS.items():
    if _type != "Institution":
        router.add_api_route(
            _path.removeprefix("/v1") + "{record_id}", _typed_reader(RECORD_CLASSES[_type]), methods=["GET"],
            response_model=RecordResponse, summary=f"查询{getattr(RECORD_CLASSES[_type], 'NAME_ZH', _type)}", tags=["联合检索 lookup"],
        )
