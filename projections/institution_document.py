"""The institution document: an institution's current state folded from its ledger events.

It is a pure function of the log prefix: the same events give the same document, byte for byte.
The full document keeps restricted fields for department staff; ``public`` holds only what the
event catalogue marks public, and is the only part the site and the public API may show.
"""

from __future__ import annotations

from typing import Any

from events import CATALOGUE
from events.catalogue import public_part
from pypinyin import Style, lazy_pinyin

from events.regions import full_name, parents
from projections.standing_summary import RELATED_TYPES, combine, contribution, record_fact, retally, summarize, summary_of

STATUS_BY_EVENT = {
    "InstitutionDiscovered": "discovered",
    "InstitutionFiled": "filed",
    "InstitutionSuspensionOrdered": "suspended",
    "InstitutionServiceResumed": "filed",
    "InstitutionClosurePlanned": "closing",
}
CLOSED_STATUS = {"close": "closed", "suspend_service": "service_suspended", "merge": "merged", "convert": "converted"}
STATUS_NAMES = {
    "discovered": "已掌握未登记备案", "filed": "已备案", "suspended": "停业整顿", "closing": "关停并转办理中",
    "closed": "已关闭", "service_suspended": "已暂停服务", "merged": "已合并", "converted": "已转型",
    "retracted": "登记已撤销",
}
# What a retraction restores: the document's own state before the retracted event.
UNDOABLE = ("profile", "public_profile", "status", "filed_on", "discovered_on")
OPERATING = ("filed", "suspended", "closing")  # on the filed list


def applies_to(envelope: dict[str, Any]) -> bool:
    """Decisions on the institution itself, and on every record about it (its hazards, cases, …)."""
    kind = envelope["aggregate_type"]
    return kind == "Institution" or (kind in RELATED_TYPES and bool(envelope["institution_id"]))


def pinyin_keys(name: str) -> tuple[str, str]:
    """Full pinyin and initials of a name, lowercase, for matching what people type (yihe, yh)."""
    syllables = lazy_pinyin(name, errors="default")
    initials = lazy_pinyin(name, style=Style.FIRST_LETTER, errors="default")
    return "".join(syllables).lower(), "".join(initials).lower()


def _profile_update(event_type: str, payload: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(full, public) particulars an event adds to the profile; the catalogue decides what is public."""
    fields = CATALOGUE[event_type].fields
    if event_type in ("InstitutionDiscovered", "InstitutionFiled"):
        return payload, public_part(fields, payload)
    if event_type == "InstitutionChangeFiled":
        changes_spec = CATALOGUE[event_type].field_named("changes")
        return payload["changes"], public_part(changes_spec.fields, payload["changes"])
    if event_type in ("UnfiledHandlingUpdated", "InstitutionLegalPersonRegistered"):
        update = {k: v for k, v in payload.items() if k in ("handling", "legal_person_code")}
        return update, public_part(fields, update)
    return {}, {}


def _corrected(payload: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """A correction changes the fields it names, as the event it corrects would have set them."""
    original = payload["original_event_type"]
    fields = payload["corrected"]
    if original == "InstitutionChangeFiled":
        fields = fields.get("changes", {})
        original_fields = CATALOGUE[original].field_named("changes").fields
    else:
        original_fields = CATALOGUE[original].fields
    return fields, public_part(original_fields, fields)


def _retract(doc: dict[str, Any]) -> None:
    undo = list(doc["undo"])
    before = undo.pop()["before"]
    doc["undo"] = undo
    if not undo:  # the first decision retracted: the registration itself is withdrawn
        doc["status"] = "retracted"
        return
    for key in UNDOABLE:
        if key in before:
            doc[key] = before[key]
        else:
            doc.pop(key, None)


def fold(document: dict[str, Any] | None, envelope: dict[str, Any]) -> dict[str, Any]:
    """The document after ``envelope``. The caller skips events the document already holds."""
    event_type = envelope["event_type"]
    payload = envelope["payload"]
    doc = dict(document) if document else {"id": envelope["institution_id"], "events": 0, "undo": [], "related": {}}
    if envelope["aggregate_type"] != "Institution":
        before_related = doc.get("related", {})
        contributions = doc.get("contributions")
        tally = doc.get("tally")
        if contributions is None or tally is None:  # a document folded before contributions were kept
            contributions = {a: contribution(entries) for a, entries in before_related.items()}
            tally = combine(contributions)
        aggregate_id = envelope["aggregate_id"]
        doc["related"] = record_fact(before_related, envelope)
        before = contributions.get(aggregate_id)
        after = contribution(doc["related"][aggregate_id]) if aggregate_id in doc["related"] else None
        contributions = dict(contributions)
        if after is None:
            contributions.pop(aggregate_id, None)
        else:
            contributions[aggregate_id] = after
        doc["contributions"] = contributions
        doc["tally"] = retally(tally, contributions, before, after)
        doc["summary"] = summary_of(doc["tally"])
        doc.update(seq=envelope["seq"], hash=envelope["hash"], events=doc["events"] + 1, updated_at=envelope["recorded_at"])
        return doc
    if event_type == "DecisionRetracted":
        _retract(doc)
    else:
        if event_type == "DecisionCorrected":
            full, public = _corrected(payload)
        else:
            doc["undo"] = [*doc["undo"], {"event_id": envelope["event_id"], "before": {k: doc[k] for k in UNDOABLE if k in doc}}]
            full, public = _profile_update(event_type, payload)
        doc["profile"] = {**doc.get("profile", {}), **full}
        doc["public_profile"] = {**doc.get("public_profile", {}), **public}
    if event_type in STATUS_BY_EVENT:
        doc["status"] = STATUS_BY_EVENT[event_type]
    elif event_type == "InstitutionClosed":
        doc["status"] = CLOSED_STATUS[payload["kind"]]
    if event_type == "InstitutionDiscovered":
        doc["discovered_on"] = payload["discovered_on"]
    if event_type == "InstitutionFiled":
        doc["filed_on"] = payload["filed_on"]
    region = doc["profile"]["region_code"]
    name_pinyin, name_initials = pinyin_keys(doc["profile"]["name"])
    doc.setdefault("summary", summarize(doc.get("related", {})))
    doc.update(
        name_pinyin=name_pinyin,
        name_initials=name_initials,
        seq=envelope["seq"],
        hash=envelope["hash"],
        version=envelope["aggregate_version"],
        events=doc["events"] + 1,
        updated_at=envelope["recorded_at"],
        name=doc["profile"]["name"],
        address=doc["profile"]["address"],
        credit_code=doc["profile"].get("credit_code"),
        receipt_no=doc["profile"].get("receipt_no"),
        region_code=region,
        region_path=parents(region),
        region_name=full_name(region),
    )
    return doc


def public_view(doc: dict[str, Any]) -> dict[str, Any]:
    """What anyone may see of a document: the catalogue-public profile plus derived, public keys
    (identity, status, region names, ledger position, and what the lists publish: grade, credit-list
    entries, open hazards, last inspection, standards compliance). Penalties are not summed up
    here: they are public only while published, on the site's own list."""
    summary = doc.get("summary") or summarize({})
    return {
        **doc["public_profile"],
        "id": doc["id"],
        "status": doc["status"],
        "status_name": STATUS_NAMES[doc["status"]],
        "region_name": doc["region_name"],
        "region_path": doc["region_path"],
        "seq": doc["seq"],
        "grade_level": summary["grade_level"],
        "listings": summary["listings"],
        "open_hazards": summary["open_hazards"],
        "last_inspection_on": summary["last_inspection_on"],
        "compliance": summary["compliance"],
    }
