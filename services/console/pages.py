"""The console's pages. Each one reads or records through the API's own functions (the search,
the institution, the timeline, the command pipeline) with the signed-in officer as the actor, so
the same rules and the same visibility gate apply; the console adds layout, not logic."""

from __future__ import annotations

import csv
import io
import secrets
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode
from uuid import UUID

import anyio.to_thread
from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from events.lifecycle import INSTITUTION, PROFILE
from events.record_kinds import KINDS
from events.regions import children, full_name, is_known, name_of, parents, prefix_of
from events.registration import DEPARTMENT_NAMES, LEVEL_NAMES
from services.api import lookup, queries
from services.api.auth import AuthError, actor_from_authorization, issue_token
from services.api.commands import ROUTES, execute, request_models
from services.console.forms import FormField, fields_of, request_from, validated
from services.console.oidc import FLOW_COOKIE, FLOW_SECONDS, SignInRefused
from services.console.session import COOKIE, Session, Sessions
from services.domain.actors import ROLE_NAMES, ROLES, Actor
from services.domain.errors import DomainError, RuleViolation
from services.domain.operations import OPERATIONS

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")
router = APIRouter(prefix="/console", include_in_schema=False)
STATUS_NAMES = INSTITUTION.states  # the lifecycle's own names
EXPORT_LIMIT = 10_000
ROUTE_OF = {route.operation: route for route in ROUTES}


class SignedOut(Exception):
    """No live session: the officer is sent to sign in."""


def _sessions(request: Request) -> Sessions:
    return request.app.state.console_sessions


def _officer(request: Request) -> tuple[Actor, Session]:
    session = _sessions(request).load(request.cookies.get(COOKIE))
    if session is None:
        raise SignedOut
    try:
        actor = actor_from_authorization(f"Bearer {session.token}", request.app.state.token_verifier, request.app.state.verified_tokens)
    except AuthError:
        raise SignedOut from None
    request.state.actor = actor  # for the request log
    return actor, session.renewed(_sessions(request).clock())


def _page(request: Request, template: str, context: dict[str, Any], session: Session | None, status: int = 200) -> HTMLResponse:
    response = templates.TemplateResponse(request, template, {"session": session, **context}, status_code=status)
    if session is not None:
        _set_cookie(request, response, session)
    return response


def _set_cookie(request: Request, response: Response, session: Session) -> None:
    response.set_cookie(COOKIE, _sessions(request).dump(session), httponly=True, samesite="strict",
                        secure=request.url.scheme == "https", path="/console", max_age=_sessions(request).idle_seconds)


def search_unavailable(api_handler):
    """The search index unavailable (Elasticsearch down, the embedded index unable to catch up): on
    the console's pages a page in Chinese saying so, elsewhere the API's JSON error."""

    async def handle(request: Request, error: Exception) -> Response:
        if not request.url.path.startswith("/console"):
            return await api_handler(request, error)
        response = _page(request, "message.html", {"title": "检索暂时不可用",
                                                   "text": "检索服务暂时不可用，请稍后重试。记录决定不受影响。"}, None, 503)
        response.headers["Retry-After"] = "5"
        return response

    return handle


