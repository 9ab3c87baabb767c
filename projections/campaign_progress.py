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

from events.grading import METRIC_NAMES
from events.lifecycle import DISCOVERED, OPERATING
from events.record_kinds import Record, state_on
from events.regions import prefix_of
from events.standing import current_grade, latest_compliance

KINDS = ("Institution", "ComplianceAssessment", "GradingApplication", "CampaignTarget")


def _percent(part: int, whole: int) -> str | None:
    if not whole:
        return None
    return str((Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def progress(records: Iterable[Record], region_code: str, year: int, as_of: str) -> dict[str, Any]:
    """``records``: the region's records of ``KINDS``."""
    region_prefix = prefix_of(region_code)
    status: dict[str, str] = {}
    related: dict[str, list[Record]] = defaultdict(list)
    targets: dict[str, dict[str, Any]] = {}
    for record in records:
        state = state_on(record, as_of)
        if state is None or not (state.get("region_code") or "").startswith(region_prefix):
            continue
        seen = dict(record, state=state)
        if record["kind"] == "Institution":
            status[record["id"]] = state["status"]
        elif record["kind"] == "CampaignTarget":
            if state["year"] == year and state["region_code"] == region_code:
                targets[state["metric"]] = {"target_percent": state["target_percent"], "source": state["source"]}
        else:
            related[record["institution_id"]].append(seen)
    known = [i for i, s in status.items() if s in (DISCOVERED, *OPERATING)]
    filed = [i for i in known if status[i] in OPERATING]

    def compliant(institution_id: str, standard: str) -> bool:
        latest = latest_compliance([r for r in related[institution_id] if r["kind"] == "ComplianceAssessment"], standard)
        return bool(latest and latest["state"]["compliant"])

    counts = {
        "filed": (len(filed), len(known)),
        "gb38600_compliant": (sum(compliant(i, "GB 38600") for i in filed), len(filed)),
        "gbt35796_compliant": (sum(compliant(i, "GB/T 35796") for i in filed), len(filed)),
        "graded": (sum(current_grade([r for r in related[i] if r["kind"] == "GradingApplication"], as_of) is not None
                       for i in filed), len(filed)),
    }
    metrics = []
    for metric, (part, whole) in counts.items():
        actual = _percent(part, whole)
        target = targets.get(metric)
        met = None if target is None or actual is None else Decimal(actual) >= Decimal(target["target_percent"])
        metrics.append({"metric": metric, "name_zh": METRIC_NAMES[metric], "count": part, "of": whole, "percent": actual,
                        "target": target, "met": met})
    return {"region": region_code, "year": year, "as_of": as_of, "metrics": metrics}
