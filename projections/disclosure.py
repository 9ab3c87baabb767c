"""Disclosure snapshots: every public list as it stands at one ledger seq, in one JSON file.

The site is rendered from a snapshot and nothing else, so every page can say exactly which ledger
position it shows, and a snapshot cut at the same seq is byte-identical however often it is built.
A snapshot is a query over record states (projections/record_states.py) as they stand at the cut,
each record as of the cut's date (a term that ended by then has ended, whenever the scheduler
recorded it); what is on a list is decided here, never in the templates:
- filed institutions; known unfiled ones with their handling; graded ones by level; those meeting
  GB 38600 and GB/T 35796; the joint-punishment list (published, current entries only); sanction
  decisions within their publication period; published double-random inspection results;
- each institution's public timeline: only decisions the rules make public, each as corrected, a
  retracted one never; a penalty or a listing only while it is being published.
Everything passes the visibility gate as the public sees it (events/visibility.py): catalogue-
public fields only, personal numbers masked.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from events.canonical import canonical_json
from events.catalogue import declared_part
from events.credit import GROUND_NAMES, LISTING_PROPOSED
from events.inspections import DRAW_PUBLICATION
from events.lifecycle import PROFILE
from events.record_kinds import KINDS, NEVER, RETRACTED, Record, falls_due_until
from events.regions import full_name, name_of, parents
from events.registration import DEPARTMENT_NAMES
from events.standing import RELATED_KINDS, effective_penalties, is_published_listing, summary_of
from events.visibility import entry_view, view
from projections.campaign_progress import KINDS as PROGRESS_KINDS
from projections.campaign_progress import progress
from projections.collector_pause import collector_paused
from projections.institution_document import OPERATING, STATUS_NAMES
from projections.record_states import Cut, fold

FORMAT = "eldercare-disclosure-snapshot/5"  # /4: the double-random draws; /5: campaign targets and progress
BEIJING = timezone(timedelta(hours=8))
PERSONS = LISTING_PROPOSED.field_named("persons")
LISTS = ("filed", "unfiled", "graded", "grading_publicity", "gb38600", "gbt35796", "joint_punishment", "sanctions", "inspections")

# Decisions shown on an institution's public page. Hazards, cases under way and internal steps are
# not; penalties and listings only while published (see ``_still_public``).
PUBLIC_TIMELINE = (
    "InstitutionDiscovered", "InstitutionFiled", "InstitutionChangeFiled", "InstitutionSuspensionOrdered",
    "InstitutionServiceResumed", "InstitutionClosurePlanned", "InstitutionClosed", "InstitutionLegalPersonRegistered",
    "InspectionResultPublished", "GradeAwarded", "GradeDowngraded", "GradeRevoked", "GradeLapsed", "ComplianceAssessed",
    "CreditListingPublished", "PenaltyPublished", "PenaltyPublicationWithdrawn",
    "GradingPublicityStarted", "GradingObjectionReceived", "GradingObjectionHandled", "GradingPublicityClosed",
)


def cut_date(recorded_at: str | None) -> str:
    if recorded_at is None:
        return "0000-00-00"
    return datetime.fromisoformat(recorded_at).astimezone(BEIJING).date().isoformat()


def _dated(record: Record, day: str) -> tuple[Record, str]:
    """The record with every time-driven step that had fallen due before ``day`` applied, and the
    last day it stays so."""
    state = record["state"]
    if state["status"] == RETRACTED:
        return record, NEVER
    dated, until = falls_due_until(KINDS[record["kind"]], state, day)
    return dict(record, state=dated), until


class InstitutionParts:
    """Each institution's public particulars, page position and timeline as a snapshot last made
    them, with what they were made from: the id and seq of every record of the institution, and the
    days through which those records' states as of a day stay the same (``falls_due_until``). They
    are a function of exactly that, so the next snapshot remakes only the institutions a decision
    or a time-driven step reached and takes the rest as they were (40,000 institutions: 4.6 s of
    timelines and 3 s of particulars, for one decision). Saved beside the record states
    (projections/saved_states.py); a snapshot made with them is byte-identical to one made without."""

    def __init__(self, made: dict[str, list[Any]] | None = None) -> None:
        self.made: dict[str, list[Any]] = made or {}  # institution id: [records, from day, until day, stamp, particulars, timeline]
        self.remade = 0

    def get(self, iid: str, records: list[Any], day: str) -> list[Any] | None:
        entry = self.made.get(iid)
        if entry is not None and entry[0] == records and entry[1] <= day <= entry[2]:
            return entry
        return None


@collector_paused()
def build_snapshot(states: Iterable[Record], cut: Cut, on: str | None = None, parts: InstitutionParts | None = None) -> dict[str, Any]:
    """Every public list from the record states standing at ``cut``, as on the day the cut was
    recorded (or on the day ``on``, for a ledger kept on another clock, as in tests). With
    ``parts``, an institution whose records and dated states are as when its parts were made is
    taken from them; ``parts`` then holds this snapshot's."""
    today = on or cut_date(cut.recorded_at)
    dated: list[Record] = []
    of_institution: dict[str, list[Record]] = defaultdict(list)
    until: dict[str, str] = {}
    for record in states:
        record, stays = _dated(record, today)
        dated.append(record)
        if iid := record["institution_id"]:
            of_institution[iid].append(record)
            if stays < until.get(iid, NEVER):
                until[iid] = stays
    records = [r for r in dated if r["state"]["status"] != RETRACTED]
    by_kind: dict[str, list[Record]] = defaultdict(list)
    for record in sorted(records, key=lambda r: r["id"]):
        by_kind[record["kind"]].append(record)
    made = parts if parts is not None else InstitutionParts()
    now: dict[str, list[Any]] = {}
    institutions, timelines = {}, {}
    for record in by_kind["Institution"]:
        iid = record["id"]
        own = sorted(of_institution[iid], key=lambda r: r["id"])
        key = [[r["id"], r["seq"]] for r in own]
        entry = made.get(iid, key, today)
        if entry is None:
            entry = [key, today, until.get(iid, NEVER), *_institution_parts(record, own)]
            made.remade += 1
        now[iid] = entry
        institutions[iid] = dict(entry[4])
        timelines[iid] = entry[5]
    made.made = now
    plans = {r["id"]: r["state"]["title"] for r in by_kind["InspectionPlan"]}
    lists = _lists(institutions, by_kind, plans)
    _answers(institutions, lists)
    region_codes = sorted({code for i in institutions.values() for code in parents(i["region_code"])})
    return {
        "format": FORMAT,
        "cut": {"seq": cut.seq, "hash": cut.hash, "recorded_at": cut.recorded_at, "date": today},
        "regions": {code: {"name": name_of(code) or code, "full_name": full_name(code)} for code in region_codes},
        "institutions": dict(sorted(institutions.items())),
        "timelines": dict(sorted(timelines.items())),
        "lists": lists,
        "draws": _draws(by_kind["InspectionPlan"], by_kind["Inspection"]),
        "campaigns": _campaigns(records, today),
    }