def signed_out(request: Request, _: SignedOut) -> Response:
    target = f"/console/sign-in?{urlencode({'next': request.url.path})}"
    if request.headers.get("HX-Request") == "true":  # a request made in place: the whole page goes to sign in
        return Response(status_code=200, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


def _who(actor: Actor) -> str:
    return f"{full_name(actor.region)}{DEPARTMENT_NAMES[actor.department]}（{LEVEL_NAMES[actor.level]}）· {actor.user}"


# --- signing in and out ------------------------------------------------------------------------

@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> Response:
    return RedirectResponse("/console/search", status_code=303)


def _sign_in_context(request: Request, next: str, values: dict[str, str] | None = None) -> dict[str, Any]:
    settings = request.app.state.runtime.settings
    return {"departments": DEPARTMENT_NAMES, "levels": LEVEL_NAMES, "roles": ROLE_NAMES, "next": _next(next), "values": values or {},
            # the development sign-in only where the API takes the development tokens it issues
            "embedded": settings.profile == "embedded" and bool(settings.jwt_secret) and not settings.jwt_jwks_url,
            "provider": request.app.state.console_oidc is not None, "error": ""}


def _next(path: str) -> str:
    """Where to go after signing in: a console page, never another site."""
    return path if path.startswith("/console/") and not path.startswith("/console//") and "\\" not in path else "/console/search"


@router.get("/sign-in", response_class=HTMLResponse)
def sign_in_form(request: Request, next: str = "/console/search") -> HTMLResponse:
    return _page(request, "sign_in.html", _sign_in_context(request, next), None)


@router.post("/sign-in", response_class=HTMLResponse)
def sign_in(request: Request, department: Annotated[str, Form()], level: Annotated[str, Form()], region: Annotated[str, Form()],
            role: Annotated[str, Form()], user: Annotated[str, Form()], next: Annotated[str, Form()] = "/console/search") -> Response:
    """Embedded profile: the development sign-in (what `eldercare token` does). The cluster profile
    signs officers in through the identity provider."""
    settings = request.app.state.runtime.settings
    values = {"department": department, "level": level, "region": region, "role": role, "user": user}
    context = _sign_in_context(request, next, values)
    if not context["embedded"]:
        return _page(request, "sign_in.html", context | {"error": "本部署须通过统一身份认证登录"}, None, 403)
    try:
        token = issue_token(settings.jwt_secret, settings.jwt_issuer, department=department, level=level, region=region.strip(),
                            user=user.strip() or "未署名", role=role if role in ROLES else "viewer")
    except DomainError as error:
        return _page(request, "sign_in.html", context | {"error": error.message_zh}, None, 422)
    response = RedirectResponse(context["next"], status_code=303)
    _set_cookie(request, response, _sessions(request).new(token))
    return response


def _callback_uri(request: Request) -> str:
    base = request.app.state.runtime.settings.console_url or str(request.base_url).rstrip("/")
    return f"{base}/console/sign-in/callback"


@router.get("/sign-in/provider")
def sign_in_with_provider(request: Request, next: str = "/console/search") -> Response:
    """OpenID Connect: off to the identity provider with a fresh state, nonce and PKCE challenge."""
    client = request.app.state.console_oidc
    if client is None:
        return _page(request, "sign_in.html", _sign_in_context(request, next) | {"error": "本部署未接入统一身份认证"}, None, 404)
    try:
        url, cookie = client.start(_callback_uri(request), _next(next))
    except SignInRefused as refused:
        return _page(request, "sign_in.html", _sign_in_context(request, next) | {"error": refused.message_zh, "code": refused.code},
                     None, 503)
    response = RedirectResponse(url, status_code=303)
    response.set_cookie(FLOW_COOKIE, cookie, httponly=True, samesite="lax", secure=request.url.scheme == "https",
                        path="/console/sign-in", max_age=FLOW_SECONDS)
    return response


@router.get("/sign-in/callback", response_class=HTMLResponse)
async def sign_in_callback(request: Request, code: Annotated[str, Query(max_length=2000)] = "",
                           state: Annotated[str, Query(max_length=200)] = "",
                           error: Annotated[str, Query(max_length=200)] = "") -> Response:
    """Back from the identity provider: the state must be this browser's, the ID token the
    provider's with this flow's nonce; then the session holds the access token."""
    client = request.app.state.console_oidc
    flow = client.load(request.cookies.get(FLOW_COOKIE)) if client else None
    try:
        if client is None:
            raise SignInRefused("OIDC_NOT_CONFIGURED", "本部署未接入统一身份认证")
        if error:
            raise SignInRefused("OIDC_DENIED", "统一身份认证服务未授权登录，请重新登录或联系系统管理员")
        token = await anyio.to_thread.run_sync(lambda: client.finish(flow, code=code, state=state, redirect_uri=_callback_uri(request)))
        actor_from_authorization(f"Bearer {token}", request.app.state.token_verifier)
    except (SignInRefused, AuthError) as refused:
        response = _page(request, "sign_in.html", _sign_in_context(request, flow.next if flow else "/console/search")
                         | {"error": refused.message_zh, "code": refused.code}, None, 400 if isinstance(refused, SignInRefused) else 403)
        response.delete_cookie(FLOW_COOKIE, path="/console/sign-in")
        return response
    # A page of our own leads on: the session cookie is SameSite=Strict, and a browser does not send
    # it on a navigation that came by way of the provider's site.
    response = _page(request, "message.html", {"title": "已登录", "text": "登录成功，正在进入工作台。", "back": flow.next,
                                               "back_label": "进入工作台", "refresh": flow.next}, None)
    response.delete_cookie(FLOW_COOKIE, path="/console/sign-in")
    _set_cookie(request, response, _sessions(request).new(token))
    return response


@router.post("/sign-out")
def sign_out(request: Request, csrf: Annotated[str, Form()] = "") -> Response:
    session = _sessions(request).load(request.cookies.get(COOKIE))
    response = RedirectResponse("/console/sign-in", status_code=303)
    if session is None or _sessions(request).csrf_ok(session, csrf):
        response.delete_cookie(COOKIE, path="/console")
    return response


# --- search ------------------------------------------------------------------------------------

def _search(request: Request, actor: Actor, params: dict[str, Any], *, size: int, cursor: str | None, facets: bool):
    runtime = request.app.state.runtime
    return lookup.search(actor=actor, runtime=runtime, q=params.get("q") or None, region=params.get("region") or None,
                         status=params.get("status") or None, grade=params.get("grade"), listed=params.get("listed"),
                         open_major_hazard=params.get("open_major_hazard"), sort="name", facets=facets, size=size, cursor=cursor)


Text = Annotated[str, Query(max_length=100)]
Filter = Annotated[str, Query(max_length=20)]
Cursor = Annotated[str, Query(max_length=500)]


class BadFilter(Exception):
    def __init__(self, message: str) -> None:
        self.message = message


def _params(q: str, region: str, status: str, grade: str, listed: str, open_major_hazard: str) -> dict[str, Any]:
    """The search form's fields as the API's search takes them (an empty field: no filter)."""
    params: dict[str, Any] = {}
    if q.strip():
        params["q"] = q.strip()
    if region.strip():
        if not (region.strip().isdigit() and len(region.strip()) == 6):
            raise BadFilter("地区代码应为 6 位数字")
        params["region"] = region.strip()
    if status:
        if status not in STATUS_NAMES:
            raise BadFilter("状态不在可选范围内")
        params["status"] = status
    if grade:
        if grade not in {"0", "1", "2", "3", "4", "5"}:
            raise BadFilter("等级应为未评定或一至五级")
        params["grade"] = int(grade)
    for name, value in (("listed", listed), ("open_major_hazard", open_major_hazard)):
        if value:
            if value not in ("true", "false"):
                raise BadFilter("筛选条件不在可选范围内")
            params[name] = value == "true"
    return params


def _in_place(request: Request) -> bool:
    """A search made in place on the page (htmx): only the result region is sent back."""
    return request.headers.get("HX-Request") == "true" and request.headers.get("HX-Target") == "results"


@router.get("/search", response_class=HTMLResponse)
def search(request: Request, q: Text = "", region: Filter = "", status: Filter = "", grade: Filter = "", listed: Filter = "",
           open_major_hazard: Filter = "", cursor: Cursor = "") -> HTMLResponse:
    actor, session = _officer(request)
    template = "search_results.html" if _in_place(request) else "search.html"
    try:
        params = _params(q, region, status, grade, listed, open_major_hazard)
    except BadFilter as error:
        if _in_place(request):
            return _page(request, template, {"error": error.message, "params": {}, "actor": actor, "fragment": True}, session, 422)
        return _page(request, "message.html", {"who": _who(actor), "title": "检索条件有误", "text": error.message}, session, 422)
    page = _search(request, actor, params, size=20, cursor=cursor or None, facets=True)
    return _page(request, template, {
        "fragment": template == "search_results.html",
        "tree": _region_tree(actor, params, (page.facets or {}).get("region_code", {})),
        "who": _who(actor), "actor": actor, "params": params, "page": page, "status_names": STATUS_NAMES, "facets": _facets(page.facets),
        "region_name": full_name(params["region"]) if "region" in params else "", "query": urlencode(_query(params)),
        "next_query": urlencode(_query(params) | {"cursor": page.next_cursor}) if page.next_cursor else "",
    }, session)


def jurisdiction_trail(actor: Actor, code: str) -> list[str]:
    """The regions from the top of the officer's jurisdiction down to ``code`` (itself last)."""
    return [c for c in parents(code) if actor.covers(c) and is_known(c)]


def _region_tree(actor: Actor, params: dict[str, Any], counts: dict[str, int]) -> dict[str, Any]:
    """The officer's jurisdiction as a tree one level at a time: the regions above the one searched
    (within the jurisdiction), and the ones directly within it with how many institutions of the
    result each holds (from the search's own region facet)."""
    scope = params.get("region") or actor.region
    other = {k: v for k, v in _query(params).items() if k != "region"}

    def link(code: str) -> str:
        return "/console/search?" + urlencode(other | {"region": code})

    def held(code: str) -> int:
        prefix = prefix_of(code)
        return sum(n for region, n in counts.items() if region.startswith(prefix))

    above = jurisdiction_trail(actor, scope)[:-1]
    return {"above": [(name_of(c), link(c)) for c in above], "here": name_of(scope) or scope,
            "within": [(name_of(c), link(c), held(c)) for c in children(scope) if held(c)]}


FACETS = {  # the API's facet → its label and each value's name
    "status": ("状态", INSTITUTION.state_name),
    "region_code": ("地区", full_name),
    "grade_level": ("等级", lambda v: "未评定" if v == "0" else f"{'一二三四五'[int(v) - 1]}级"),
    "listed": ("失信名单", lambda v: "已列入" if v == "true" else "未列入"),
    "open_major_hazard": ("重大隐患", lambda v: "有未销账的重大隐患" if v == "true" else "无"),
}


def _facets(facets: dict[str, dict[str, int]] | None) -> list[tuple[str, list[tuple[str, int]]]]:
    """The facet counts in words: every facet and value by its Chinese name."""
    return [(FACETS[facet][0], [(FACETS[facet][1](value), n) for value, n in counts.items()])
            for facet, counts in (facets or {}).items() if facet in FACETS]


def _query(params: dict[str, Any]) -> dict[str, str]:
    return {k: ("true" if v is True else "false" if v is False else str(v)) for k, v in params.items()}


EXPORT_COLUMNS = [  # (header, the value from a search hit as the gate shows it)
    ("机构名称", lambda hit: hit["name"]), ("所在地区", lambda hit: hit["region_name"]), ("状态", lambda hit: hit["status_name"]),
    ("等级", lambda hit: hit["summary"].get("grade_level") or ""), ("统一社会信用代码", lambda hit: hit.get("credit_code") or ""),
    ("备案回执编号", lambda hit: hit.get("receipt_no") or ""), ("地址", lambda hit: hit.get("address") or ""),
    ("未整改重大隐患", lambda hit: hit["summary"]["open_hazards"]["major"]),
    ("失信名单", lambda hit: "是" if hit["summary"].get("public_listings") else "否"),
]


def _export_params(*fields: str) -> dict[str, Any]:
    try:
        return _params(*fields)
    except BadFilter as error:
        raise RuleViolation("QUERY_INVALID", error.message, "invalid search filter") from None


def _rows(request: Request, actor: Actor, params: dict[str, Any]) -> list[list[Any]]:
    rows, cursor = [], None
    while len(rows) < EXPORT_LIMIT:
        page = _search(request, actor, params, size=200, cursor=cursor, facets=False)
        rows += [[value(hit) for _, value in EXPORT_COLUMNS] for hit in page.hits]
        cursor = page.next_cursor
        if not cursor:
            break
    return rows[:EXPORT_LIMIT]


@router.get("/search.csv")
def export_csv(request: Request, q: Text = "", region: Filter = "", status: Filter = "", grade: Filter = "", listed: Filter = "",
               open_major_hazard: Filter = "") -> Response:
    actor, session = _officer(request)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([header for header, _ in EXPORT_COLUMNS])
    writer.writerows(_rows(request, actor, _export_params(q, region, status, grade, listed, open_major_hazard)))
    response = Response("\ufeff" + buffer.getvalue(), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": "attachment; filename=\"search.csv\""})
    _set_cookie(request, response, session)
    return response


