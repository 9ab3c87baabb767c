"""Campaign targets against what the ledger shows, per region and year: the share of known
institutions that are filed, compliant with GB 38600 and with GB/T 35796, and graded — as of the
end of the year (or today, for the current year).

A query over record states, each as of that day: the region's institutions (closed or retracted
ones no longer count), their latest assessment per standard, the grade each holds, and the
targets set for the region and year.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from events.catalogue import Field
from events.grading import METRIC_NAMES
from events.lifecycle import DISCOVERED, INSTITUTION, OPERATING
from events.record_kinds import Record, state_on
from events.regions import full_name, prefix_of
from events.standing import current_grade, latest_compliance

KINDS = ("Institution", "ComplianceAssessment", "GradingApplication", "CampaignTarget")


def _percent(part: int, whole: int) -> str | None:
    if not whole:
        return None
    return str((Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


METRICS = tuple(METRIC_NAMES)
SHORTFALL_FIELDS = (
    Field("institution_id", "string", "机构编号", public=True),
    Field("name", "string", "机构名称", public=True),
    Field("region_code", "string", "行政区划", public=True),
    Field("region_name", "string", "所在地区", public=True),
    Field("status", "string", "状态", public=True),
    Field("status_name", "string", "状态名称", public=True),
)


def _standing(records: Iterable[Record], region_code: str, year: int, as_of: str) -> tuple[dict[str, dict[str, Any]], dict[str, dict]]:
    """Each known institution of the region as of the day — its region, name, whether filed, and
    which metrics it meets — and the targets set for the region and year."""
    region_prefix = prefix_of(region_code)
    institutions: dict[str, dict[str, Any]] = {}
    related: dict[str, list[Record]] = defaultdict(list)
    targets: dict[str, dict[str, Any]] = {}
    for record in records:
        state = state_on(record, as_of)
        if state is None or not (state.get("region_code") or "").startswith(region_prefix):
            continue
        seen = dict(record, state=state)
        if record["kind"] == "Institution":
            if state["status"] in (DISCOVERED, *OPERATING):
                institutions[record["id"]] = {"region_code": state["region_code"], "name": (state.get("profile") or {}).get("name", ""),
                                              "status": state["status"]}
        elif record["kind"] == "CampaignTarget":
            if state["year"] == year and state["region_code"] == region_code:
                targets[state["metric"]] = {"target_percent": state["target_percent"], "source": state["source"]}
        else:
            related[record["institution_id"]].append(seen)

    def compliant(institution_id: str, standard: str) -> bool:
        latest = latest_compliance([r for r in related[institution_id] if r["kind"] == "ComplianceAssessment"], standard)
        return bool(latest and latest["state"]["compliant"])

    for institution_id, facts in institutions.items():
        filed = facts["status"] in OPERATING
        facts["meets"] = {
            "filed": filed,
            "gb38600_compliant": filed and compliant(institution_id, "GB 38600"),
            "gbt35796_compliant": filed and compliant(institution_id, "GB/T 35796"),
            "graded": filed and current_grade([r for r in related[institution_id] if r["kind"] == "GradingApplication"], as_of) is not None,
        }
    return institutions, targets


def _measured(institutions: Iterable[dict[str, Any]], targets: dict[str, dict]) -> list[dict[str, Any]]:
    """The four metrics over these institutions: filed among the known, the others among the filed."""
    institutions = list(institutions)
    filed = [i for i in institutions if i["meets"]["filed"]]
    metrics = []
    for metric in METRICS:
        among = institutions if metric == "filed" else filed
        part, whole = sum(i["meets"][metric] for i in among), len(among)
        actual = _percent(part, whole)
        target = targets.get(metric)
        met = None if target is None or actual is None else Decimal(actual) >= Decimal(target["target_percent"])
        metrics.append({"metric": metric, "name_zh": METRIC_NAMES[metric], "count": part, "of": whole, "percent": actual,
                        "target": target, "met": met})
    return metrics


def progress(records: Iterable[Record], region_code: str, year: int, as_of: str, *, sub_regions: Iterable[str] = ()) -> dict[str, Any]:
    """``records``: the region's records of ``KINDS``. With ``sub_regions``, the same metrics for
    each of them (measured against the region's targets)."""
    institutions, targets = _standing(records, region_code, year, as_of)
    report = {"region": region_code, "year": year, "as_of": as_of, "metrics": _measured(institutions.values(), targets)}
    if sub_regions:
        report["sub_regions"] = [
            {"region": code, "metrics": _measured((i for i in institutions.values() if i["region_code"].startswith(prefix_of(code))), targets)}
            for code in sub_regions]
    return report


def shortfall(records: Iterable[Record], region_code: str, year: int, as_of: str, metric: str) -> list[dict[str, Any]]:
    """The institutions a metric still counts as short: known but unfiled (filing), or filed and
    not meeting it (the others); by region, then name."""
    institutions, _ = _standing(records, region_code, year, as_of)
    rows = [{"institution_id": institution_id, "name": facts["name"], "region_code": facts["region_code"],
             "region_name": full_name(facts["region_code"]), "status": facts["status"], "status_name": INSTITUTION.state_name(facts["status"])}
            for institution_id, facts in institutions.items()
            if not facts["meets"][metric] and (metric == "filed" or facts["meets"]["filed"])]
    return sorted(rows, key=lambda r: (r["region_code"], r["name"], r["institution_id"]))
