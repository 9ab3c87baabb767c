"""Disclosure snapshots: every public list as it stands at one ledger seq, in one JSON file.

The site is rendered from a snapshot and nothing else, so every page can say exactly which ledger
position it shows, and a snapshot cut at the same seq is byte-identical however often it is built.
What is on a list is decided here, never in the templates:
- filed institutions; known unfiled ones with their handling; graded ones by level; those meeting
  GB 38600 and GB/T 35796; the joint-punishment list (current entries only); sanction decisions
  within their publication period; published double-random inspection results;
- each institution's public timeline: only decisions the rules make public, and a penalty or a
  listing only while it is being published.
Only catalogue-public fields enter a snapshot, and free text is scrubbed of identity-card and mobile
numbers that someone may have typed into a public field.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from events import CATALOGUE
from events.canonical import canonical_json
from events.catalogue import public_part
from events.credit import GROUND_NAMES
from events.envelope import GENESIS_HASH, ChainBroken
from events.regions import full_name, name_of, parents
from projections.institution_document import OPERATING, applies_to, fold, public_view

FORMAT = "eldercare-disclosure-snapshot/2"
BEIJING = timezone(timedelta(hours=8))
LISTS = ("filed", "unfiled", "graded", "gb38600", "gbt35796", "joint_punishment", "sanctions", "inspections")
ID_NUMBER = re.compile(r"(?<!\d)(\d{6})\d{8}(\d{3}[\dXx])(?!\d)")
MOBILE = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")

# Decisions shown on an institution's public page. Hazards, cases under way and internal steps are
# not; penalties and listings only while published (see ``_still_public``).
PUBLIC_TIMELINE = (
    "InstitutionDiscovered", "InstitutionFiled", "InstitutionChangeFiled", "InstitutionSuspensionOrdered",
    "InstitutionServiceResumed", "InstitutionClosurePlanned", "InstitutionClosed", "InstitutionLegalPersonRegistered",
    "InspectionResultPublished", "GradeAwarded", "GradeDowngraded", "GradeRevoked", "GradeLapsed", "ComplianceAssessed",
    "CreditListingPublished", "PenaltyPublished", "PenaltyPublicationWithdrawn",
)


# Keys whose values are identifiers or ledger positions, never free text: a digit run inside a UUID,
# a credit code or a hash is not a telephone number and must survive intact.
IDENTIFIER_KEYS = frozenset({"id", "seq", "hash", "credit_code", "page_stamp", "recorded_at"})


def _is_identifier(key: str) -> bool:
    return key in IDENTIFIER_KEYS or key.endswith(("_id", "_ids", "_no", "_seq", "_hash"))


def scrub(value: Any) -> Any:
    """Mask identity-card and mobile numbers in public text (defence in depth: such numbers belong
    in restricted fields, but a free-text field may carry one). Identifiers are left as they are."""
    if isinstance(value, str):
        return MOBILE.sub(r"\1****\2", ID_NUMBER.sub(r"\1********\2", value))
    if isinstance(value, list):
        return [scrub(v) for v in value]
    if isinstance(value, dict):
        return {k: v if _is_identifier(k) else scrub(v) for k, v in value.items()}
    return value


class _Records:
    """The few facts the lists need from hazards' siblings: listings, cases, inspections."""

    def __init__(self) -> None:
        self.listings: dict[str, dict[str, Any]] = {}
        self.cases: dict[str, dict[str, Any]] = {}
        self.inspections: dict[str, dict[str, Any]] = {}
        self.plans: dict[str, str] = {}
        self.timeline: dict[str, list[dict[str, Any]]] = {}

    def take(self, e: dict[str, Any]) -> None:
        kind, p, agg = e["event_type"], e["payload"], e["aggregate_id"]
        if kind == "InspectionPlanned":
            self.plans[agg] = p["title"]
        elif kind == "CreditListingProposed":
            self.listings[agg] = {"institution_id": p["institution_id"], "list": p["list"], "ground": p["ground"],
                                  "persons": public_part(CATALOGUE[kind].fields, p).get("persons", []), "state": "proposed"}
        elif kind == "CreditListingDecided" and agg in self.listings:
            self.listings[agg].update(state="listed" if p["outcome"] == "listed" else "not_listed", decided_on=p["decided_on"],
                                      expires_on=p.get("expires_on"), document_no=e["basis"]["document_no"])
        elif kind == "CreditListingPublished" and agg in self.listings:
            self.listings[agg].update(state="published", published_on=p["published_on"])
        elif kind in ("CreditListingRemovedEarly", "CreditListingExpired") and agg in self.listings:
            self.listings[agg]["state"] = "ended"
        elif kind == "PenaltyDecided":
            self.cases[agg] = {"institution_id": p["institution_id"], "decision": public_part(CATALOGUE[kind].fields, p), "publication": None}
        elif kind == "PenaltyDecisionReviewed" and agg in self.cases:
            self.cases[agg]["review"] = p["outcome"]
        elif kind == "PenaltyPublished" and agg in self.cases:
            self.cases[agg]["publication"] = {"state": "published", "published_on": p["published_on"], "until": p["publish_until"],
                                              "class": p["publication_class"]}
        elif kind in ("PenaltyPublicationWithdrawn", "PenaltyPublicationEndedEarly", "PenaltyPublicationExpired") and agg in self.cases:
            self.cases[agg]["publication"] = dict(self.cases[agg]["publication"] or {}, state="ended")
        elif kind == "InspectionScheduled":
            self.inspections[agg] = {"institution_id": p["institution_id"], "kind": p["kind"], "plan_id": p.get("plan_id"),
                                     "departments": p["departments"]}
        elif kind == "InspectionConducted" and agg in self.inspections:
            self.inspections[agg].update(conducted_on=p["conducted_on"],
                                         findings=public_part(CATALOGUE[kind].fields, p)["findings"])
        elif kind == "InspectionResultPublished" and agg in self.inspections:
            self.inspections[agg].update(published_on=p["published_on"], public_summary=p["public_summary"])
        if kind in PUBLIC_TIMELINE and e["institution_id"]:
            self.timeline.setdefault(e["institution_id"], []).append({
                "seq": e["seq"], "date": e["occurred_at"], "event_type": kind, "title": CATALOGUE[kind].title_zh,
                "aggregate_id": agg, "department": e["actor"]["department"], "document_no": e["basis"]["document_no"],
                "details": public_part(CATALOGUE[kind].fields, p),
            })