@router.get("/search.xlsx")
def export_xlsx(request: Request, q: Text = "", region: Filter = "", status: Filter = "", grade: Filter = "", listed: Filter = "",
                open_major_hazard: Filter = "") -> Response:
    from openpyxl import Workbook

    actor, session = _officer(request)
    book = Workbook(write_only=True)
    sheet = book.create_sheet("检索结果")
    sheet.append([header for header, _ in EXPORT_COLUMNS])
    for row in _rows(request, actor, _export_params(q, region, status, grade, listed, open_major_hazard)):
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    response = Response(out.getvalue(), media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        headers={"Content-Disposition": "attachment; filename=\"search.xlsx\""})
    _set_cookie(request, response, session)
    return response


# --- the worklist ------------------------------------------------------------------------------

@router.get("/worklist", response_class=HTMLResponse)
def worklist(request: Request) -> HTMLResponse:
    """The officer's lists for their jurisdiction; the scheduler's records since their last visit
    up to the position this visit's read sees (remembered for the next: each record is shown once)."""
    actor, session = _officer(request)
    runtime, visits = request.app.state.runtime, request.app.state.console_visits
    reached = runtime.read_position()  # what is folded in after this is the next visit's, never lost
    last = visits.last(actor)
    lists = queries.officer_worklist(actor=actor, runtime=runtime, region=actor.region, since=last[0] if last else None, until=reached)
    visits.record(actor, reached)
    return _page(request, "worklist.html", {"who": _who(actor), "lists": lists, "region_name": full_name(actor.region),
                                            "departments": DEPARTMENT_NAMES, "last_visit": last}, session)