def _institution_parts(institution: Record, own: list[Record]) -> tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]]]:
    """An institution's page position, public particulars and public timeline, from its records
    (``own``: each as of the snapshot's day, in id order, the institution's own among them)."""
    # a record its departments alone know of (an inspection before it takes place) stamps no public page
    related = [r for r in own if r["kind"] in RELATED_KINDS and r["state"]["status"] != RETRACTED
               and not KINDS[r["kind"]].confidential(r["state"])]
    stamp = _page_stamp(own)
    return stamp, _public_institution(institution, related, stamp), _public_timeline([institution, *related])


def _campaigns(records: list[Record], today: str) -> list[dict[str, Any]]:
    """Each region's targets for a year against what the ledger shows (projections/campaign_progress.py,
    the same query the officers' API answers), as of the year's end or the cut's day if sooner."""
    relevant = [r for r in records if r["kind"] in PROGRESS_KINDS]
    wanted = sorted({(r["state"]["region_code"], r["state"]["year"]) for r in relevant if r["kind"] == "CampaignTarget"})
    out = []
    for region, year in wanted:
        as_of_day = min(f"{year}-12-31", today)
        if as_of_day < f"{year}-01-01":
            continue  # a target for a year still to come
        out.append(progress(relevant, region, year, as_of_day))
    return out


