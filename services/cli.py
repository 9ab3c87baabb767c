"""``eldercare``: the command line of the supervision ledger (help text in Chinese first)."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from pathlib import Path

import events  # noqa: F401  (registers the event types)
from services import log_format
from services.settings import Settings, SettingsError


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    return stop


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from services.api.app import create_app
    from services.bootstrap import build_runtime

    runtime = build_runtime(settings)
    print(f"API: http://{args.host}:{args.port}/docs   公开网站: http://{args.host}:{args.port}/site/", flush=True)
    try:
        # Idle keep-alive connections are kept 75 s, longer than a reverse proxy's usual 60 s, so
        # the proxy (or client) closes first and never sends on a connection the API is closing.
        # The client address (rate limits, request log) is the socket peer unless the peer is one of
        # the reverse proxies named in --forwarded-allow-ips / ELDERCARE_FORWARDED_ALLOW_IPS.
        trusted = args.forwarded_allow_ips if args.forwarded_allow_ips is not None else settings.forwarded_allow_ips
        uvicorn.run(create_app(runtime), host=args.host, port=args.port, log_level="warning", timeout_keep_alive=75,
                    proxy_headers=bool(trusted), forwarded_allow_ips=trusted or None, loop="uvloop", http="httptools")
    finally:
        runtime.close()
    return 0


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    from services.bootstrap import build_runtime
    from services.demo import seed_demo

    runtime = build_runtime(settings)
    try:
        summary = seed_demo(runtime.ledger)
        runtime.sealer.seal_pending()
        print(
            f"演示数据：新备案 {summary.filed} 家，未备案 {summary.discovered} 家，"
            f"未备案后补办备案 {summary.discovered_then_filed} 家；台账至第 {runtime.sealer.log.head().seq} 号事件"
        )
        if settings.profile == "cluster":
            _relay(settings, once=True)
            _project(settings, once=True)
    finally:
        runtime.close()
    _build_site(settings, None)
    if args.serve:
        return cmd_serve(args, settings)
    return 0


def cmd_token(args: argparse.Namespace, settings: Settings) -> int:
    from services.api.auth import issue_token

    if settings.jwt_secret is None:
        print("开发令牌只在 embedded 配置下签发；cluster 配置的令牌由身份认证服务签发 / dev tokens are embedded-only",
              file=sys.stderr)
        return 2
    print(
        issue_token(
            settings.jwt_secret, settings.jwt_issuer, department=args.department, level=args.level,
            region=args.region, user=args.user, role=args.role, ttl_seconds=args.ttl,
        )
    )
    return 0


def _relay(settings: Settings, *, once: bool, batch_size: int | None = None, send_delay_ms: int = 0) -> int:
    from services.ledger.application import open_ledger
    from services.relay.kafka_relay import KafkaRelay

    ledger, sealer = open_ledger(settings.event_store)
    relay = KafkaRelay(
        sealer.log, settings.kafka_bootstrap, settings.kafka_topic, **({"batch_size": batch_size} if batch_size else {}),
        send_delay_s=send_delay_ms / 1000, before_batch=sealer.seal_pending, replication=settings.replication,
    )
    try:
        return relay.run(None if once else _stop_on_signals(), once=once)
    finally:
        ledger.close()
        sealer.log.close()


def cmd_relay(args: argparse.Namespace, settings: Settings) -> int:
    n = _relay(settings, once=args.once, batch_size=args.batch_size, send_delay_ms=args.send_delay_ms)
    print(f"已转发 {n} 个事件至 Kafka 主题 {settings.kafka_topic}")
    return 0


PROJECTION_PASS_S = 0.25  # the cluster projector's shortest pass: decision -> searchable +0.25 s at most


def _project(settings: Settings, *, once: bool) -> int:
    from projections.projector import SearchProjector
    from services.bootstrap import build_feed, build_search_index

    feed, index = build_feed(settings), build_search_index(settings)
    dead_letters = None
    if settings.profile == "cluster":
        from services.feeds import KafkaDeadLetters

        dead_letters = KafkaDeadLetters(settings.kafka_bootstrap, settings.kafka_topic)
    projector = SearchProjector(feed, index, dead_letters=dead_letters)
    try:
        if once:
            return projector.catch_up()
        # Kafka's poll itself waits for records (up to half a second) and returns as one arrives: no
        # pause on top of it, or each decision would wait for it before it is searchable; at most four
        # passes (and index refreshes) a second under a steady flow of decisions (bench/searchable.py,
        # bench/decisions_http.py --profile cluster: refreshing ten times a second cost Elasticsearch
        # 4.5 ms of CPU per decision, four times 3.2 ms, on the cores the API shares with it).
        cluster = settings.profile == "cluster"
        projector.run_forever(_stop_on_signals(), 0.0 if cluster else 0.2, PROJECTION_PASS_S if cluster else 0.0)
        return 0
    finally:
        feed.close()
        index.close()
        if dead_letters is not None:
            dead_letters.close()


def cmd_project(args: argparse.Namespace, settings: Settings) -> int:
    if args.rebuild:
        if settings.profile != "cluster":
            print("embedded 配置：停止服务后删除检索库文件（search.sqlite）再运行 eldercare project --once 即可重建", file=sys.stderr)
            return 2
        from projections.rebuild import rebuild
        from services.bootstrap import build_feed, build_search_index

        index = build_search_index(settings)
        generation = rebuild(index, lambda: build_feed(settings))
        index.close()
        print(f"检索索引已重建为第 {generation} 代并切换别名")
        return 0
    n = _project(settings, once=args.once)
    print(f"检索索引已处理 {n} 个事件")
    return 0


def _build_site(settings: Settings, seq: int | None, incremental: bool = False) -> Path:
    from services.audit.transparency import Transparency
    from services.bootstrap import build_feed
    from services.publication import PublicationRegister, publish_site

    feed = build_feed(settings)
    transparency = Transparency.open(settings)
    register = PublicationRegister(settings.event_store)
    try:
        snapshot, path, written, resumed_from = publish_site(
            feed, seq, settings.site_dir, settings.snapshot_dir, transparency.tree, transparency.checkpoints,
            incremental=incremental, site=settings.site,
        )
        publication = register.record(snapshot["cut"]["seq"], settings.site_dir, site=settings.site)
    finally:
        register.close()
        transparency.close()
        feed.close()
    source = "自台账第 1 号事件起汇总" if resumed_from is None else f"自上次发布时（第 {resumed_from} 号事件）保存的记录状态续算"
    print(
        f"公开网站已生成：{settings.site_dir}（台账第 {snapshot['cut']['seq']} 号事件，{source}，快照 {path.name}，写入 {written} 个文件；"
        f"已签署检查点 {snapshot['cut']['seq']}，发布记录 #{publication.n}，网站摘要 {publication.site_digest[:16]}…）"
    )
    return path


def cmd_site_build(args: argparse.Namespace, settings: Settings) -> int:
    _build_site(settings, args.seq, incremental=args.incremental)
    return 0


def cmd_schedule(args: argparse.Namespace, settings: Settings) -> int:
    """Record every time-driven transition that has fallen due (idempotent; run it daily)."""
    from services.ledger.application import open_ledger
    from services.ledger.scheduler import run_due

    ledger, sealer = open_ledger(settings.event_store)
    try:
        recorded = run_due(ledger)
    finally:
        ledger.close()
        sealer.log.close()
    for result in recorded:
        print(f"{result.aggregate_type} {result.aggregate_id} → {result.status}")
    print(f"到期事项已记录 {len(recorded)} 项")
    return 0


def cmd_schemas(args: argparse.Namespace, settings: Settings) -> int:
    from events.schema import SCHEMA_DIR, rendered_schemas, write_schemas

    if args.check:
        stale = [n for n, c in rendered_schemas().items() if not (SCHEMA_DIR / n).exists() or (SCHEMA_DIR / n).read_bytes() != c]
        if stale:
            print(f"以下 JSON Schema 与事件目录不一致，请运行 eldercare schemas：{stale}", file=sys.stderr)
            return 1
        return 0
    for path in write_schemas():
        print(path)
    return 0


def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    """Import an existing register file (CSV or XLSX) of one decision family."""
    import csv

    from services.bootstrap import build_runtime
    from services.domain.actors import Actor
    from services.domain.errors import DomainError
    from services.ledger.register_import import FAMILIES, import_register, template_csv

    if args.template:
        sys.stdout.buffer.write(template_csv(args.family))
        return 0
    if args.file is None or args.region is None or args.user is None:
        print("请指定要导入的文件，以及导入人员的行政区划代码（--region）和姓名（--user）", file=sys.stderr)
        return 2
    runtime = build_runtime(settings)
    try:
        actor = Actor(args.department, args.level, args.region, args.user)
        report = import_register(runtime.ledger, args.family, Path(args.file).read_bytes(), Path(args.file).name, actor,
                                 dry_run=args.dry_run)
    except DomainError as refused:
        print(f"无法导入：{refused.message_zh}（{refused.code}）", file=sys.stderr)
        return 2
    finally:
        runtime.close()
    summary = report.as_dict()
    verb = "可记录" if args.dry_run else "已记录"
    print(f"{FAMILIES[args.family].title_zh}：共 {summary['total']} 行，{verb} {summary['would_record'] if args.dry_run else summary['recorded']} 行，"
          f"此前已导入 {summary['already']} 行，不予记录 {summary['refused']} 行（文件 SHA-256 {report.file_sha256}）")
    for refusal in summary["refusals"][:20]:
        print(f"  第 {refusal['row']} 行：{refusal['message_zh']}（{refusal['code']}）")
    if args.report:
        with open(args.report, "w", newline="", encoding="utf-8-sig") as out:
            writer = csv.writer(out)
            writer.writerow(["行号", "结果", "代码", "说明", "记录编号"])
            names = {"recorded": "已记录", "already": "此前已导入", "would_record": "可记录", "refused": "不予记录"}
            for row in report.rows:
                writer.writerow([row.row, names[row.outcome], row.code or "", row.message_zh or "", row.record_id or ""])
    return 1 if summary["refused"] and not args.dry_run else 0


def cmd_rules(args: argparse.Namespace, settings: Settings | None) -> int:
    """The rule table: all of it as README renders it, or what applies to one region on one day."""
    import json
    from datetime import date

    from services.domain.errors import DomainError
    from services.domain.regions import validate_region_code
    from services.domain.rules import RULES

    if args.region is None:
        print(RULES.markdown(), end="")
        return 0
    try:
        in_force = RULES.in_force(date.fromisoformat(args.on) if args.on else date.today(), validate_region_code(args.region))
    except (DomainError, ValueError) as refused:
        print(f"无法查询：{getattr(refused, 'message_zh', refused)}", file=sys.stderr)
        return 2
    print(f"# {in_force.name}")
    for key in sorted(in_force.params):
        param = in_force.param(key)
        print(f"{key}\t{json.dumps(param.value, ensure_ascii=False)}\t{'已核实' if param.confirmed else '未核实'}\t{param.source}")
    return 0


cmd_rules.needs_settings = False  # type: ignore[attr-defined]


def installed_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("eldercare-ledger")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown"


def _described(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Every command's help line is also its description (``eldercare audit verify -h``), and a
    command with subcommands prints its help when given none."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help for a in action._choices_actions}
            for name, child in action.choices.items():
                child.description = child.description or helps.get(name)
                _described(child)
            parser.set_defaults(run=_help(parser))
    return parser


def _help(parser: argparse.ArgumentParser):
    def show(args: argparse.Namespace, settings: Settings | None) -> int:
        parser.print_help()
        return 0

    show.needs_settings = False  # type: ignore[attr-defined]
    return show


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="eldercare", description="养老机构综合监管台账（eldercare supervision ledger）")
    p.add_argument("--version", action="version", version=f"eldercare {installed_version()}")
    sub = p.add_subparsers(dest="command", metavar="命令")

    serve = sub.add_parser("serve", help="启动 API 服务（含 /docs 与 /site/）")
    serve.add_argument("--host", default="127.0.0.1", help="监听地址（默认 127.0.0.1）")
    serve.add_argument("--port", type=int, default=8000, help="端口（默认 8000）")
    serve.add_argument("--forwarded-allow-ips", default=None, metavar="IPS",
                       help="信任其 X-Forwarded-For 的反向代理地址（逗号分隔；默认取 ELDERCARE_FORWARDED_ALLOW_IPS，空为不信任任何代理）")
    serve.set_defaults(run=cmd_serve)

    demo = sub.add_parser("demo", help="写入镇江、鞍山演示数据并生成公开网站")
    demo.add_argument("--serve", action="store_true", help="完成后启动 API 服务")
    demo.add_argument("--host", default="127.0.0.1", help="监听地址")
    demo.add_argument("--port", type=int, default=8000, help="端口")
    demo.add_argument("--forwarded-allow-ips", default=None, metavar="IPS",
                       help="信任其 X-Forwarded-For 的反向代理地址（逗号分隔；默认取 ELDERCARE_FORWARDED_ALLOW_IPS，空为不信任任何代理）")
    demo.set_defaults(run=cmd_demo)

    token = sub.add_parser("token", help="签发开发用身份令牌（仅 embedded 配置）")
    token.add_argument("--department", required=True, help="部门，如 civil_affairs、fire_rescue")
    token.add_argument("--level", required=True, choices=["county", "city", "province"], help="层级")
    token.add_argument("--region", required=True, help="行政区划代码，如 321111")
    token.add_argument("--user", default="dev-user", help="经办人")
    token.add_argument("--role", default="officer", choices=["officer", "viewer", "auditor"], help="角色")
    token.add_argument("--ttl", type=int, default=8 * 3600, help="有效期（秒，最长12小时）")
    token.set_defaults(run=cmd_token)

    relay = sub.add_parser("relay", help="将封存的台账事件转发至 Kafka（cluster 配置）")
    relay.add_argument("--once", action="store_true", help="转发完现有事件后退出")
    relay.add_argument("--batch-size", type=int, default=None, help="每个 Kafka 事务的事件数（默认 5000）")
    relay.add_argument("--send-delay-ms", type=int, default=0, help=argparse.SUPPRESS)  # fault tests only: a pause per message
    relay.set_defaults(run=cmd_relay)

    project = sub.add_parser("project", help="将台账事件投影到检索索引")
    project.add_argument("--once", action="store_true", help="处理完现有事件后退出")
    project.add_argument("--rebuild", action="store_true", help="从头重建检索索引到新一代索引并原子切换别名（cluster 配置）")
    project.set_defaults(run=cmd_project)

    site = sub.add_parser("site", help="公开网站")
    site_sub = site.add_subparsers(dest="site_command", metavar="子命令")
    build = site_sub.add_parser("build", help="从台账生成公开网站")
    build.add_argument("--seq", type=int, default=None, help="截至的台账序号（默认最新）")
    build.add_argument("--incremental", action="store_true", help="只重写内容有变化的页面")
    build.set_defaults(run=cmd_site_build)

    schedule = sub.add_parser("schedule", help="记录到期事项（隐患逾期、公示期满、名单期满、等级失效），可重复运行")
    schedule.set_defaults(run=cmd_schedule)

    from services.audit.commands import add_parser as add_audit

    add_audit(sub)

    from services.ledger.register_import import FAMILIES

    imp = sub.add_parser("import", help="导入现有登记台账（CSV 或 XLSX），可先试导入（--dry-run）")
    imp.add_argument("family", choices=sorted(FAMILIES), help="决定类别：" + "、".join(f"{n}（{f.title_zh}）" for n, f in FAMILIES.items()))
    imp.add_argument("file", nargs="?", default=None, help="CSV 或 XLSX 文件")
    imp.add_argument("--template", action="store_true", help="输出该类别的空白模板（CSV 表头）")
    imp.add_argument("--dry-run", action="store_true", help="只检查、不记录，报告每一行是否可以记录及原因")
    imp.add_argument("--report", default=None, metavar="CSV", help="逐行结果写入此文件")
    imp.add_argument("--department", default="civil_affairs", help="导入人员所在部门（默认 civil_affairs）")
    imp.add_argument("--level", default="province", choices=["county", "city", "province"], help="导入人员层级（默认省级）")
    imp.add_argument("--region", default=None, help="导入人员所在行政区划代码，如 320000")
    imp.add_argument("--user", default=None, help="导入人员姓名")
    imp.set_defaults(run=cmd_import)

    rules = sub.add_parser("rules", help="规则表：全部规则（README 所载），或某地区某日适用的规则")
    rules.add_argument("--region", default=None, help="行政区划代码，如 321111（不指定则输出全表）")
    rules.add_argument("--on", default=None, metavar="YYYY-MM-DD", help="日期（默认今天）")
    rules.set_defaults(run=cmd_rules)

    schemas = sub.add_parser("schemas", help="由事件目录生成 JSON Schema")
    schemas.add_argument("--check", action="store_true", help="只检查是否一致")
    schemas.set_defaults(run=cmd_schemas)
    return _described(p)


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if not getattr(args.run, "needs_settings", True):
        return args.run(args, None)
    log_format.configure(logging.WARNING)
    try:
        settings = Settings.from_env()
    except SettingsError as error:
        print(f"配置错误：{error}", file=sys.stderr)
        return 2
    return args.run(args, settings)


if __name__ == "__main__":
    sys.exit(main())