# --- the dossier -------------------------------------------------------------------------------

def _institution_operations() -> list[tuple[str, str]]:
    """The decisions that can be recorded from an institution's dossier: those on the institution
    itself and those that create a record about it."""
    out = []
    for route in ROUTES:
        op = OPERATIONS[route.operation]
        on_institution = "{target_id}" in route.path and op.aggregate.__name__ == "Institution"
        about_it = op.creates and op.aggregate.__name__ != "Institution" and "institution_id" in {f.name for f in op.event_type.fields}
        if on_institution or about_it:
            out.append((route.operation, route.summary))
    return out


def _record_operations(kind: str) -> list[tuple[str, str]]:
    """The decisions that can be taken on a record of this kind (an order on a hazard, …)."""
    return [(route.operation, route.summary) for route in ROUTES
            if "{target_id}" in route.path and OPERATIONS[route.operation].aggregate.__name__ == kind and kind != "Institution"]


@router.get("/records/{record_id}", response_class=HTMLResponse)
def record_page(request: Request, record_id: UUID) -> HTMLResponse:
    actor, session = _officer(request)
    shown = queries.get_record(record_id=record_id, actor=actor, runtime=request.app.state.runtime)
    labels = {f.name: f.title_zh for f in KINDS[shown["kind"]].fields}
    facts = [(labels[key], _shown(shown["state"], key)) for key in shown["state"]
             if key in labels and shown["state"][key] not in (None, "", [], {})]
    return _page(request, "record_page.html", {"who": _who(actor), "record": shown, "facts": facts,
                                               "operations": _record_operations(shown["kind"])}, session)