def _draws(plans: list[Record], inspections: list[Record]) -> list[dict[str, Any]]:
    """Every double-random plan whose seed was committed to: the commitment from the day it was
    planned; the seed, both pools and the sample — all events/draw.py needs to re-run it — only once
    every sampled institution was inspected (before, they would tell who is to be inspected)."""
    conducted = {(i["state"]["plan_id"], i["institution_id"]) for i in inspections
                 if i["state"].get("plan_id") and i["state"]["status"] in ("conducted", "published")}
    out = []
    for plan in plans:
        state = plan["state"]
        if not state.get("seed_commitment"):
            continue
        drawn = next((d for d in plan["decisions"] if d["event_type"] == "InspectionSampleDrawn"), None)
        sample = drawn["payload"]["sample"] if drawn else []
        done = bool(drawn) and all((plan["id"], s["institution_id"]) in conducted for s in sample)
        row = {
            "plan_id": plan["id"], "title": state["title"], "region_code": state["region_code"], "region_name": full_name(state["region_code"]),
            "year": state["year"], "departments": [DEPARTMENT_NAMES[d] for d in state["departments"]], "planned_on": state["planned_on"],
            "seed_commitment": state["seed_commitment"], "drawn_on": state.get("drawn_on"), "replan_reason": state.get("replan_reason"),
            "inspections_done": done,
        }
        if done:
            p = drawn["payload"]
            row["inputs"] = declared_part(DRAW_PUBLICATION, {
                "plan_id": plan["id"], "algorithm": p["algorithm"], "seed_commitment": state["seed_commitment"], "seed": p["seed"],
                "ratios": p["ratios"], "inspectors_per_team": p["inspectors_per_team"], "institution_pool": p["institution_pool"],
                "inspector_pool": p["inspector_pool"], "sample": sample,
            }, public_only=True)  # the declared publication, nothing else
        out.append(row)
    return sorted(out, key=lambda r: (r["region_code"], r["planned_on"], r["plan_id"]))


def _stamp(record: Record) -> dict[str, Any]:
    return {"seq": record["seq"], "hash": record["hash"], "recorded_at": record["recorded_at"]}


def _page_stamp(records: list[Record]) -> dict[str, Any]:
    """The ledger position an institution's page states: the last event that changed anything it
    shows — on the institution or any of its records the public may know of, a retracted one too
    (its retraction took it off the page); a confidential one never (an inspection still to take
    place: its events change nothing shown, and a moving position would tell of them)."""
    return _stamp(max((r for r in records if not KINDS[r["kind"]].confidential(r["state"])), key=lambda r: r["seq"]))


def _public_institution(record: Record, related: list[Record], stamp: dict[str, Any]) -> dict[str, Any]:
    """What anyone may see of an institution: its catalogue-public particulars, and what the lists
    publish about it. Its page, and every list row about it, state the ledger position of the last
    event that changed anything about it (``_page_stamps``)."""
    state = record["state"]
    summary = summary_of(related)
    region = state["region_code"]
    return {
        **view((PROFILE,), state, full=False)["profile"],
        "id": record["id"], "status": state["status"], "status_name": STATUS_NAMES[state["status"]],
        "filed_on": state.get("filed_on"), "discovered_on": state.get("discovered_on"),
        "handling_overdue_since": state.get("handling_overdue_since"),
        "region_code": region, "region_name": full_name(region), "region_path": parents(region),
        "grade_level": summary["grade_level"], "grade": _grade(summary["grade"]), "grading_publicity": summary["grading_publicity"],
        "listings": summary["public_listings"],
        "open_hazards": summary["open_hazards"], "last_inspection_on": summary["last_inspection_on"],
        "compliance": summary["compliance"],
        "page_seq": stamp["seq"],
        "page_stamp": stamp,
    }


def _authority(actor: dict[str, Any]) -> str:
    """The deciding body by name: 江苏省镇江市润州区民政部门."""
    return full_name(actor["region"]) + DEPARTMENT_NAMES[actor["department"]]


