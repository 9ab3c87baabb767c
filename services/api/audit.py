"""Transparency (public) and audit (auditor role) endpoints.

- ``/v1/transparency/…`` — anyone: the verifier key, signed checkpoints, RFC 9162 inclusion and
  consistency proofs. They reveal event hashes only, never content (events/VERIFICATION.md §6).
- ``/v1/audit/…`` — auditors (role ``auditor``): envelopes in seq order, any institution or list
  as of a seq or moment, full histories, diffs, replay from the store and/or Kafka (compared),
  reconciliation of store, Kafka, index and site, the publication register.
  Institutions outside the auditor's region are refused; envelopes outside it come as sealed
  stubs (seq, prev_hash, hash), which still let the chain and the tree be checked.
"""

from __future__ import annotations

import base64
import re
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Path, Query
from fastapi.responses import PlainTextResponse

from events.regions import prefix_of
from events.visibility import envelope_view
from projections.disclosure import LISTS as DISCLOSURE_LISTS
from services.api.dependencies import ActorDep, RuntimeDep
from services.api.errors import error_response
from services.api.models import ERRORS
from services.api.parameters import SeqQuery, TreeSizePath, position_query
from services.audit.history import diff, history, list_diff
from services.audit.replay import (
    NotInLedger,
    compare_replays,
    institution_as_of,
    kafka_envelopes,
    lists_as_of,
    resolve_seq,
    store_envelopes,
)
from services.bootstrap import Runtime
from services.domain.actors import Actor
from services.domain.errors import NotCompetent, NotFound, RuleViolation
from services.ledger.ledger_tree import NodeMissing

transparency = APIRouter(prefix="/v1/transparency", tags=["公开核验 transparency"], responses=ERRORS)
audit = APIRouter(prefix="/v1/audit", tags=["审计 audit"], responses=ERRORS)

AtQuery = Annotated[datetime | None, Query(description="时间（ISO 8601，须带时区），取该时刻及以前记录的事件")]


def _parts(runtime: Runtime):
    if runtime.transparency is None:
        raise NotFound("TRANSPARENCY_UNAVAILABLE", "本服务未配置检查点签名", "this service signs no checkpoints")
    runtime.sealer.seal_pending()
    return runtime.transparency


def _b64(hashes: list[bytes]) -> list[str]:
    return [base64.b64encode(h).decode() for h in hashes]


@transparency.get("/key", response_class=PlainTextResponse, summary="台账公钥 Ed25519（C2SP 验证者密钥文本）")
def verifier_key(runtime: RuntimeDep) -> str:
    return _parts(runtime).checkpoints.verifier_keys()[0] + "\n"


@transparency.get("/key/sm2", response_class=PlainTextResponse, summary="台账公钥 SM2（检查点的商用密码副署）")
def sm2_verifier_key(runtime: RuntimeDep) -> str:
    return _parts(runtime).checkpoints.verifier_keys()[1] + "\n"


@transparency.get("/checkpoint", response_class=PlainTextResponse, summary="最新签名检查点（C2SP signed note）")
def latest_checkpoint(runtime: RuntimeDep) -> str:
    latest = _parts(runtime).checkpoints.latest()
    if latest is None:
        raise NotFound("NO_CHECKPOINT", "尚未签署检查点", "no checkpoint has been signed yet")
    return latest.note


@transparency.get("/checkpoints", summary="全部检查点（规模、签署时间）")
def all_checkpoints(runtime: RuntimeDep) -> dict[str, Any]:
    parts = _parts(runtime)
    return {
        "origin": parts.checkpoints.origin,
        "checkpoints": [{"tree_size": c.tree_size, "issued_at": c.issued_at} for c in parts.checkpoints.all()],
    }


@transparency.get("/checkpoints/{tree_size}", response_class=PlainTextResponse, summary="某一规模的签名检查点")
def one_checkpoint(tree_size: TreeSizePath, runtime: RuntimeDep) -> str:
    found = _parts(runtime).checkpoints.at(tree_size)
    if found is None:
        raise NotFound("CHECKPOINT_NOT_FOUND", f"没有规模为 {tree_size} 的检查点", f"no checkpoint of size {tree_size}")
    return found.note