@router.get("/institutions/{institution_id}", response_class=HTMLResponse)
def dossier(request: Request, institution_id: UUID) -> HTMLResponse:
    actor, session = _officer(request)
    runtime = request.app.state.runtime
    institution = queries.get_institution(institution_id=institution_id, actor=actor, runtime=runtime)
    timeline = lookup.timeline(institution_id=institution_id, actor=actor, runtime=runtime, size=200, cursor=None)
    profile = institution.profile
    facts = [(PROFILE_LABELS.get(key, key), _shown(profile, key)) for key in profile
             if not key.endswith("_name") and key in PROFILE_LABELS and profile[key] not in (None, "", [], {})]
    return _page(request, "dossier.html", {
        "who": _who(actor), "institution": institution, "profile": profile, "facts": facts, "timeline": timeline.hits,
        "region_name": full_name(profile.get("region_code", "")) if profile.get("region_code") else "",
        "operations": _institution_operations(), "departments": DEPARTMENT_NAMES,
    }, session)


PROFILE_LABELS = {f.name: f.title_zh for f in PROFILE.fields}


def _shown(profile: dict[str, Any], key: str) -> str:
    """A profile value as an officer reads it: an enum by its Chinese name, a list joined, a
    nested value (registration authority, materials) by its parts."""
    value = profile.get(f"{key}_name") or profile[key]
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    if isinstance(value, dict):
        return "；".join(f"{k}：{v}" for k, v in value.items())
    if isinstance(value, bool):
        return "是" if value else "否"
    return str(value)