def _cut_date(recorded_at: str | None) -> str:
    if recorded_at is None:
        return "0000-00-00"
    return datetime.fromisoformat(recorded_at).astimezone(BEIJING).date().isoformat()


def build_snapshot(envelopes: Iterable[dict[str, Any]], up_to_seq: int | None = None) -> dict[str, Any]:
    """Fold the envelopes (in seq order, checked as a chain) up to ``up_to_seq`` into the lists."""
    documents: dict[str, dict[str, Any]] = {}
    records = _Records()
    seq, last_hash, recorded_at = 0, GENESIS_HASH, None
    for envelope in envelopes:
        if up_to_seq is not None and envelope["seq"] > up_to_seq:
            break
        if envelope["seq"] != seq + 1 or envelope["prev_hash"] != last_hash:
            raise ChainBroken(seq + 1, f"found seq {envelope['seq']} out of chain")
        seq, last_hash, recorded_at = envelope["seq"], envelope["hash"], envelope["recorded_at"]
        if applies_to(envelope):
            iid = envelope["institution_id"]
            if iid in documents or envelope["aggregate_type"] == "Institution":
                documents[iid] = fold(documents.get(iid), envelope)
        records.take(envelope)
    if up_to_seq is not None and seq < up_to_seq:
        raise ValueError(f"the ledger ends at seq {seq}; cannot cut at {up_to_seq}")
    today = _cut_date(recorded_at)
    institutions = {iid: _public_institution(doc) for iid, doc in documents.items() if doc["status"] != "retracted"}
    lists = _lists(institutions, records, today)
    timelines = {iid: _public_timeline(records, iid, today) for iid in institutions}
    region_codes = sorted({code for i in institutions.values() for code in parents(i["region_code"])})
    return {
        "format": FORMAT,
        "cut": {"seq": seq, "hash": last_hash, "recorded_at": recorded_at, "date": today},
        "regions": {code: {"name": name_of(code) or code, "full_name": full_name(code)} for code in region_codes},
        "institutions": dict(sorted(institutions.items())),
        "timelines": dict(sorted(timelines.items())),
        "lists": lists,
    }