def _tree_size(parts, tree_size: int | None) -> int:
    if tree_size is None:
        latest = parts.checkpoints.latest()
        if latest is None:
            raise NotFound("NO_CHECKPOINT", "尚未签署检查点", "no checkpoint has been signed yet")
        return latest.tree_size
    head = parts.tree.size()
    if tree_size > head:
        raise RuleViolation("TREE_SIZE_BEYOND_HEAD", f"台账只有 {head} 个事件", f"the ledger has {head} events", head=head)
    return tree_size


@transparency.get("/proofs/inclusion", summary="事件包含证明（RFC 9162）")
def inclusion(
    runtime: RuntimeDep,
    seq: Annotated[int, position_query("事件的台账序号", ge=1)],
    tree_size: Annotated[int | None, position_query("树规模（缺省为最新检查点）", ge=1)] = None,
) -> dict[str, Any]:
    parts = _parts(runtime)
    size = _tree_size(parts, tree_size)
    if seq > size:
        raise RuleViolation("SEQ_BEYOND_TREE", f"事件 {seq} 不在规模为 {size} 的树中", f"event {seq} is not in a tree of {size}")
    event_hash = parts.log.hashes(seq - 1, 1)[0]
    return {"seq": seq, "leaf_index": seq - 1, "tree_size": size, "event_hash": event_hash,
            "proof": _b64(parts.tree.inclusion(seq, size))}


@transparency.get("/proofs/consistency", summary="两个检查点之间的一致性证明（RFC 9162）")
def consistency(
    runtime: RuntimeDep,
    first: Annotated[int, position_query("较早的树规模", ge=1, alias="from")],
    second: Annotated[int | None, position_query("较晚的树规模（缺省为最新检查点）", ge=1, alias="to")] = None,
) -> dict[str, Any]:
    parts = _parts(runtime)
    size = _tree_size(parts, second)
    if first > size:
        raise RuleViolation("TREE_SIZES_REVERSED", "起点规模大于终点规模", "the first size is larger than the second")
    try:
        proof = parts.tree.consistency(first, size)
    except NodeMissing as missing:  # pragma: no cover - sizes are checked against the head above
        raise RuleViolation("TREE_SIZE_BEYOND_HEAD", "台账尚无如此多的事件", str(missing)) from None
    return {"from": first, "to": size, "proof": _b64(proof)}


# --- auditors ------------------------------------------------------------------------------------


def _auditor(actor: Actor) -> Actor:
    actor.require_role("auditor")
    return actor


def _position(runtime: Runtime, seq: int | None, at: datetime | None) -> int:
    if seq is not None and at is not None:
        raise RuleViolation("QUERY_INVALID", "seq 与 at 只能给出一个", "give seq or at, not both")
    if at is not None and at.tzinfo is None:
        raise RuleViolation("QUERY_INVALID", "at 须带时区，例如 2026-06-30T18:00:00+08:00", "at needs a UTC offset")
    runtime.sealer.seal_pending()
    try:
        return resolve_seq(runtime.sealer.log, seq=seq, at=at.isoformat() if at else None)
    except NotInLedger as missing:
        raise NotFound("SEQ_NOT_IN_LEDGER", f"台账中没有第 {seq} 号事件", str(missing)) from None


def _institution_in_reach(runtime: Runtime, actor: Actor, institution_id: UUID, seq: int) -> dict[str, Any]:
    state = institution_as_of(runtime.sealer.log, str(institution_id), seq)
    if state is None:
        raise NotFound("INSTITUTION_NOT_FOUND", "截至该时点台账中没有此机构", "the ledger held no such institution at that point")
    region = state.get("region_code") or ""
    if not actor.covers(region):
        raise NotCompetent("OUTSIDE_JURISDICTION", f"该机构（{region}）不在本审计人员的辖区内", f"institution in {region} is outside the auditor's region")
    return state