def _grade(grade: dict[str, Any] | None) -> dict[str, Any] | None:
    """The grade an institution holds, with the body that awarded it by name."""
    if grade is None:
        return None
    by = grade.get("awarded_by") or {}
    return {"level": grade["level"], "awarded_on": grade["awarded_on"], "valid_until": grade["valid_until"],
            "awarded_by": _authority(by) if by else ""}


WARNINGS = {  # what a family must see before anything else, in the order it matters
    "joint_punishment": "列入养老服务市场失信联合惩戒对象名单",
    "sanctions": "有行政处罚信息正在公示",
    "major_hazard": "存在未整改销账的重大安全隐患",
    "suspended": "正在停业整顿",
    "unfiled": "未办理备案（已掌握未登记备案机构）",
}


def _answers(institutions: dict[str, dict[str, Any]], lists: dict[str, list[dict[str, Any]]]) -> None:
    """What each institution's page answers first: every public list it is on, and the warnings
    among them — from the same lists and records the list pages show, so they appear and go together."""
    on: dict[str, list[str]] = defaultdict(list)
    for name in LISTS:
        for row in lists.get(name, []):
            if name not in on[row["id"]]:
                on[row["id"]].append(name)
    for iid, institution in institutions.items():
        institution["on_lists"] = on.get(iid, [])
        flags = [name for name in ("joint_punishment", "sanctions", "unfiled") if name in institution["on_lists"]]
        if institution["open_hazards"]["major"]:
            flags.append("major_hazard")
        if institution["status"] == "suspended":
            flags.append("suspended")
        institution["warnings"] = [{"kind": f, "text": WARNINGS[f]} for f in WARNINGS if f in flags]


def _sort_key(entry: dict[str, Any]) -> tuple[str, str, str]:
    return (entry["region_code"], entry["name"], entry["id"])


def _row(institution: dict[str, Any], **extra: Any) -> dict[str, Any]:
    keep = ("id", "name", "region_code", "region_name", "address", "credit_code", "status", "status_name", "page_seq")
    return {**{k: institution.get(k) for k in keep}, **extra}


def _decision(record: Record, event_type: str) -> dict[str, Any] | None:
    """The public view of a record's standing decision of ``event_type`` (the latest, as corrected)."""
    found = [d for d in record["decisions"] if d["event_type"] == event_type]
    return entry_view(found[-1], None, record["region_code"]) if found else None


def _still_public_case(case: Record) -> bool:
    state = case["state"]
    publication = state.get("publication")
    return bool(publication) and publication["state"] == "published" and not state.get("review") and bool(effective_penalties(state))


def _lists(institutions: dict[str, dict[str, Any]], by_kind: dict[str, list[Record]], plans: dict[str, str]) -> dict[str, list[dict[str, Any]]]:
    values = sorted(institutions.values(), key=_sort_key)
    lists: dict[str, list[dict[str, Any]]] = {
        "filed": [dict(i) for i in values if i["status"] in OPERATING],
        "unfiled": [dict(i) for i in values if i["status"] == "discovered"],
        "graded": [_row(i, grade_level=i["grade_level"], **{k: (i["grade"] or {}).get(k) for k in ("awarded_on", "valid_until", "awarded_by")})
                   for i in values if i["grade_level"] and i["status"] in OPERATING],
        "gb38600": [_row(i) for i in values if i["compliance"].get("GB 38600") and i["status"] in OPERATING],
        "gbt35796": [_row(i) for i in values if i["compliance"].get("GB/T 35796") and i["status"] in OPERATING],
    }
    joint = []
    for listing in by_kind["CreditListing"]:
        state = listing["state"]
        if listing["institution_id"] in institutions and is_published_listing(state):
            decided = _decision(listing, "CreditListingDecided")
            joint.append(_row(institutions[listing["institution_id"]], listing_id=listing["id"], ground=GROUND_NAMES[state["ground"]],
                              decided_on=state["decided_on"], expires_on=state["expires_on"],
                              early_removal_from=state.get("early_removal_from"),
                              document_no=decided["basis"]["document_no"] if decided else None,
                              legal_basis=decided["basis"]["legal_basis"] if decided else None,
                              authority=_authority(decided["actor"]) if decided else "",
                              persons=view((PERSONS,), state, full=False).get("persons", [])))
    lists["joint_punishment"] = sorted(joint, key=_sort_key)
    sanctions = []
    for case in by_kind["SanctionCase"]:
        if case["institution_id"] in institutions and _still_public_case(case):
            decided = _decision(case, "PenaltyDecided")
            sanctions.append(_row(institutions[case["institution_id"]], case_id=case["id"], **(decided["payload"] if decided else {}),
                                  publish_until=case["state"]["publication"]["publish_until"]))
    lists["sanctions"] = sorted(sanctions, key=_sort_key)
    inspections = []
    for inspection in by_kind["Inspection"]:
        state = inspection["state"]
        if state["kind"] == "routine" and state["status"] == "published" and inspection["institution_id"] in institutions:
            conducted, published = _decision(inspection, "InspectionConducted"), _decision(inspection, "InspectionResultPublished")
            inspections.append(_row(institutions[inspection["institution_id"]], inspection_id=inspection["id"],
                                    plan=plans.get(state["plan_id"], ""), conducted_on=state["conducted_on"],
                                    departments=[DEPARTMENT_NAMES[d] for d in state["departments"]],
                                    published_on=state["published_on"], public_summary=published["payload"]["public_summary"],
                                    findings=conducted["payload"]["findings"]))
    lists["inspections"] = sorted(inspections, key=_sort_key)
    lists["grading_publicity"] = sorted(_under_publicity(institutions, by_kind["GradingApplication"]), key=_sort_key)
    return lists


