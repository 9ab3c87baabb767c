"""The event catalogue is the single source: schemas are generated from it, every stored event
class names a catalogue type, and only fields marked public survive the public view."""

from events import CATALOGUE
from events.catalogue import problems_in, public_part
from events.record_kinds import AMENDMENTS, KINDS
from events.schema import SCHEMA_DIR, rendered_schemas
from events.visibility import public_envelope
from services.domain.identifiers import IdentifierClaim
from services.domain.institution import Institution


def test_the_published_json_schemas_match_the_catalogue():
    for name, content in rendered_schemas().items():
        assert (SCHEMA_DIR / name).read_bytes() == content, f"{name} is stale: run `eldercare schemas`"
    assert {p.name for p in SCHEMA_DIR.glob("*.json")} == set(rendered_schemas())


def test_every_catalogue_type_is_a_step_of_the_record_kind_it_names():
    """The record kinds declare every event the ledger records (corrections and retractions are
    recorded on any kind), and each step is the catalogue's own declaration."""
    stepped = {step.event_type.name for kind in KINDS.values() for step in kind.steps}
    assert stepped | set(AMENDMENTS) == set(CATALOGUE.types)
    for kind in KINDS.values():
        for step in kind.steps:
            assert step.event_type is CATALOGUE[step.name] and step.event_type.aggregate_type == kind.name
    assert Institution.KIND is KINDS["Institution"] and IdentifierClaim.KIND is KINDS["IdentifierClaim"]


def test_restricted_fields_never_reach_the_public_view():
    filed = CATALOGUE["InstitutionFiled"]
    payload = {
        "name": "某养老院", "legal_representative_id_no": "320102195001011234", "contact_person": "王芳",
        "materials": {"application_form": True}, "late_filing_reason": "内部说明",
    }
    public = public_part(filed.fields, payload)
    assert public == {"name": "某养老院"}


def test_nested_restricted_fields_are_dropped_too():
    discovered = CATALOGUE["InstitutionDiscovered"]
    payload = {"handling": {"reason": "未登记", "internal_note": "举报人：赵某 13800000000"}, "source_detail": "举报人电话"}
    assert public_part(discovered.fields, payload) == {"handling": {"reason": "未登记"}}


def test_the_public_envelope_hides_the_acting_user_and_command():
    envelope = {
        "event_id": "e", "event_type": "IdentifierClaimed", "seq": 1, "actor": {"department": "civil_affairs", "level": "county", "region": "321111", "user": "张三"},
        "command_id": "abc", "request_digest": "def", "payload": {"kind": "credit_code", "value": "x", "institution_id": "i"},
    }
    public = public_envelope(envelope)
    assert public["actor"] == {"department": "civil_affairs", "level": "county", "region": "321111",
                               "department_name": "民政部门", "level_name": "县级"}
    assert "command_id" not in public and "request_digest" not in public


def test_payload_validation_names_every_problem():
    problems = problems_in(CATALOGUE["InstitutionFiled"].fields, {"beds": "many", "unknown": 1})
    paths = {p.path for p in problems}
    assert "payload.beds" in paths and "payload.unknown" in paths and "payload.name" in paths


def test_every_state_a_record_kind_can_reach_has_a_chinese_name():
    import re

    from events.record_kinds import KINDS, RETRACTED

    for kind in KINDS.values():
        reachable = {s.to for s in kind.steps if s.to} | {a for s in kind.steps for a in (s.after or ())} | {RETRACTED}
        for status in reachable:
            name = kind.state_name(status)
            assert not re.search(r"[A-Za-z]", name), (kind.name, status, name)