@audit.get("/events", summary="按序号导出事件信封（辖区外事件只给出封存摘要）")
def events(
    actor: ActorDep, runtime: RuntimeDep,
    after: Annotated[int, position_query("从此序号之后开始")] = 0,
    limit: Annotated[int, Query(ge=1, le=5000, description="条数")] = 1000,
) -> dict[str, Any]:
    _auditor(actor)
    runtime.sealer.seal_pending()
    envelopes = [r.envelope for r in runtime.sealer.log.read(after, limit)]
    ids = sorted({e["institution_id"] for e in envelopes if e["institution_id"]})
    regions = {i: d.get("region_code", "") for i, d in runtime.search.get_many(ids).items()}
    out = []
    for e in envelopes:
        region = regions.get(e["institution_id"], "") if e["institution_id"] else e["actor"].get("region", "")
        if actor.covers(region):
            out.append(envelope_view(e, full=True))
        else:
            out.append({"seq": e["seq"], "prev_hash": e["prev_hash"], "hash": e["hash"], "redacted": True})
    return {"events": out, "next_after": out[-1]["seq"] if out else after}


@audit.get("/institutions/{institution_id}", summary="机构在某一时点的完整状态")
def institution_state(
    institution_id: Annotated[UUID, Path(title="机构编号")], actor: ActorDep, runtime: RuntimeDep,
    seq: SeqQuery = None, at: AtQuery = None,
) -> dict[str, Any]:
    _auditor(actor)
    position = _position(runtime, seq, at)
    return {"as_of_seq": position, "institution": _institution_in_reach(runtime, actor, institution_id, position)}


@audit.get("/institutions/{institution_id}/history", summary="机构的全部决定：经办人、依据、文号、更正与撤销")
def institution_history(institution_id: Annotated[UUID, Path(title="机构编号")], actor: ActorDep, runtime: RuntimeDep) -> dict[str, Any]:
    _auditor(actor)
    head = _position(runtime, None, None)
    _institution_in_reach(runtime, actor, institution_id, head)
    return {"as_of_seq": head, "history": history(runtime.sealer.log, str(institution_id))}


@audit.get("/institutions/{institution_id}/diff", summary="机构在两个时点之间的变化")
def institution_diff(
    institution_id: Annotated[UUID, Path(title="机构编号")], actor: ActorDep, runtime: RuntimeDep,
    from_seq: Annotated[int | None, position_query("起点台账序号")] = None, to_seq: Annotated[int | None, position_query("终点台账序号")] = None,
    from_at: Annotated[datetime | None, Query()] = None, to_at: Annotated[datetime | None, Query()] = None,
) -> dict[str, Any]:
    _auditor(actor)
    before, after = _position(runtime, from_seq, from_at), _position(runtime, to_seq, to_at)
    _institution_in_reach(runtime, actor, institution_id, max(before, after))
    log = runtime.sealer.log
    return {"from_seq": before, "to_seq": after,
            "changes": diff(institution_as_of(log, str(institution_id), before), institution_as_of(log, str(institution_id), after))}


def _list(runtime: Runtime, name: str, seq: int, region: str | None) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    snapshot = lists_as_of(store_envelopes(runtime.sealer.log), seq)
    rows = snapshot["lists"][name]
    if region:
        prefix = prefix_of(region)
        rows = [r for r in rows if r["region_code"].startswith(prefix)]
    return snapshot["cut"], rows


def _list_name(name: str) -> str:
    if name not in DISCLOSURE_LISTS:
        raise NotFound("LIST_NOT_FOUND", f"没有名为 {name} 的公开名单", f"no public list named {name}", lists=list(DISCLOSURE_LISTS))
    return name


def _region(region: str | None) -> str | None:
    if region is not None and not re.fullmatch(r"[0-9]{6}", region):
        raise RuleViolation("QUERY_INVALID", "region 应为6位行政区划代码", "region must be a 6-digit division code")
    return region


@audit.get("/lists/{name}", summary="公开名单在某一时点的内容（按台账重放）")
def list_state(
    name: str, actor: ActorDep, runtime: RuntimeDep, seq: SeqQuery = None, at: AtQuery = None,
    region: Annotated[str | None, Query(description="行政区划代码")] = None,
) -> dict[str, Any]:
    _auditor(actor)
    name, region = _list_name(name), _region(region)
    cut, rows = _list(runtime, name, _position(runtime, seq, at), region)
    return {"as_of": cut, "list": name, "rows": rows}