def _under_publicity(institutions: dict[str, dict[str, Any]], applications: list[Record]) -> list[dict[str, Any]]:
    """Gradings under publicity (公示): the level proposed, the period, who grades and how to object,
    and how many objections were received and handled — so anyone can object in time."""
    rows = []
    for application in applications:
        state = application["state"]
        if state["status"] != "in_publicity" or application["institution_id"] not in institutions:
            continue
        started = _decision(application, "GradingPublicityStarted")
        actor = started["actor"] if started else {}
        objections = state.get("objections") or []
        rows.append(_row(institutions[application["institution_id"]], application_id=application["id"],
                         level=state["approved_level"], started_on=state["publicity_started_on"], ends_on=state["publicity_ends_on"],
                         authority=full_name(actor["region"]) + DEPARTMENT_NAMES[actor["department"]] if actor else "",
                         objection_channel=state.get("objection_channel") or "",
                         objections_received=len(objections), objections_handled=sum(o["handled_on"] is not None for o in objections)))
    return rows


def _still_public(record: Record, event_type: str) -> bool:
    if event_type == "PenaltyPublished":
        return _still_public_case(record)
    if event_type == "CreditListingPublished":
        return is_published_listing(record["state"])
    return True


def _public_timeline(records: list[Record]) -> list[dict[str, Any]]:
    entries = []
    for record in records:
        for decision in record["decisions"]:
            event_type = decision["event_type"]
            if event_type not in PUBLIC_TIMELINE or not _still_public(record, event_type):
                continue
            shown = entry_view(decision, None, record["region_code"])  # the public view, personal numbers masked
            entries.append({
                "seq": shown["seq"], "date": shown["occurred_at"], "event_type": event_type, "title": shown["title_zh"],
                "aggregate_id": record["id"], "department": shown["actor"]["department"], "document_no": shown["basis"]["document_no"],
                "details": shown["payload"], "corrected": bool(decision.get("corrected_by")),
            })
    return sorted(entries, key=lambda e: e["seq"])


def snapshot_file(snapshot: dict[str, Any], directory: Path) -> Path:
    """Where ``write_snapshot`` writes ``snapshot``."""
    return directory / f"disclosure-{snapshot['cut']['seq']:012d}.json"


def write_snapshot(snapshot: dict[str, Any], directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = snapshot_file(snapshot, directory)
    path.write_bytes(canonical_json(snapshot) + b"\n")
    return path


@collector_paused()
def snapshot_at(envelopes: Iterable[dict[str, Any]], up_to_seq: int | None = None, on: str | None = None) -> dict[str, Any]:
    """The snapshot of the record states the envelopes (checked as a chain) fold to by ``up_to_seq``."""
    states, cut = fold(envelopes, up_to_seq)
    return build_snapshot(states.values(), cut, on)
