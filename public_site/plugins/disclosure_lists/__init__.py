"""Pelican plugin: renders the disclosure site from one snapshot file. It decides nothing about
what is on a list (projections/disclosure.py did); it lays the snapshot out as pages and downloads.

Pages: home; every list nationally and per province, city and county (paginated); a page per
region; a page per institution with its public timeline. Downloads: CSV (UTF-8 with BOM, so Excel
opens it) and JSON per list nationally and per province; an Atom feed of the latest public
decisions; a sitemap; DCAT-style dataset metadata.

Every page states the ledger position its content comes from: the seq of the last event that
changed it (the home page: the snapshot's cut). With ``DISCLOSURE_INCREMENTAL`` only pages whose
content changed since the last build are written, and pages that no longer exist are removed; a
manifest of content digests in the output directory says which is which.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections import defaultdict
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from pelican import signals
from pelican.generators import Generator

from events.checklists import CHECKLIST
from events.inspections import RESULT_NAMES
from events.regions import parents
from events.registration import NATURE_NAMES
from events.sanctions import PENALTY_TYPE_NAMES

BEIJING = timezone(timedelta(hours=8))
SNAPSHOT_FORMAT = "eldercare-disclosure-snapshot/4"
MANIFEST = ".disclosure-manifest.json"
BUILD_REPORT = ".disclosure-build.json"  # what the last build wrote
PAGE_ROWS = 500
SITE_URL = "https://ylfw.example.gov.cn/"  # where the site is published; links in the sitemap and feed

LIST_TITLES = {
    "filed": "已备案养老机构", "unfiled": "已掌握未登记备案养老机构", "graded": "等级养老机构",
    "grading_publicity": "养老机构等级评定结果公示",
    "gb38600": "符合《养老机构服务安全基本规范》（GB 38600）的养老机构",
    "gbt35796": "符合《养老机构服务质量基本规范》（GB/T 35796）的养老机构",
    "joint_punishment": "养老服务市场失信联合惩戒对象名单", "sanctions": "行政处罚信息公示",
    "inspections": "“双随机、一公开”抽查结果",
}
COLUMNS = {  # (key, header) per list; CSV and tables share them
    "filed": [("name", "机构名称"), ("region_name", "所在地区"), ("address", "地址"), ("credit_code", "统一社会信用代码"),
              ("nature_name", "营利性质"), ("ownership_type", "运营模式"), ("beds", "床位数"), ("nursing_beds", "护理型床位"),
              ("receipt_no", "备案回执编号"), ("filed_on", "备案日期"), ("status_name", "状态"), ("contact_phone", "联系电话")],
    "unfiled": [("name", "机构名称"), ("region_name", "所在地区"), ("address", "地址"), ("discovered_on", "发现日期"),
                ("handling_reason", "未登记备案原因"), ("handling_measures", "处置措施"), ("handling_referred", "抄送部门"),
                ("handling_deadline", "办结时限"), ("handling_state", "办理情况"), ("handling_person", "责任人")],
    "graded": [("name", "机构名称"), ("region_name", "所在地区"), ("address", "地址"), ("grade_name", "等级"), ("awarded_on", "授予日期"),
               ("valid_until", "有效期至"), ("awarded_by", "授予机关"), ("credit_code", "统一社会信用代码")],
    "grading_publicity": [("name", "机构名称"), ("region_name", "所在地区"), ("address", "地址"), ("level_name", "拟评定等级"),
                          ("period", "公示期"), ("authority", "评定机关"), ("objection_channel", "异议受理方式"),
                          ("objections_text", "异议受理和处理情况")],
    "gb38600": [("name", "机构名称"), ("region_name", "所在地区"), ("address", "地址"), ("credit_code", "统一社会信用代码")],
    "gbt35796": [("name", "机构名称"), ("region_name", "所在地区"), ("address", "地址"), ("credit_code", "统一社会信用代码")],
    "joint_punishment": [("name", "机构名称"), ("region_name", "所在地区"), ("credit_code", "统一社会信用代码"), ("ground", "列入事由"),
                         ("persons_text", "相关责任人"), ("authority", "决定机关"), ("document_no", "决定文号"), ("legal_basis", "依据"),
                         ("decided_on", "列入日期"), ("expires_on", "期满日期"), ("repair_route", "异议与信用修复")],
    "sanctions": [("name", "当事人"), ("credit_code", "统一社会信用代码"), ("decision_no", "决定书文号"), ("violation_type", "违法行为类型"),
                  ("facts", "违法事实"), ("penalty_text", "处罚内容"), ("legal_basis", "处罚依据"), ("deciding_authority", "决定机关"),
                  ("decided_on", "决定日期"), ("remedies", "救济途径和期限"), ("publish_until", "公示截止")],
    "inspections": [("name", "被检查机构"), ("region_name", "所在地区"), ("plan", "抽查计划"), ("departments_text", "检查部门"),
                    ("conducted_on", "检查日期"), ("items_text", "检查项目及结论"), ("public_summary", "检查结果"), ("published_on", "公开日期")],
}
GRADE = {1: "一级", 2: "二级", 3: "三级", 4: "四级", 5: "五级"}
DEPARTMENTS = {
    "civil_affairs": "民政", "fire_rescue": "消防救援", "market_regulation": "市场监管", "health": "卫生健康",
    "housing": "住房城乡建设", "emergency": "应急管理", "tcm": "中医药", "hr": "人力资源社会保障",
}


def in_words(iso: str | None) -> str:
    """A moment as a person says it: 2026年12月1日 19:13 (Beijing time)."""
    if not iso:
        return "（尚无记录）"
    moment = datetime.fromisoformat(iso).astimezone(BEIJING)
    return f"{moment.year}年{moment.month}月{moment.day}日 {moment:%H:%M}"


def beijing_time(iso: str | None) -> str:
    if not iso:
        return "（台账为空）"
    return datetime.fromisoformat(iso).astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")


def _cells(list_name: str, row: dict[str, Any]) -> dict[str, Any]:
    """Row values as displayed (derived display fields added)."""
    handling = row.get("profile", {}).get("handling") or row.get("handling") or {}
    return {
        **row,
        "nature_name": NATURE_NAMES.get(row.get("nature", ""), ""),
        "grade_name": GRADE.get(row.get("grade_level") or 0, ""),
        "level_name": GRADE.get(row.get("level") or 0, ""),
        "period": f"{row['started_on']} 至 {row['ends_on']}" if row.get("started_on") else "",
        "objections_text": (f"已受理 {row['objections_received']} 件，已处理 {row['objections_handled']} 件"
                            if row.get("objections_received") else "未收到异议") if list_name == "grading_publicity" else "",
        "handling_reason": handling.get("reason", ""), "handling_measures": handling.get("measures", ""),
        "handling_referred": "、".join(DEPARTMENTS[d] for d in handling.get("referred_to", [])),
        "handling_deadline": handling.get("deadline", ""), "handling_person": handling.get("responsible_person", ""),
        "handling_state": (f"逾期未办结（{row['handling_overdue_since']} 起）" if row.get("handling_overdue_since")
                           else "办理中" if handling else ""),
        "persons_text": "、".join(f"{p['name']}（{p['role']}）" for p in row.get("persons", [])),
        "repair_route": (f"对列入决定不服的，可依法申请行政复议或提起行政诉讼；自 {row['early_removal_from']} 起未再发生失信行为的，"
                         f"可向{row.get('authority') or '作出决定的部门'}申请提前移出（信用修复）") if row.get("early_removal_from") else "",
        "departments_text": "、".join(row.get("departments", [])),
        "items_text": "；".join(f"{CHECKLIST[f['checklist_ref']].title_zh if f['checklist_ref'] in CHECKLIST else f['checklist_ref']}："
                               f"{RESULT_NAMES.get(f['result'], f['result'])}" for f in row.get("findings", [])),
        "penalty_text": "；".join(PENALTY_TYPE_NAMES[p["type"]] + (f" {p['amount']} 元" if p.get("amount") else "") for p in row.get("penalties", [])),
    }


def _stamp(position: dict[str, Any]) -> dict[str, Any]:
    """A ledger position as a page states it: seq, Beijing time and the event's hash."""
    return {"seq": position["seq"], "hash": position["hash"], "beijing_time": beijing_time(position["recorded_at"]),
            "words": in_words(position["recorded_at"])}


