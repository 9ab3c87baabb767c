"""Import of an existing register over HTTP (the officers' console uploads here): the file is the
request body (CSV or XLSX), the family is in the path; a dry run checks every row and records
nothing. The answer is the report: how many rows were recorded, already there, or refused, and each
refusal's row, code and Chinese message."""

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from starlette.concurrency import run_in_threadpool

from services.api.dependencies import ActorDep, RuntimeDep
from services.api.models import ERRORS
from services.ledger.register_import import FAMILIES, import_register

router = APIRouter(prefix="/v1", responses=ERRORS, tags=["数据导入 import"])


@router.post(
    "/imports/{family}", summary="导入现有登记台账（CSV 或 XLSX，可试导入）",
    description="请求体为文件本身（Content-Type: text/csv 或 application/vnd.openxmlformats-officedocument.spreadsheetml.sheet）。"
                f"可导入：{'、'.join(f'{name}（{f.title_zh}）' for name, f in FAMILIES.items())}。"
                "每行按其原决定日期、文书编号和依据记为相应决定，经办人为导入人员，并记录来源文件的SHA-256和行号；"
                "同一文件重复导入不重复记录。dry_run=true 时只检查、不记录。",
    openapi_extra={"requestBody": {"required": True, "content": {
        "text/csv": {"schema": {"type": "string"}},
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {"schema": {"type": "string", "format": "binary"}},
    }}},
)
async def import_file(
    request: Request,
    actor: ActorDep,
    runtime: RuntimeDep,
    family: Annotated[str, Path(max_length=40, description="决定类别")],
    dry_run: Annotated[bool, Query(description="只检查、不记录")] = False,
    file_name: Annotated[str, Query(max_length=200, description="来源文件名")] = "upload.csv",
):
    content = await request.body()
    # the import runs in a worker thread: the event loop keeps answering other requests meanwhile
    report = await run_in_threadpool(import_register, runtime.ledger, family, content, file_name, actor, dry_run=dry_run)
    return report.as_dict()
