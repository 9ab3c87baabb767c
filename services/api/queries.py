"""Query endpoints: an institution's current record, and the shared cross-department search."""

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Path, Query

from projections.search.index import SearchQuery
from services.api.dependencies import ActorDep, RuntimeDep
from services.api.models import ERRORS, InstitutionResponse, SearchResponse

router = APIRouter(prefix="/v1", responses=ERRORS)


@router.get("/institutions/{institution_id}", response_model=InstitutionResponse, summary="查询机构当前登记信息", tags=["登记备案 registration"])
def get_institution(institution_id: Annotated[UUID, Path(title="机构编号")], actor: ActorDep, runtime: RuntimeDep):
    institution = runtime.ledger.institution(institution_id)
    return InstitutionResponse(
        id=str(institution.id), status=institution.status, aggregate_version=institution.version,
        profile=institution.profile,
    )


@router.get("/search", response_model=SearchResponse, summary="检索养老机构（各部门共享）", tags=["联合检索 lookup"])
def search(
    actor: ActorDep,
    runtime: RuntimeDep,
    q: Annotated[str | None, Query(description="名称或地址中的任意连续文字；18位统一社会信用代码精确匹配；备案回执编号精确匹配")] = None,
    region: Annotated[str | None, Query(description="省、市或县级行政区划代码")] = None,
    status: Annotated[str | None, Query(description="discovered（未备案）或 filed（已备案）")] = None,
    size: Annotated[int, Query(ge=1, le=200)] = 20,
    cursor: Annotated[str | None, Query(description="上一页返回的 next_cursor")] = None,
):
    result = runtime.search.search(SearchQuery(q=q, region=region, status=status, size=size, cursor=cursor))
    return SearchResponse(
        total=result.total, hits=result.hits, next_cursor=result.next_cursor,
        indexed_seq=runtime.search.position()["seq"],
    )
