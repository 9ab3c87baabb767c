"""Who sees restricted fields. Every department may look up every department's records
(结果互认), but restricted fields — contact persons, identity numbers, complainants, internal notes —
are seen only by the department that decided (and civil affairs, the supervising department), within
their jurisdiction, and by auditors. Everyone else, and the public API, gets the public view: only
fields the event catalogue marks public.
"""

from __future__ import annotations

from typing import Any

from events import CATALOGUE
from events.catalogue import public_part
from projections.enforcement_record import public_record
from projections.institution_document import public_view
from services.domain.actors import Actor

# Every field an Institution's profile can hold, with the catalogue's public marks.
PROFILE_FIELDS = tuple(
    {f.name: f for name in ("InstitutionDiscovered", "InstitutionFiled", "UnfiledHandlingUpdated", "InstitutionLegalPersonRegistered")
     for f in CATALOGUE[name].fields}.values()
) + CATALOGUE["InstitutionChangeFiled"].field_named("changes").fields


def sees_restricted(actor: Actor | None, department: str | None, region_code: str) -> bool:
    if actor is None:
        return False
    if actor.role == "auditor":
        return True
    return actor.covers(region_code) and actor.department in ("civil_affairs", department)


def institution_view(actor: Actor | None, doc: dict[str, Any]) -> dict[str, Any]:
    view = public_view(doc)
    if sees_restricted(actor, "civil_affairs", doc["region_code"]):
        view.update(doc["profile"], view="restricted", summary=doc.get("summary"))
    else:
        view["view"] = "public"
    return view


def record_view(actor: Actor | None, record: dict[str, Any]) -> dict[str, Any]:
    if sees_restricted(actor, record["department"], record["region_code"]):
        return dict(record, view="restricted")
    return dict(public_record(record), view="public")


def profile_view(actor: Actor | None, region_code: str, profile: dict[str, Any]) -> dict[str, Any]:
    if sees_restricted(actor, "civil_affairs", region_code):
        return profile
    return public_part(PROFILE_FIELDS, profile)