def _public_institution(doc: dict[str, Any]) -> dict[str, Any]:
    view = scrub(public_view(doc))
    # The last event that changed anything about the institution: its page, and every list row
    # about it, state this ledger position.
    view["page_seq"] = doc["seq"]
    view["page_stamp"] = {"seq": doc["seq"], "hash": doc["hash"], "recorded_at": doc["updated_at"]}
    return view


def _sort_key(entry: dict[str, Any]) -> tuple[str, str, str]:
    return (entry["region_code"], entry["name"], entry["id"])


def _row(institution: dict[str, Any], **extra: Any) -> dict[str, Any]:
    keep = ("id", "name", "region_code", "region_name", "address", "credit_code", "status", "status_name", "page_seq")
    return {**{k: institution.get(k) for k in keep}, **extra}


def _still_public_listing(listing: dict[str, Any], today: str) -> bool:
    return listing["state"] == "published" and listing["list"] == "joint_punishment" and (listing.get("expires_on") or "9999") >= today


def _still_public_case(case: dict[str, Any], today: str) -> bool:
    publication = case["publication"]
    return bool(publication) and publication["state"] == "published" and publication["until"] >= today and not case.get("review")


def _lists(institutions: dict[str, dict[str, Any]], records: _Records, today: str) -> dict[str, list[dict[str, Any]]]:
    values = sorted(institutions.values(), key=_sort_key)
    lists: dict[str, list[dict[str, Any]]] = {
        "filed": [dict(i) for i in values if i["status"] in OPERATING],
        "unfiled": [dict(i) for i in values if i["status"] == "discovered"],
        "graded": [_row(i, grade_level=i["grade_level"]) for i in values if i["grade_level"] and i["status"] in OPERATING],
        "gb38600": [_row(i) for i in values if i["compliance"].get("GB 38600") and i["status"] in OPERATING],
        "gbt35796": [_row(i) for i in values if i["compliance"].get("GB/T 35796") and i["status"] in OPERATING],
    }
    lists["joint_punishment"] = sorted(
        (_row(institutions[entry["institution_id"]], listing_id=agg, ground=GROUND_NAMES[entry["ground"]], decided_on=entry["decided_on"],
              expires_on=entry["expires_on"], document_no=entry["document_no"], persons=scrub(entry["persons"]))
         for agg, entry in records.listings.items() if entry["institution_id"] in institutions and _still_public_listing(entry, today)),
        key=_sort_key,
    )
    lists["sanctions"] = sorted(
        (_row(institutions[case["institution_id"]], case_id=agg, **scrub(case["decision"]), publish_until=case["publication"]["until"])
         for agg, case in records.cases.items() if case["institution_id"] in institutions and _still_public_case(case, today)),
        key=_sort_key,
    )
    lists["inspections"] = sorted(
        (_row(institutions[i["institution_id"]], inspection_id=agg, plan=records.plans.get(i["plan_id"], ""), conducted_on=i["conducted_on"],
              published_on=i["published_on"], public_summary=scrub(i["public_summary"]), findings=scrub(i["findings"]))
         for agg, i in records.inspections.items()
         if i["kind"] == "routine" and "published_on" in i and i["institution_id"] in institutions),
        key=_sort_key,
    )
    return lists


def _public_timeline(records: _Records, institution_id: str, today: str) -> list[dict[str, Any]]:
    entries = []
    for entry in records.timeline.get(institution_id, []):
        if entry["event_type"] == "PenaltyPublished":
            case = records.cases.get(entry["aggregate_id"])
            if not case or not _still_public_case(case, today):
                continue
        if entry["event_type"] == "CreditListingPublished":
            listing = records.listings.get(entry["aggregate_id"])
            if not listing or not _still_public_listing(listing, today):
                continue
        entries.append(scrub(entry))
    return entries


def write_snapshot(snapshot: dict[str, Any], directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"disclosure-{snapshot['cut']['seq']:012d}.json"
    path.write_bytes(canonical_json(snapshot) + b"\n")
    return path
