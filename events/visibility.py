"""Which parts of a sealed envelope the public may see.

The envelope's own members are declared here, once, like payload fields: the user who acted and
the command id are restricted; the department, level and region that decided, the legal basis and
document number, and the seal are public (a decision is public by its author and basis).
"""

from __future__ import annotations

from typing import Any

from events.catalogue import CATALOGUE, Field, public_part

ENVELOPE_MEMBERS = (
    Field("event_id", "string", "事件编号", public=True),
    Field("event_type", "string", "事件类型", public=True),
    Field("schema_version", "integer", "事件结构版本", public=True),
    Field("seq", "integer", "台账序号", public=True),
    Field("aggregate_type", "string", "对象类型", public=True),
    Field("aggregate_id", "string", "对象编号", public=True),
    Field("aggregate_version", "integer", "对象版本", public=True),
    Field("institution_id", "string", "机构编号", public=True, required=False),
    Field("occurred_at", "string", "决定时间", public=True),
    Field("recorded_at", "string", "记录时间", public=True),
    Field(
        "actor",
        "object",
        "决定主体",
        public=True,
        fields=(
            Field("department", "string", "部门", public=True),
            Field("level", "string", "层级", public=True),
            Field("region", "string", "行政区划", public=True),
            Field("user", "string", "经办人"),
        ),
    ),
    Field(
        "basis",
        "object",
        "依据",
        public=True,
        fields=(
            Field("document_no", "string", "文书编号", public=True),
            Field("legal_basis", "string", "法律依据", public=True),
        ),
    ),
    Field("rule_version", "string", "规则版本", public=True),
    Field("command_id", "string", "请求幂等键摘要", required=False),
    Field("request_digest", "string", "请求内容摘要", required=False),
    Field("prev_hash", "string", "前一事件哈希", public=True),
    Field("hash", "string", "本事件哈希", public=True),
)


def public_envelope(envelope: dict[str, Any]) -> dict[str, Any]:
    """The envelope as the public may see it: public members and the public part of the payload."""
    out = public_part(ENVELOPE_MEMBERS, envelope)
    event_type = CATALOGUE[envelope["event_type"]]
    out["payload"] = public_part(event_type.fields, envelope.get("payload", {}))
    return out
