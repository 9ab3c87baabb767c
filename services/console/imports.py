"""Importing an existing register from the console: upload a CSV or XLSX file, see the dry run's
report as a table (what would be recorded, what is already in the ledger, each refused row with its
reason) and only then record it.

The file is held between the check and the recording under its SHA-256 in the data directory
(``console-uploads/``), named also by the officer, so the recording imports exactly the bytes that
were checked, by the officer who checked them; it is removed once recorded, and uploads older than
a day are swept. The import itself is the ledger's register import (services/ledger/register_import.py)
— the same the API's ``POST /v1/imports/{family}`` runs — with the officer as the actor.
"""

from __future__ import annotations

import hashlib
import re
import time
from pathlib import Path
from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, Form, Request, UploadFile
from fastapi.responses import HTMLResponse

from services.console.pages import _officer, _page, _sessions, _who
from services.console.visits import officer_key
from services.domain.errors import DomainError
from services.ledger.register_import import FAMILIES, import_register

router = APIRouter(prefix="/console", include_in_schema=False)
MAX_BYTES = 50 * 1024 * 1024
KEEP_SECONDS = 24 * 3600
SHOWN_REFUSALS = 1000
SUFFIXES = (".csv", ".xlsx")


def _uploads(request: Request) -> Path:
    path = request.app.state.runtime.settings.data_dir / "console-uploads"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _held(request: Request, actor: Any, digest: str, suffix: str) -> Path:
    owner = hashlib.sha256(officer_key(actor).encode()).hexdigest()[:16]
    return _uploads(request) / f"{owner}-{digest}{suffix}"


def _sweep(folder: Path) -> None:
    cutoff = time.time() - KEEP_SECONDS
    for old in folder.iterdir():
        if old.stat().st_mtime < cutoff:
            old.unlink(missing_ok=True)


def _families() -> list[tuple[str, str, list[str]]]:
    return [(name, family.title_zh, [c.header + ("" if c.required else "（选填）") for c in family.columns])
            for name, family in FAMILIES.items()]


def _form(request: Request, actor, session, *, error: str = "", code: str = "", family: str = "", status: int = 200) -> HTMLResponse:
    return _page(request, "import.html", {"who": _who(actor), "families": _families(), "error": error, "code": code,
                                          "chosen": family}, session, status)


STALE_FORM = "表单已过期或来源不明（CSRF 校验未通过），请重新选择文件。"


def _refused(request: Request, actor, session, refused: DomainError, family: str) -> HTMLResponse:
    """The import refused as a whole (a file without the family's columns, an officer without the
    competence): the form again, with the reason and its code."""
    return _form(request, actor, session, error=refused.message_zh, code=refused.code, family=family,
                 status=422 if refused.kind == "rejected" else 403)


@router.get("/import", response_class=HTMLResponse)
def import_form(request: Request) -> HTMLResponse:
    actor, session = _officer(request)
    return _form(request, actor, session)


async def _run(request: Request, actor, family: str, content: bytes, file_name: str, dry_run: bool):
    ledger = request.app.state.runtime.ledger
    return await anyio.to_thread.run_sync(lambda: import_register(ledger, family, content, file_name, actor, dry_run=dry_run))


def _report_page(request: Request, actor, session, report, *, file_name: str, family: str, digest: str, suffix: str,
                 status: int = 200) -> HTMLResponse:
    summary = report.as_dict()
    return _page(request, "import_report.html", {
        "who": _who(actor), "report": summary, "refusals": summary["refusals"][:SHOWN_REFUSALS],
        "more": max(0, len(summary["refusals"]) - SHOWN_REFUSALS), "family_name": FAMILIES[family].title_zh, "family": family,
        "file_name": file_name, "digest": digest, "suffix": suffix,
    }, session, status)


@router.post("/import", response_class=HTMLResponse)
async def check_import(request: Request, family: Annotated[str, Form(max_length=40)], file: UploadFile,
                       csrf: Annotated[str, Form(max_length=100)] = "") -> HTMLResponse:
    """The dry run: every row checked, nothing recorded; the file kept for the recording."""
    actor, session = _officer(request)
    if not _sessions(request).csrf_ok(session, csrf):
        return _form(request, actor, session, error=STALE_FORM, status=403)
    file_name = Path(file.filename or "").name
    suffix = Path(file_name).suffix.lower()
    if family not in FAMILIES:
        return _form(request, actor, session, error="请选择导入的决定类别", status=422)
    if suffix not in SUFFIXES:
        return _form(request, actor, session, error="请选择 CSV 或 XLSX 格式的文件", family=family, status=422)
    content = await file.read(MAX_BYTES + 1)
    if len(content) > MAX_BYTES:
        return _form(request, actor, session, error="单个文件不能超过 50 MB，请分批导入", family=family, status=422)
    try:
        report = await _run(request, actor, family, content, file_name, True)
    except DomainError as refused:
        return _refused(request, actor, session, refused, family)
    digest = hashlib.sha256(content).hexdigest()
    await anyio.to_thread.run_sync(_sweep, _uploads(request))
    _held(request, actor, digest, suffix).write_bytes(content)
    return _report_page(request, actor, session, report, file_name=file_name, family=family, digest=digest, suffix=suffix)


@router.post("/import/record", response_class=HTMLResponse)
async def record_import(request: Request, family: Annotated[str, Form(max_length=40)], digest: Annotated[str, Form(max_length=64)],
                        suffix: Annotated[str, Form(max_length=5)], file_name: Annotated[str, Form(max_length=200)],
                        csrf: Annotated[str, Form(max_length=100)] = "") -> HTMLResponse:
    """Recording the file that was checked, once: the held copy is let go when recorded (a second
    click finds nothing to record; the same file checked again shows every row already imported)."""
    actor, session = _officer(request)
    if not _sessions(request).csrf_ok(session, csrf):
        return _form(request, actor, session, error=STALE_FORM, status=403)
    if family not in FAMILIES or suffix not in SUFFIXES or not re.fullmatch(r"[0-9a-f]{64}", digest):
        return _form(request, actor, session, error="导入请求无效，请重新选择文件", status=422)
    held = _held(request, actor, digest, suffix)
    if not held.exists():
        return _form(request, actor, session, error="未找到已检查的文件（可能已导入或已超过一天），请重新选择文件", family=family, status=410)
    content = held.read_bytes()
    try:
        report = await _run(request, actor, family, content, file_name, False)
    except DomainError as refused:
        return _refused(request, actor, session, refused, family)
    held.unlink(missing_ok=True)
    return _report_page(request, actor, session, report, file_name=file_name, family=family, digest=digest, suffix=suffix,
                        status=201 if report.count("recorded") else 200)