# --- recording a decision ------------------------------------------------------------------------
# From an institution's dossier (a decision on the institution, or one creating a record about it)
# or from a record's page (a decision on that record); one handler for both.

def _form_context(operation: str, institution_id: UUID | None, fields: list[FormField], problems: dict[str, str], top: str = "",
                  back: str = "") -> dict[str, Any]:
    for spec in fields:
        spec.error = problems.get(spec.name, "")
    return {"operation": operation, "route": ROUTE_OF[operation], "institution_id": institution_id, "fields": fields,
            "top_error": top or problems.get("_", ""), "key": secrets.token_urlsafe(16), "back": back}


def _no_such(request: Request, actor: Actor, session: Session, text: str) -> HTMLResponse:
    return _page(request, "message.html", {"who": _who(actor), "title": "无此决定", "text": text}, session, 404)


def _blank_form(request: Request, actor: Actor, session: Session, operation: str, institution_id: UUID | None, back: str) -> HTMLResponse:
    fields = fields_of(request_models()[operation], OPERATIONS[operation].event_type)
    return _page(request, "record.html", {"who": _who(actor), **_form_context(operation, institution_id, fields, {}, back=back)}, session)


NOT_FROM_DOSSIER, NOT_ON_RECORD = "该决定不能从机构档案中记录。", "该记录上不能作出这项决定。"


@router.get("/institutions/{institution_id}/record/{operation}", response_class=HTMLResponse)
def record_form(request: Request, institution_id: UUID, operation: str) -> HTMLResponse:
    actor, session = _officer(request)
    if operation not in dict(_institution_operations()):
        return _no_such(request, actor, session, NOT_FROM_DOSSIER)
    return _blank_form(request, actor, session, operation, institution_id, f"/console/institutions/{institution_id}")


@router.get("/records/{record_id}/record/{operation}", response_class=HTMLResponse)
def record_on_record_form(request: Request, record_id: UUID, operation: str) -> HTMLResponse:
    actor, session = _officer(request)
    shown = queries.get_record(record_id=record_id, actor=actor, runtime=request.app.state.runtime)
    if operation not in dict(_record_operations(shown["kind"])):
        return _no_such(request, actor, session, NOT_ON_RECORD)
    return _blank_form(request, actor, session, operation, None, f"/console/records/{record_id}")