@audit.get("/lists/{name}/diff", summary="公开名单在两个时点之间的变化")
def list_changes(
    name: str, actor: ActorDep, runtime: RuntimeDep,
    from_seq: Annotated[int | None, position_query("起点台账序号")] = None, to_seq: Annotated[int | None, position_query("终点台账序号")] = None,
    from_at: Annotated[datetime | None, Query()] = None, to_at: Annotated[datetime | None, Query()] = None,
    region: Annotated[str | None, Query(description="行政区划代码")] = None,
) -> dict[str, Any]:
    _auditor(actor)
    name, region = _list_name(name), _region(region)
    before, after = _position(runtime, from_seq, from_at), _position(runtime, to_seq, to_at)
    _, old = _list(runtime, name, before, region)
    _, new = _list(runtime, name, after, region)
    return {"from_seq": before, "to_seq": after, "changes": list_diff(old, new)}


@audit.get("/publications", summary="公开网站发布记录（截至序号、时间、全站摘要）")
def publications(actor: ActorDep, runtime: RuntimeDep) -> dict[str, Any]:
    from services.publication import PublicationRegister

    _auditor(actor)
    register = PublicationRegister(runtime.settings.event_store)
    try:
        return {"publications": [p.__dict__ for p in register.all()]}
    finally:
        register.close()


def _kafka(runtime: Runtime):
    settings = runtime.settings
    if settings.profile != "cluster":
        raise RuleViolation("SOURCE_UNAVAILABLE", "embedded 配置没有 Kafka，只能从事件库重放", "the embedded profile has no Kafka topic")
    return lambda: kafka_envelopes(settings.kafka_bootstrap, settings.kafka_topic)


def _kafka_down(error: Exception):
    return error_response(503, "KAFKA_UNAVAILABLE", "暂时无法读取 Kafka 台账主题，请稍后重试", f"cannot read the Kafka topic: {error}",
                          headers={"Retry-After": "10"})


@audit.get("/replay", summary="从事件库和/或 Kafka 重放全部公开名单到某一时点，比较结果（须一致）")
def replay(
    actor: ActorDep, runtime: RuntimeDep, seq: SeqQuery = None, at: AtQuery = None,
    source: Annotated[str | None, Query(pattern="^(store|kafka|both)$", description="store、kafka 或 both；缺省：cluster 为 both")] = None,
) -> Any:
    """Each source is folded from its first event; a gap, duplicate or altered event is reported
    under ``broken`` with its seq. Cost grows with the ledger (a full fold per source)."""
    from kafka.errors import KafkaError

    _auditor(actor)
    position = _position(runtime, seq, at)
    source = source or ("both" if runtime.settings.profile == "cluster" else "store")
    sources = {}
    if source in ("store", "both"):
        sources["store"] = lambda: store_envelopes(runtime.sealer.log)
    if source in ("kafka", "both"):
        sources["kafka"] = _kafka(runtime)
    try:
        return compare_replays(sources, position)
    except (KafkaError, TimeoutError) as down:
        return _kafka_down(down)


@audit.get("/reconciliation", summary="对账：事件库、Kafka、检索索引、最近一次发布的网站快照")
def reconciliation(actor: ActorDep, runtime: RuntimeDep) -> Any:
    """Counts, last seq and checksums per part; every disagreement with its seq or document.
    Covers the whole ledger: it reveals seqs, document ids and checksums, never content."""
    from kafka.errors import KafkaError

    from events.envelope import seal
    from services.audit.reconciliation import reconcile
    from services.publication import published_snapshot

    _auditor(actor)
    runtime.sealer.seal_pending()
    settings = runtime.settings
    try:
        result = reconcile(
            runtime.sealer.log, app=runtime.ledger, seal=seal, index=runtime.search,
            kafka=_kafka(runtime) if settings.profile == "cluster" else None,
            snapshot=lambda: published_snapshot(settings.event_store, settings.snapshot_dir),
        )
    except (KafkaError, TimeoutError) as down:
        return _kafka_down(down)
    return result.as_dict()
