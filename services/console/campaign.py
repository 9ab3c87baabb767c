"""The campaign page: the seeds' targets (share of institutions filed, meeting GB 38600 and
GB/T 35796, graded, by year) against the ledger, for the officer's region and each region within
it, as charts with the same numbers in tables; and, for any metric, the institutions still short.
Read through the API's campaign queries; the charts are drawn like the public site's."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from events.grading import METRIC_NAMES
from events.regions import full_name, is_known, name_of
from public_site.charts import Bar, bar_chart
from services.api import queries
from services.console.pages import _officer, _page, _who, jurisdiction_trail

router = APIRouter(prefix="/console", include_in_schema=False)
FIRST_YEAR = 2019
METRICS = tuple(METRIC_NAMES)
SHORTFALL_PAGE = 100


class OutOfScope(Exception):
    pass


def _scope(actor: Any, asked: str, metric: str) -> str:
    """The region asked for — a known one within the officer's jurisdiction, their own when none is
    asked — once the metric is known to be one of the four."""
    code = asked.strip() or actor.region
    if not (code.isdigit() and len(code) == 6 and is_known(code) and actor.covers(code)):
        raise OutOfScope("地区代码应为本人所辖范围内的 6 位行政区划代码")
    if metric not in METRICS:
        raise OutOfScope("指标不在可选范围内")
    return code


def _year(runtime: Any, asked: int | None) -> int:
    return asked or runtime.ledger.today().year


def _refused(request: Request, actor, session, text: str):
    return _page(request, "message.html", {"who": _who(actor), "title": "无法显示", "text": text}, session, 422)


def _bar(label: str, metric: dict[str, Any]) -> Bar:
    """One metric of the campaign report as a chart bar, its target marked if one is set."""
    return Bar(label, metric["count"], metric["of"], metric["target"]["target_percent"] if metric["target"] else None)


Year = Annotated[int | None, Query(ge=FIRST_YEAR, le=2100)]
Region = Annotated[str, Query(max_length=6)]


@router.get("/campaign", response_class=HTMLResponse)
def campaign(request: Request, year: Year = None, region: Region = "", metric: Annotated[str, Query(max_length=30)] = "gb38600_compliant"):
    actor, session = _officer(request)
    runtime = request.app.state.runtime
    try:
        code = _scope(actor, region, metric)
    except OutOfScope as refused:
        return _refused(request, actor, session, str(refused))
    year = _year(runtime, year)
    report = queries.campaign_progress(actor=actor, runtime=runtime, region=code, year=year, sub_regions=True)
    here = bar_chart("progress", f"{full_name(code)}{year}年工作目标完成情况", [_bar(m["name_zh"], m) for m in report["metrics"]])
    subs = [(s["region"], name_of(s["region"]) or s["region"], {m["metric"]: m for m in s["metrics"]}) for s in report["sub_regions"]]
    subs = [s for s in subs if s[2]["filed"]["of"]]  # regions with institutions the ledger knows
    by_region = bar_chart("sub-regions", f"各地区{METRIC_NAMES[metric]}", [_bar(name, m[metric]) for _, name, m in subs]) if subs else ""
    trail = jurisdiction_trail(actor, code)
    today = runtime.ledger.today()
    return _page(request, "campaign.html", {
        "who": _who(actor), "report": report, "region": code, "region_name": full_name(code), "year": year, "metric": metric,
        "metric_names": METRIC_NAMES, "chart": here, "sub_chart": by_region, "subs": subs,
        "trail": [(c, name_of(c)) for c in trail], "years": list(range(today.year + 1, FIRST_YEAR - 1, -1)),
    }, session)


@router.get("/campaign/shortfall", response_class=HTMLResponse)
def campaign_shortfall(request: Request, metric: Annotated[str, Query(max_length=30)], year: Year = None, region: Region = "",
                       page: Annotated[int, Query(ge=1, le=10_000)] = 1):
    actor, session = _officer(request)
    runtime = request.app.state.runtime
    try:
        code = _scope(actor, region, metric)
    except OutOfScope as refused:
        return _refused(request, actor, session, str(refused))
    year = _year(runtime, year)
    found = queries.campaign_shortfall(actor=actor, runtime=runtime, region=code, year=year, metric=metric)["institutions"]
    start = (page - 1) * SHORTFALL_PAGE
    return _page(request, "campaign_shortfall.html", {
        "who": _who(actor), "rows": found[start:start + SHORTFALL_PAGE], "total": len(found), "page": page,
        "pages": max(1, -(-len(found) // SHORTFALL_PAGE)), "region": code, "region_name": full_name(code), "year": year,
        "metric": metric, "metric_name": METRIC_NAMES[metric],
    }, session)
