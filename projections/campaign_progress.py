"""Campaign targets against what the ledger shows, per region and year: the share of known
institutions that are filed, compliant with GB 38600 and with GB/T 35796, and graded — as of the
end of the year (or today, for the current year). A pure fold of the events."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from events.regions import prefix_of

EVENTS = (
    "InstitutionDiscovered", "InstitutionFiled", "InstitutionClosed", "DecisionRetracted",
    "ComplianceAssessed", "GradeAwarded", "GradeRevoked", "GradeLapsed", "CampaignTargetSet",
)
METRIC_NAMES = {"filed": "备案率", "gb38600_compliant": "GB 38600 达标率", "gbt35796_compliant": "GB/T 35796 达标率", "graded": "等级评定率"}


def _percent(part: int, whole: int) -> str | None:
    if not whole:
        return None
    return str((Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def progress(envelopes: Iterable[dict[str, Any]], region_code: str, year: int, as_of: str) -> dict[str, Any]:
    region_prefix = prefix_of(region_code)
    status: dict[str, str] = {}
    region: dict[str, str] = {}
    compliance: dict[tuple[str, str], tuple[str, bool]] = {}
    graded: dict[str, str] = {}  # institution -> application id holding a grade
    targets: dict[str, dict[str, Any]] = {}
    for e in envelopes:
        if e["occurred_at"] > as_of:
            continue
        p, iid, kind = e["payload"], e["institution_id"], e["event_type"]
        if kind in ("InstitutionDiscovered", "InstitutionFiled"):
            status[iid] = "discovered" if kind == "InstitutionDiscovered" else "filed"
            region[iid] = p["region_code"]
        elif kind == "InstitutionClosed" or (kind == "DecisionRetracted" and e["aggregate_type"] == "Institution"
                                             and p["original_event_type"] == "InstitutionDiscovered"):
            status[iid] = "gone"
        elif kind == "ComplianceAssessed":
            key = (iid, p["standard"])
            if key not in compliance or compliance[key][0] <= p["assessed_on"]:
                compliance[key] = (p["assessed_on"], p["compliant"])
        elif kind == "GradeAwarded":
            graded[iid] = e["aggregate_id"]
        elif kind in ("GradeRevoked", "GradeLapsed") and graded.get(iid) == e["aggregate_id"]:
            del graded[iid]
        elif kind == "CampaignTargetSet" and p["year"] == year and p["region_code"] == region_code:
            targets[p["metric"]] = {"target_percent": p["target_percent"], "source": p["source"]}
    known = [i for i, s in status.items() if s != "gone" and region[i].startswith(region_prefix)]
    filed = [i for i in known if status[i] == "filed"]
    counts = {
        "filed": (len(filed), len(known)),
        "gb38600_compliant": (sum(compliance.get((i, "GB 38600"), ("", False))[1] for i in filed), len(filed)),
        "gbt35796_compliant": (sum(compliance.get((i, "GB/T 35796"), ("", False))[1] for i in filed), len(filed)),
        "graded": (sum(i in graded for i in filed), len(filed)),
    }
    metrics = []
    for metric, (part, whole) in counts.items():
        actual = _percent(part, whole)
        target = targets.get(metric)
        met = None if target is None or actual is None else Decimal(actual) >= Decimal(target["target_percent"])
        metrics.append({"metric": metric, "name_zh": METRIC_NAMES[metric], "count": part, "of": whole, "percent": actual,
                        "target": target, "met": met})
    return {"region": region_code, "year": year, "as_of": as_of, "metrics": metrics}

