"""``eldercare audit …``: the auditors' command line. Data goes to stdout as JSON (or JSON Lines),
a one-line Chinese summary to stderr; the exit status is 0 when everything agrees or verifies, 1
when something does not, 2 when the question cannot be asked (bad arguments)."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from services.settings import Settings

BEIJING = timezone(timedelta(hours=8))


def moment(text: str) -> str:
    """An ISO 8601 moment; without an offset it is Beijing time."""
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"不是 ISO 8601 时间：{text}（例：2026-06-30T18:00 或 2026-06-30T10:00:00+00:00）") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=BEIJING)
    return parsed.isoformat()


def position(text: str) -> dict[str, Any]:
    """A ledger position given as a seq (digits) or a moment."""
    return {"seq": int(text)} if text.isdigit() else {"at": moment(text)}


def _out(value: Any) -> None:
    sys.stdout.write(json.dumps(value, ensure_ascii=False, indent=1) + "\n")


def _say(text: str) -> None:
    print(text, file=sys.stderr)


def _log(settings: Settings):
    from services.ledger.application import open_ledger

    ledger, sealer = open_ledger(settings.event_store)
    sealer.seal_pending()
    ledger.close()
    return sealer.log


def _raw_envelopes(log) -> Any:
    """Envelopes as stored, for the verifier: one that no longer parses is passed on as an
    envelope with no hash, so it is reported at its seq rather than stopping the run."""
    for record in log.iterate():
        try:
            yield record.envelope
        except ValueError:
            yield {"seq": record.seq, "hash": None, "unreadable": True}


def cmd_verify(args: argparse.Namespace, settings: Settings) -> int:
    from events.envelope import seal
    from services.audit import verifier
    from services.audit.reconciliation import Reconciliation, check_store
    from services.audit.transparency import Transparency
    from services.ledger.application import open_ledger

    # The event store the commands read is checked against the sealed log, event by event: an
    # event altered where the aggregates load it from is found here, not only by ``reconcile``.
    ledger, sealer = open_ledger(settings.event_store)
    log = sealer.log
    transparency = Transparency.open(settings, log=log)
    try:
        sealer.seal_pending()
        notes = [c.note for c in transparency.checkpoints.all()]
        vkeys = args.vkey or transparency.checkpoints.verifier_keys()
        site = str(args.site) if args.site else None
        report = verifier.verify(site, vkeys=vkeys, events=_raw_envelopes(log), checkpoint_notes=notes)
        store = Reconciliation()
        check_store(log, store, app=ledger, seal=seal)
    finally:
        transparency.close()
        ledger.close()
        log.close()
    findings = [{"subject": f.subject, "seq": f.seq, "problem": f.problem} for f in report.findings]
    findings += [{"subject": d.subject, "seq": d.seq, "problem": d.problem} for d in store.disagreements
                 if not any(f["seq"] == d.seq for f in findings)]
    _out({"verified": not findings, "events": report.events, "checkpoints": report.checkpoints, "tiles": report.tiles,
          "stamps": report.stamps, "findings": findings})
    _say("核验通过" if not findings else f"核验未通过：{len(findings)} 个问题，首个在 {findings[0]['subject']}")
    return 0 if not findings else 1


def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    from events.canonical import canonical_json

    log = _log(settings)
    count = 0
    try:
        with open(args.out, "wb") as out:
            for record in log.iterate(up_to_seq=args.up_to):
                out.write(canonical_json(record.envelope) + b"\n")
                count += 1
    finally:
        log.close()
    _say(f"已导出 {count} 个事件到 {args.out}")
    return 0


def cmd_checkpoint(args: argparse.Namespace, settings: Settings) -> int:
    from services.audit.transparency import Transparency

    log = _log(settings)
    transparency = Transparency.open(settings, log=log)
    try:
        issued = transparency.checkpoints.issue()
    finally:
        transparency.close()
        log.close()
    sys.stdout.write(issued.note)
    _say(f"检查点：台账前 {issued.tree_size} 个事件，签署于 {issued.issued_at}")
    return 0


def _resolve(log, where: dict[str, Any]) -> int:
    from services.audit.replay import resolve_seq

    return resolve_seq(log, seq=where.get("seq"), at=where.get("at"))


def cmd_institution(args: argparse.Namespace, settings: Settings) -> int:
    from services.audit.replay import institution_as_of

    log = _log(settings)
    try:
        seq = _resolve(log, args.as_of or {})
        state = institution_as_of(log, args.institution_id, seq)
    finally:
        log.close()
    _out({"as_of_seq": seq, "institution": state})
    _say(f"截至台账第 {seq} 号事件" + ("" if state else "：台账当时尚无此机构"))
    return 0 if state else 1


def cmd_history(args: argparse.Namespace, settings: Settings) -> int:
    from services.audit.history import history

    log = _log(settings)
    try:
        entries = history(log, args.institution_id)
    finally:
        log.close()
    _out(entries)
    _say(f"共 {len(entries)} 条记录")
    return 0 if entries else 1


def _list_state(settings: Settings, source: str, seq: int) -> dict[str, Any]:
    from services.audit.replay import kafka_envelopes, lists_as_of, store_envelopes

    if source == "kafka":
        return lists_as_of(kafka_envelopes(settings.kafka_bootstrap, settings.kafka_topic), seq)
    log = _log(settings)
    try:
        return lists_as_of(store_envelopes(log), seq)
    finally:
        log.close()


def cmd_list(args: argparse.Namespace, settings: Settings) -> int:
    log = _log(settings)
    try:
        seq = _resolve(log, args.as_of or {})
    finally:
        log.close()
    from events.envelope import ChainBroken
    from services.audit.replay import SourceBehind

    try:
        snapshot = _list_state(settings, args.source, seq)
    except (ChainBroken, SourceBehind) as failed:
        _out({"as_of_seq": seq, "source": args.source, "error": str(failed)})
        _say(f"无法从 {args.source} 重放到第 {seq} 号事件：{failed}")
        return 1
    rows = snapshot["lists"][args.name]
    if args.region:
        rows = [r for r in rows if r["region_code"].startswith(args.region.rstrip("0") or args.region)]
    _out({"as_of": snapshot["cut"], "list": args.name, "rows": rows})
    _say(f"{args.name}：截至台账第 {seq} 号事件共 {len(rows)} 条")
    return 0


def cmd_diff(args: argparse.Namespace, settings: Settings) -> int:
    from services.audit.history import diff, list_diff
    from services.audit.replay import institution_as_of

    log = _log(settings)
    try:
        before, after = _resolve(log, args.since), _resolve(log, args.until)
        if args.institution:
            changes: Any = diff(institution_as_of(log, args.institution, before), institution_as_of(log, args.institution, after))
    finally:
        log.close()
    if not args.institution:
        old = _list_state(settings, "store", before)["lists"][args.list]
        new = _list_state(settings, "store", after)["lists"][args.list]
        changes = list_diff(old, new)
    _out({"from_seq": before, "to_seq": after, "changes": changes})
    _say(f"台账第 {before} 号至第 {after} 号事件之间的变化")
    return 0


def cmd_replay(args: argparse.Namespace, settings: Settings) -> int:
    from services.audit.replay import compare_replays, kafka_envelopes, store_envelopes

    log = _log(settings)
    try:
        seq = _resolve(log, args.as_of or {})
        source = args.source or ("both" if settings.profile == "cluster" else "store")
        sources = {
            "store": lambda: store_envelopes(log),
            "kafka": lambda: kafka_envelopes(settings.kafka_bootstrap, settings.kafka_topic),
        }
        chosen = {name: sources[name] for name in (["store", "kafka"] if source == "both" else [source])}
        result = compare_replays(chosen, seq)
    finally:
        log.close()
    _out(result)
    for name, broken in result["broken"].items():
        _say(f"{name} 在第 {broken['seq']} 号事件处无法重放：{broken['problem']}")
    for name, behind in result["behind"].items():
        _say(f"{name} 只到第 {behind['last_seq']} 号事件，尚未包含第 {result['as_of_seq']} 号（{behind['problem']}）")
    _say("各来源重放结果一致" if result["agree"] else f"重放结果不一致：{result['digests']}")
    return 0 if result["agree"] else 1


def cmd_reconcile(args: argparse.Namespace, settings: Settings) -> int:
    from events.envelope import seal
    from services.audit.reconciliation import reconcile
    from services.audit.replay import kafka_envelopes
    from services.bootstrap import build_search_index
    from services.ledger.application import open_ledger
    from services.publication import published_snapshot

    ledger, sealer = open_ledger(settings.event_store)
    index = build_search_index(settings)
    try:
        sealer.seal_pending()
        kafka = None
        if settings.profile == "cluster":
            kafka = lambda: kafka_envelopes(settings.kafka_bootstrap, settings.kafka_topic)  # noqa: E731
        result = reconcile(sealer.log, app=ledger, seal=seal, kafka=kafka, index=index,
                           snapshot=lambda: published_snapshot(settings.event_store, settings.snapshot_dir))
    finally:
        index.close()
        ledger.close()
        sealer.log.close()
    _out(result.as_dict())
    _say("台账、Kafka、检索索引、公开网站一致" if result.agree else f"发现 {len(result.disagreements)} 处不一致")
    return 0 if result.agree else 1


def cmd_site(args: argparse.Namespace, settings: Settings) -> int:
    from services.audit.replay import store_envelopes
    from services.audit.transparency import Transparency
    from services.publication import PublicationRegister, reproduce

    log = _log(settings)
    register = PublicationRegister(settings.event_store)
    transparency = Transparency.open(settings, log=log)
    try:
        publication = register.as_of(args.at)
        if publication is None:
            _say(f"{args.at} 时尚未发布过公开网站")
            return 1
        work = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="eldercare-site-"))
        same, site_digest, site_dir = reproduce(publication, store_envelopes(log), work, transparency.tree, transparency.checkpoints)
    finally:
        transparency.close()
        register.close()
        log.close()
    _out({"publication": publication.__dict__, "rebuilt_digest": site_digest, "identical": same, "site": str(site_dir)})
    _say(f"第 {publication.n} 次发布（台账第 {publication.cut_seq} 号事件）" + ("已逐字节重现" if same else "重建结果与发布时不同"))
    return 0 if same else 1


def cmd_keygen(args: argparse.Namespace, settings: Settings) -> int:
    from services.ledger.signing_key import add_sm2_key, generate_key_file, load_signers

    if args.add_sm2:
        path = Path(args.add_sm2)
        if not path.is_file():
            _say(f"{path} 不存在")
            return 2
        if not add_sm2_key(path):
            _say(f"{path} 已有 SM2 密钥，未改动")
            return 2
        _say(f"已在 {path} 中加入 SM2 副署密钥；验证者公钥（请一并公告）：")
    else:
        path = Path(args.out)
        try:
            generate_key_file(path)
        except FileExistsError:
            _say(f"{path} 已存在，不覆盖（更换签名密钥须公告）")
            return 2
        _say(f"已生成签名密钥 {path}（Ed25519 与 SM2）；验证者公钥：")
    for signer in load_signers(path, settings.log_origin):
        print(signer.verifier.text())
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    audit = sub.add_parser("audit", help="审计：核验、按时点重放、历史、差异、对账、重现已发布网站")
    a = audit.add_subparsers(dest="audit_command", metavar="子命令")

    p = a.add_parser("verify", help="核验哈希链、默克尔树与签名检查点（可同时核验公开网站）")
    p.add_argument("--site", type=Path, help="同时核验的公开网站目录")
    p.add_argument("--vkey", action="append", help="自行获取的验证者公钥，每个公钥给一次（缺省用本机的 Ed25519 与 SM2 公钥）")
    p.set_defaults(run=cmd_verify)

    p = a.add_parser("export", help="导出台账全部事件（JSON Lines），供独立核验")
    p.add_argument("--out", required=True, help="输出文件")
    p.add_argument("--up-to", type=int, default=None, help="截至的台账序号")
    p.set_defaults(run=cmd_export)

    p = a.add_parser("checkpoint", help="立即签署一个检查点")
    p.set_defaults(run=cmd_checkpoint)

    p = a.add_parser("institution", help="某机构在某一时点的完整状态")
    p.add_argument("institution_id", help="机构编号")
    p.add_argument("--as-of", type=position, help="台账序号或时间（ISO 8601，缺省时区为北京时间）")
    p.set_defaults(run=cmd_institution)

    p = a.add_parser("history", help="某机构的全部决定：经办人、依据、文号、更正与撤销")
    p.add_argument("institution_id", help="机构编号")
    p.set_defaults(run=cmd_history)

    p = a.add_parser("list", help="某一公开名单在某一时点的内容")
    p.add_argument("name", choices=["filed", "unfiled", "graded", "gb38600", "gbt35796", "joint_punishment", "sanctions", "inspections"])
    p.add_argument("--as-of", type=position, help="台账序号或时间")
    p.add_argument("--region", help="行政区划代码（省、市或县）")
    p.add_argument("--source", choices=["store", "kafka"], default="store", help="从事件库或 Kafka 重放")
    p.set_defaults(run=cmd_list)

    p = a.add_parser("diff", help="两个时点之间某机构或某名单的变化")
    target = p.add_mutually_exclusive_group(required=True)
    target.add_argument("--institution", help="机构编号")
    target.add_argument("--list", choices=["filed", "unfiled", "graded", "gb38600", "gbt35796", "joint_punishment", "sanctions", "inspections"])
    p.add_argument("--from", dest="since", type=position, required=True, help="起点：台账序号或时间")
    p.add_argument("--to", dest="until", type=position, required=True, help="终点：台账序号或时间")
    p.set_defaults(run=cmd_diff)

    p = a.add_parser("replay", help="从事件库和/或 Kafka 重放到某一时点，比较结果")
    p.add_argument("--as-of", type=position, help="台账序号或时间")
    p.add_argument("--source", choices=["store", "kafka", "both"], default=None, help="缺省：cluster 配置为 both，embedded 为 store")
    p.set_defaults(run=cmd_replay)

    p = a.add_parser("reconcile", help="对账：事件库、Kafka、检索索引、公开网站")
    p.set_defaults(run=cmd_reconcile)

    p = a.add_parser("site", help="按发布记录重建某一时刻在线的公开网站，并逐字节比对")
    p.add_argument("--at", type=moment, required=True, help="时间（ISO 8601，缺省时区为北京时间）")
    p.add_argument("--out", help="重建到的目录（缺省为临时目录）")
    p.set_defaults(run=cmd_site)

    p = a.add_parser("keygen", help="生成检查点签名密钥（Ed25519 与 SM2，PKCS#8 PEM）")
    target = p.add_mutually_exclusive_group(required=True)
    target.add_argument("--out", help="新密钥文件（不会覆盖已有文件）")
    target.add_argument("--add-sm2", metavar="FILE", help="为只有 Ed25519 密钥的已有文件加入 SM2 副署密钥")
    p.set_defaults(run=cmd_keygen)