@router.post("/records/{record_id}/record/{operation}", response_class=HTMLResponse)
async def record_on_record(request: Request, record_id: UUID, operation: str) -> Response:
    actor, session = _officer(request)
    shown = queries.get_record(record_id=record_id, actor=actor, runtime=request.app.state.runtime)
    if operation not in dict(_record_operations(shown["kind"])):
        return _no_such(request, actor, session, NOT_ON_RECORD)
    return await _submit(request, actor, session, operation, target=record_id, institution_id=None,
                         back=f"/console/records/{record_id}")


@router.post("/institutions/{institution_id}/record/{operation}", response_class=HTMLResponse)
async def record(request: Request, institution_id: UUID, operation: str) -> Response:
    actor, session = _officer(request)
    if operation not in dict(_institution_operations()):
        return _no_such(request, actor, session, NOT_FROM_DOSSIER)
    target = institution_id if "{target_id}" in ROUTE_OF[operation].path else None
    return await _submit(request, actor, session, operation, target=target, institution_id=institution_id,
                         back=f"/console/institutions/{institution_id}")


async def _submit(request: Request, actor: Actor, session: Session, operation: str, *, target: UUID | None,
                  institution_id: UUID | None, back: str) -> Response:
    """Check the CSRF token, read the form into the API's request, validate it with the API's
    model and record it through the API's pipeline; show the form again with the refusals beside
    the fields they concern."""
    form = await request.form()
    submitted = {name: [str(v) for v in form.getlist(name)] for name in form.keys()}
    if not _sessions(request).csrf_ok(session, (submitted.get("csrf") or [""])[0]):
        return _page(request, "message.html", {"who": _who(actor), "title": "请求已失效",
                                               "text": "表单已过期或来源不明（CSRF 校验未通过），请返回重新填写。"}, session, 403)
    key = (submitted.get("idempotency_key") or [""])[0][:128] or None
    checking = (submitted.get("dry_run") or [""])[0] == "true"  # 检查（不记录）
    model = request_models()[operation]
    fields = fields_of(model, OPERATIONS[operation].event_type)
    body, problems = request_from(submitted, fields)
    for spec in fields:
        spec.value = (submitted.get(spec.name) or [spec.value])[0] if spec.kind != "checkboxes" else submitted.get(spec.name, [])
    if institution_id is not None and "institution_id" in {f.name for f in fields}:
        body["institution_id"] = str(institution_id)
    parsed, invalid = validated(model, body) if not problems else (None, {})
    problems |= invalid

    def again(top: str, status: int, code: str = "", passed: str = "") -> HTMLResponse:
        context = _form_context(operation, institution_id, fields, problems, top, back=back)
        context["key"] = key or context["key"]
        context["refusal_code"] = code
        context["passed"] = passed
        return _page(request, "record.html", {"who": _who(actor), **context}, session, status)

    if parsed is None:
        return again("请更正标出的各项后再提交", 422)
    try:
        result = await anyio.to_thread.run_sync(lambda: execute(request.app.state.runtime, operation, parsed, actor, key, target,
                                                                dry_run=checking))
    except DomainError as error:
        field = error.details.get("field")
        if isinstance(field, str) and field in {f.name for f in fields}:
            problems[field] = error.message_zh
        return again(error.message_zh, 422 if error.kind == "rejected" else 403, error.code)
    if checking and not result.replayed:
        return again("", 200, passed="检查通过：符合规则和职权，可以记录。尚未记录，确认无误后请点击“记录”。")
    seq = request.app.state.runtime.sealer.log.seq_of(str(result.aggregate_id), result.version)
    return _page(request, "message.html", {
        "who": _who(actor), "title": "已记录" if not result.replayed else "此前已记录（未重复记录）",
        "text": f"{ROUTE_OF[operation].summary}已记入台账" + (f"第 {seq} 号事件" if seq else "（待封存）") + "。", "back": back,
    }, session, 201 if not result.replayed else 200)

