"""Register queries: any record's current state, and the lists departments work from (the hazard
"three lists", inspection obligations, campaign progress)."""

import re
from datetime import date
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Path, Query

from events.regions import prefix_of
from projections.campaign_progress import EVENTS as PROGRESS_EVENTS
from projections.campaign_progress import progress
from projections.hazard_lists import HAZARD_EVENTS, monthly_lists
from projections.inspection_obligations import EVENTS as OBLIGATION_EVENTS
from projections.inspection_obligations import obligations
from services.api.commands import RESOURCE_PATHS
from services.api.dependencies import ActorDep, RuntimeDep
from services.api.models import ERRORS, InstitutionResponse, RecordResponse
from services.api.visibility import profile_view
from services.domain.errors import RuleViolation
from services.domain.operations import OPERATIONS
from services.domain.recorded import LedgerAggregate

router = APIRouter(prefix="/v1", responses=ERRORS)


@router.get("/institutions/{institution_id}", response_model=InstitutionResponse, summary="查询机构当前登记信息", tags=["登记备案 registration"])
def get_institution(institution_id: Annotated[UUID, Path(title="机构编号")], actor: ActorDep, runtime: RuntimeDep):
    institution = runtime.ledger.institution(institution_id)
    return InstitutionResponse(
        id=str(institution.id), status=institution.status, aggregate_version=institution.version,
        profile=profile_view(actor, institution.profile["region_code"], institution.profile),
    )


@router.get("/hazard-lists", summary="隐患“三个清单”（问题、整改、责任），按地区和月份", tags=["隐患台账 hazards"])
def hazard_lists(
    actor: ActorDep,
    runtime: RuntimeDep,
    region: Annotated[str, Query(description="省、市或县级行政区划代码")],
    month: Annotated[str, Query(description="月份 YYYY-MM，清单截至该月末")],
):
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", month):
        raise RuleViolation("QUERY_INVALID", "month 应为 YYYY-MM", "month must be YYYY-MM")
    runtime.sealer.seal_pending()
    return monthly_lists(runtime.sealer.log.iterate_types(HAZARD_EVENTS), _region_prefix(region), month)


@router.get("/inspection-obligations", summary="检查义务：备案/发现后20个工作日内首次检查、年度检查覆盖", tags=["监督检查 inspections"])
def inspection_obligations(
    actor: ActorDep,
    runtime: RuntimeDep,
    region: Annotated[str, Query(description="省、市或县级行政区划代码")],
    as_of: Annotated[date | None, Query(description="截至日期（默认今天）")] = None,
    year: Annotated[int | None, Query(ge=2019, le=2100, description="覆盖率统计年度（默认截至日期所在年度）")] = None,
):
    day = as_of or runtime.ledger.today()
    runtime.sealer.seal_pending()
    events = runtime.sealer.log.iterate_types(OBLIGATION_EVENTS)
    return obligations(events, _region_prefix(region), day.isoformat(), year or day.year)


def _region_code(region: str) -> str:
    if not re.fullmatch(r"\d{6}", region):
        raise RuleViolation("QUERY_INVALID", "region 应为6位行政区划代码", "region must be a 6-digit region code")
    return region


def _region_prefix(region: str) -> str:
    return prefix_of(_region_code(region))


@router.get("/campaign-progress", summary="工作目标完成情况（备案率、达标率、评定率）", tags=["标准符合性与工作目标 compliance"])
def campaign_progress(
    actor: ActorDep,
    runtime: RuntimeDep,
    region: Annotated[str, Query(description="省、市或县级行政区划代码")],
    year: Annotated[int, Query(ge=2019, le=2100, description="年度")],
):
    today = runtime.ledger.today()
    as_of = min(date(year, 12, 31), today).isoformat()
    runtime.sealer.seal_pending()
    return progress(runtime.sealer.log.iterate_types(PROGRESS_EVENTS), _region_code(region), year, as_of)


RECORD_CLASSES = {op.aggregate.__name__: op.aggregate for op in OPERATIONS.values() if op.aggregate is not LedgerAggregate}


def record_view(record: LedgerAggregate) -> RecordResponse:
    state = record.record["state"]
    return RecordResponse(
        id=str(record.id), type=type(record).__name__, aggregate_version=record.version, status=state.get("status"),
        state=state, corrections=[c for d in record.decisions for c in d.get("corrected_by", [])],
        decisions=[{"event_id": d["event_id"], "event_type": d["event_type"], "department": d["actor"]["department"]}
                   for d in record.decisions],
    )


@router.get("/records/{record_id}", response_model=RecordResponse, summary="查询任一记录（机构、隐患、检查、案件、名单、评定……）", tags=["联合检索 lookup"])
def get_record(record_id: Annotated[UUID, Path(title="记录编号")], actor: ActorDep, runtime: RuntimeDep):
    return record_view(runtime.ledger.aggregate(LedgerAggregate, record_id))


def _typed_reader(cls: type):
    def read(record_id: Annotated[UUID, Path(title="记录编号")], actor: ActorDep, runtime: RuntimeDep) -> RecordResponse:
        return record_view(runtime.ledger.aggregate(cls, record_id))

    return read


for _type, _path in RESOURCE_PATHS.items():
    if _type != "Institution":
        router.add_api_route(
            _path.removeprefix("/v1") + "{record_id}", _typed_reader(RECORD_CLASSES[_type]), methods=["GET"],
            response_model=RecordResponse, summary=f"查询{getattr(RECORD_CLASSES[_type], 'NAME_ZH', _type)}", tags=["联合检索 lookup"],
        )