def search_terms(name: str) -> str:
    """Every two-character run of a name, space-separated: Pagefind matches whole words after its
    own Chinese segmentation, so indexing the bigrams lets a two-character query like 颐和 find
    颐和颐养中心 whichever way the name was segmented."""
    chars = [c for c in name if not c.isspace()]
    return " ".join("".join(chars[i : i + 2]) for i in range(len(chars) - 1))


def _digest(data: Any) -> str:
    return hashlib.sha256(json.dumps(data, ensure_ascii=False, sort_keys=True, default=str).encode()).hexdigest()


def _root(path: str) -> str:
    return "../" * path.count("/")


class DisclosureGenerator(Generator):
    def generate_context(self) -> None:
        path = Path(self.settings["DISCLOSURE_SNAPSHOT"])
        snapshot = json.loads(path.read_text(encoding="utf-8"))
        if snapshot.get("format") != SNAPSHOT_FORMAT:
            raise ValueError(f"{path} is not a {SNAPSHOT_FORMAT} file")
        self.snapshot = snapshot
        cut = snapshot["cut"]
        self.context.update(
            cut=dict(cut, beijing_time=beijing_time(cut["recorded_at"])), regions=snapshot["regions"],
            updated_words=in_words(cut["recorded_at"]),
            list_titles=LIST_TITLES, columns=COLUMNS, departments=DEPARTMENTS, grades=GRADE,
        )

    # --- page plan ------------------------------------------------------------------------------

    def _pages(self) -> list[tuple[str, str, dict[str, Any]]]:
        """Every page as (output path, template, page data). The data is all the page shows."""
        snapshot = self.snapshot
        lists, institutions, regions = snapshot["lists"], snapshot["institutions"], snapshot["regions"]
        pages: list[tuple[str, str, dict[str, Any]]] = []
        by_region: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
        for list_name, rows in lists.items():
            for row in rows:
                for code in parents(row["region_code"]):
                    by_region[code][list_name].append(row)
        counts = {name: len(rows) for name, rows in lists.items()}
        provinces = sorted(c for c in regions if c.endswith("0000"))
        pages.append(("index.html", "home", {
            "counts": counts, "provinces": [(c, regions[c]["name"], sum(len(v) for v in by_region[c].values())) for c in provinces],
            "stamp": _stamp(snapshot["cut"]),
        }))
        for list_name, rows in lists.items():
            pages += self._list_pages(f"lists/{list_name}", list_name, rows, None)
        pages.append(("draws/index.html", "draws", {"draws": snapshot["draws"], "stamp": _stamp(snapshot["cut"])}))
        for code in sorted(regions):
            children = sorted(c for c in regions if c != code and parents(c)[:-1] and parents(c)[-2] == code)
            region_lists = by_region.get(code, {})
            stamp = _stamp(snapshot["cut"])  # one cut per build: every list and region page states it
            pages.append((f"regions/{code}/index.html", "region", {
                "code": code, "region": regions[code], "trail": [(c, regions[c]["name"]) for c in parents(code) if c in regions],
                "counts": {name: len(region_lists.get(name, [])) for name in LIST_TITLES},
                "children": [(c, regions[c]["name"], sum(len(v) for v in by_region.get(c, {}).values())) for c in children],
                "stamp": stamp,
            }))
            for list_name, rows in region_lists.items():
                pages += self._list_pages(f"regions/{code}/{list_name}", list_name, rows, code)
        timelines = snapshot["timelines"]
        for iid, institution in institutions.items():
            entries = timelines.get(iid, [])
            pages.append((f"institutions/{iid}.html", "institution", {
                "institution": institution, "timeline": entries, "search_terms": search_terms(institution["name"]),
                "stamp": _stamp(institution["page_stamp"]),
            }))
        return pages

    def _list_pages(self, base: str, list_name: str, rows: list[dict[str, Any]], region: str | None) -> list[tuple[str, str, dict[str, Any]]]:
        chunks = [rows[i : i + PAGE_ROWS] for i in range(0, len(rows), PAGE_ROWS)] or [[]]
        pages = []
        for number, chunk in enumerate(chunks, start=1):
            path = f"{base}/index.html" if number == 1 else f"{base}/page-{number}.html"
            trail = [(c, self.snapshot["regions"][c]["name"]) for c in parents(region) if c in self.snapshot["regions"]] if region else []
            pages.append((path, "list", {
                "list_name": list_name, "region": region, "trail": trail, "rows": [_cells(list_name, r) for r in chunk], "total": len(rows),
                "page": number, "pages": len(chunks), "base": base, "stamp": _stamp(self.snapshot["cut"]),
            }))
        return pages

    # --- downloads ------------------------------------------------------------------------------

    def _downloads(self) -> dict[str, bytes]:
        lists, regions = self.snapshot["lists"], self.snapshot["regions"]
        files: dict[str, bytes] = {}
        scopes = [("downloads", None)] + [(f"regions/{c}", c) for c in sorted(regions) if c.endswith("0000")]
        for folder, province in scopes:
            for list_name, rows in lists.items():
                chosen = [r for r in rows if province is None or r["region_code"].startswith(province[:2])]
                files[f"{folder}/{list_name}.csv"] = _csv(list_name, chosen)
                files[f"{folder}/{list_name}.json"] = (json.dumps({
                    "list": list_name, "title": LIST_TITLES[list_name], "region": province, "cut": self.snapshot["cut"], "rows": chosen,
                }, ensure_ascii=False, sort_keys=True, indent=1) + "\n").encode()
        for drawn in self.snapshot["draws"]:
            if "inputs" in drawn:  # what events/draw.py needs to re-run the draw, once its inspections are done
                files[f"draws/{drawn['plan_id']}.json"] = (json.dumps(drawn["inputs"], ensure_ascii=False, sort_keys=True, indent=1) + "\n").encode()
        files["feeds/changes.atom"] = self._atom()
        files["robots.txt"] = f"User-agent: *\nAllow: /\nSitemap: {SITE_URL}sitemap.xml\n".encode()
        files["dataset.json"] = self._dataset()
        return files

    def _atom(self) -> bytes:
        entries = sorted((e | {"institution": iid} for iid, t in self.snapshot["timelines"].items() for e in t),
                         key=lambda e: e["seq"], reverse=True)[:100]
        names = {iid: i["name"] for iid, i in self.snapshot["institutions"].items()}
        updated = self.snapshot["cut"]["recorded_at"] or "1970-01-01T00:00:00+00:00"
        items = "".join(
            f"<entry><id>urn:eldercare:seq:{e['seq']}</id><title>{escape(names[e['institution']])}：{escape(e['title'])}</title>"
            f"<updated>{e['date']}T00:00:00+08:00</updated><link href=\"{SITE_URL}institutions/{e['institution']}.html\"/>"
            f"<summary>{escape(DEPARTMENTS[e['department']])}部门，文书 {escape(e['document_no'])}，台账第 {e['seq']} 号事件</summary></entry>"
            for e in entries
        )
        # RFC 4287: a feed names its author and itself (rel="self")
        return (f'<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="zh-CN">'
                f"<id>urn:eldercare:disclosure</id><title>养老机构监管信息公开：最新公开决定</title><updated>{updated}</updated>"
                f"<author><name>{escape(self.settings.get('AUTHOR', '养老机构综合监管部门'))}</name></author>"
                f'<link rel="self" type="application/atom+xml" href="{SITE_URL}feeds/changes.atom"/>'
                f'<link rel="alternate" type="text/html" href="{SITE_URL}"/>{items}</feed>\n').encode()

    def _dataset(self) -> bytes:
        cut = self.snapshot["cut"]
        distributions = [
            {"@type": "dcat:Distribution", "dct:title": f"{LIST_TITLES[name]}（{fmt.upper()}）", "dcat:downloadURL": f"{SITE_URL}downloads/{name}.{fmt}",
             "dcat:mediaType": {"csv": "text/csv", "json": "application/json"}[fmt]}
            for name in LIST_TITLES for fmt in ("csv", "json")
        ]
        dataset = {
            "@context": {"dcat": "http://www.w3.org/ns/dcat#", "dct": "http://purl.org/dc/terms/"},
            "@type": "dcat:Dataset", "dct:title": "养老机构监管信息公开数据", "dct:language": "zh-CN",
            "dct:publisher": "养老机构综合监管部门", "dct:modified": cut["recorded_at"],
            "dct:description": f"由监管台账第 {cut['seq']} 号事件（校验值 {cut['hash']}）生成的公开名单。",
            "dct:identifier": f"urn:eldercare:disclosure:{cut['seq']}:{cut['hash']}",
            "dcat:distribution": distributions,
        }
        return (json.dumps(dataset, ensure_ascii=False, sort_keys=True, indent=1) + "\n").encode()

    # --- output ---------------------------------------------------------------------------------

    def generate_output(self, writer) -> None:
        output = Path(self.output_path)
        manifest_path = output / MANIFEST
        incremental = bool(self.settings.get("DISCLOSURE_INCREMENTAL")) and manifest_path.exists()
        previous = json.loads(manifest_path.read_text()) if incremental else {}
        current: dict[str, str] = {}
        written = 0
        for path, template, data in self._pages():
            digest = _digest([template, data])
            current[path] = digest
            if previous.get(path) == digest:
                continue
            writer.write_file(path, self.get_template(template), self.context, relative_urls=False,
                              root=_root(path), page_path=path, **data)
            written += 1
        sitemap_urls = sorted(p for p in current if p.endswith(".html"))
        files = self._downloads()
        files["sitemap.xml"] = _sitemap(sitemap_urls, self.snapshot["cut"]["recorded_at"])
        for path, content in files.items():
            digest = hashlib.sha256(content).hexdigest()
            current[path] = digest
            if previous.get(path) == digest:
                continue
            target = output / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
            written += 1
        for stale in set(previous) - set(current):
            (output / stale).unlink(missing_ok=True)
        manifest_path.write_text(json.dumps(current, sort_keys=True, indent=0) + "\n")
        (output / BUILD_REPORT).write_text(json.dumps({"written": written, "files": len(current)}) + "\n")


def _csv(list_name: str, rows: list[dict[str, Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([header for _, header in COLUMNS[list_name]])
    for row in rows:
        cells = _cells(list_name, row)
        writer.writerow([cells.get(key, "") if cells.get(key) is not None else "" for key, _ in COLUMNS[list_name]])
    return "\ufeff".encode() + buffer.getvalue().encode("utf-8")


def _sitemap(paths: list[str], cut_at: str | None) -> bytes:
    lastmod = f"<lastmod>{datetime.fromisoformat(cut_at).astimezone(BEIJING).isoformat(timespec='seconds')}</lastmod>" if cut_at else ""
    urls = "".join(f"<url><loc>{SITE_URL}{escape(p)}</loc>{lastmod}</url>" for p in paths)
    return f'<?xml version="1.0" encoding="utf-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>\n'.encode()


def get_generators(pelican_object):
    return DisclosureGenerator


def register() -> None:
    signals.get_generators.connect(get_generators)
