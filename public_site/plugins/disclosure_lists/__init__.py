"""Pelican plugin: renders the disclosure site from one snapshot file. It decides nothing about
what is on a list (projections/disclosure.py did); it lays the snapshot out as pages and downloads.

Pages: home; every list nationally and per province, city and county (paginated); a page per
region; a page per institution with its public timeline. Downloads: CSV (UTF-8 with BOM, so Excel
opens it) and JSON per list nationally and per province; an Atom feed of the latest public
decisions; a sitemap; DCAT-style dataset metadata.

Every page states the ledger position its content comes from: the seq of the last event that
changed it (the home page: the snapshot's cut). With ``DISCLOSURE_INCREMENTAL`` only pages whose
content changed since the last build are written, and pages that no longer exist are removed; a
manifest in the output directory says which is which: each page's digest of its data, each
download's of what it is made from (its rows, a feed's entries), all of them also of what made them
(``_made_by``: the plugin, theme, texts, region names and publisher). A file that differs by the
cut alone gets the new cut written over the old in place.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import io
import json
import os
import sys
import traceback
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import orjson
from markupsafe import Markup
from markupsafe import escape as markup_escape
from pelican import signals
from pelican.generators import Generator

from events.checklists import CHECKLIST
from events.inspections import RESULT_NAMES
from events.name_keys import index_words, pinyin_keys
from events.regions import DATA as regions_table
from events.regions import parents
from events.registration import NATURE_NAMES
from events.sanctions import PENALTY_TYPE_NAMES
from public_site import search_shards
from public_site.charts import Bar, bar_chart

RENDERED_WITH = ("events.checklists", "events.inspections", "events.name_keys", "events.regions", "events.registration",
                 "events.sanctions")  # the modules whose names and words the pages show

BEIJING = timezone(timedelta(hours=8))
SNAPSHOT_FORMAT = "eldercare-disclosure-snapshot/5"
MANIFEST = ".disclosure-manifest.json"
BUILD_REPORT = ".disclosure-build.json"  # what the last build wrote
CUT_KEY = ".cut"  # the manifest's entry for the cut the last build's pages state
PATCH_WINDOW = 65536  # the ledger-stamp fragment is within a page's first bytes (after the header)
PATCH_FIRST = 8192  # where it is on every page today (about 1.7 KB in): read first, the rest of the window only if needed
PAGE_PATH_MARK = "\x00page-path\x00"  # stands for the page's path while the fragment is rendered once for many pages
PAGE_ROWS = 500
PARALLEL_FROM, PARALLEL_WORKERS = 5000, 2  # pages to render before the build shares them out to processes

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


FEED_ENTRIES = 100
FEED_LISTS = {  # which list's feed a public decision belongs to
    "InstitutionFiled": "filed", "InstitutionChangeFiled": "filed", "InstitutionDiscovered": "unfiled",
    "GradeAwarded": "graded", "GradeDowngraded": "graded", "GradeRevoked": "graded", "GradeLapsed": "graded",
    "GradingPublicityStarted": "grading_publicity", "GradingObjectionReceived": "grading_publicity",
    "GradingObjectionHandled": "grading_publicity", "GradingPublicityClosed": "grading_publicity",
    "CreditListingPublished": "joint_punishment", "PenaltyPublished": "sanctions", "PenaltyPublicationWithdrawn": "sanctions",
    "InspectionResultPublished": "inspections",
}


def feed_list(entry: dict[str, Any]) -> str | None:
    if entry["event_type"] == "ComplianceAssessed":
        return {"GB 38600": "gb38600", "GB/T 35796": "gbt35796"}.get(entry["details"].get("standard", ""))
    return FEED_LISTS.get(entry["event_type"])


def beijing_iso(iso: str | None) -> str:
    """An RFC 3339 date-time in Beijing time (the feed's and sitemap's dates)."""
    if not iso:
        return "1970-01-01T08:00:00+08:00"
    return datetime.fromisoformat(iso).astimezone(BEIJING).isoformat(timespec="seconds")


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


def charts(code: str | None, region_lists: dict[str, list[dict[str, Any]]], campaigns: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A region's (or the nation's) pictures: how its homes stand on the lists, its grades, and its
    campaign targets against what the ledger shows. Each with its bars, for the table beside it."""
    count = {name: len({r["id"] for r in region_lists.get(name, [])}) for name in LIST_TITLES}
    filed, known = count["filed"], count["filed"] + count["unfiled"]
    out = [{"id": f"standing-{code or 'all'}", "title": "养老机构备案、达标和等级评定情况", "bars": [
        Bar("已备案", filed, known), Bar("符合 GB 38600", count["gb38600"], filed),
        Bar("符合 GB/T 35796", count["gbt35796"], filed), Bar("已评定等级", count["graded"], filed)]}]
    levels = [sum(1 for r in region_lists.get("graded", []) if r.get("grade_level") == level) for level in GRADE]
    if any(levels):
        out.append({"id": f"grades-{code or 'all'}", "title": "等级养老机构的等级分布",
                    "bars": [Bar(GRADE[level], n, count["graded"]) for level, n in zip(GRADE, levels)]})
    for campaign in campaigns:
        if campaign["region"] == code:
            out.append({"id": f"targets-{code}-{campaign['year']}", "title": f"{campaign['year']}年工作目标完成情况（截至 {campaign['as_of']}）",
                        "bars": [Bar(m["name_zh"], m["count"], m["of"], (m["target"] or {}).get("target_percent"))
                                 for m in campaign["metrics"]],
                        "sources": sorted({m["target"]["source"] for m in campaign["metrics"] if m["target"]})})
    for chart in out:
        chart["svg"] = bar_chart(chart["id"], chart["title"], chart["bars"])
    return out


def compare_facts(institution: dict[str, Any]) -> dict[str, Any]:
    """What the comparison page sets side by side, as (label, value, is a warning) rows. It is read
    from the institution's own page, so the comparison can never say more or other than the page."""
    on = set(institution.get("on_lists", []))
    grade = institution.get("grade")
    hazards = (institution.get("open_hazards") or {}).get("major", 0)
    yes_no = {True: "符合", False: "未列入符合名单"}
    rows = [
        ("所在地区", institution["region_name"], False),
        ("备案", "未办理备案" if institution["status"] == "discovered" else institution["status_name"], institution["status"] == "discovered"),
        ("等级", f"{GRADE[grade['level']]}（有效期至 {grade['valid_until']}）" if grade else "未评定", False),
        ("床位数", str(institution["beds"]) if institution.get("beds") else "—", False),
        ("护理型床位", str(institution["nursing_beds"]) if institution.get("nursing_beds") is not None and institution.get("beds") else "—", False),
        ("服务安全（GB 38600）", yes_no["gb38600" in on], False),
        ("服务质量（GB/T 35796）", yes_no["gbt35796" in on], False),
        ("失信联合惩戒对象名单", "已列入" if "joint_punishment" in on else "未列入", "joint_punishment" in on),
        ("行政处罚公示", "有处罚正在公示" if "sanctions" in on else "无", "sanctions" in on),
        ("重大安全隐患", f"{hazards} 项未整改销账" if hazards else "无", bool(hazards)),
        ("最近一次检查", institution.get("last_inspection_on") or "本站无公开记录", False),
    ]
    return {"id": institution["id"], "name": institution["name"], "rows": rows}


def _stamp(position: dict[str, Any]) -> dict[str, Any]:
    """A ledger position as a page states it: seq, Beijing time and the event's hash (one dict per
    position: every list and region page states the cut; never changed by a page)."""
    return _stamp_of(position["seq"], position["hash"], position["recorded_at"])


@functools.lru_cache(maxsize=65536)
def _stamp_of(seq: int, hash_: str, recorded_at: str | None) -> dict[str, Any]:
    return {"seq": seq, "hash": hash_, "beijing_time": beijing_time(recorded_at), "words": in_words(recorded_at)}


def _digest(data: Any) -> str:
    """A page's data, digested to tell whether the page changed since the last build (manifest)."""
    return hashlib.sha256(orjson.dumps(data, default=str, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)).hexdigest()


def _made_by(settings: dict[str, Any]) -> str:
    """What a page is made by besides its data: this plugin, the theme, the pages' texts, the
    settings, the modules (and the region table) whose names the pages show, and who publishes the
    site. Part of every digest in the manifest, so that an incremental build after any of them
    changed (a new release, another publisher's name) makes every page and download again, and
    re-indexes every province, instead of keeping what the old ones made. Only the files the build
    reads, line endings as checked out anywhere: a stray editor file changes nothing."""
    digest = hashlib.sha256(SNAPSHOT_FORMAT.encode())
    site_folder = Path(settings["THEME"]).resolve().parent  # public_site
    sources = [Path(settings["THEME"]).resolve(), Path(settings["PATH"]).resolve(), site_folder / "pelicanconf.py",
               site_folder / "charts.py", Path(__file__).resolve(), *(Path(sys.modules[name].__file__) for name in RENDERED_WITH),
               regions_table]
    for source in sources:
        for file in sorted(source.rglob("*")) if source.is_dir() else [source]:
            if file.is_file() and not file.name.startswith(".") and not file.name.endswith(("~", ".swp", ".pyc")):
                digest.update(f"{file.relative_to(source.parent)}\0".encode() + file.read_bytes().replace(b"\r\n", b"\n") + b"\0")
    digest.update(orjson.dumps([settings["DISCLOSURE_SITE"], settings["SITENAME"], settings["SITEURL"]],
                               option=orjson.OPT_SORT_KEYS, default=str))
    return digest.hexdigest()


def _root(path: str) -> str:
    return "../" * path.count("/")


class DisclosureGenerator(Generator):
    def generate_context(self) -> None:
        snapshot = self.settings.get("DISCLOSURE_SNAPSHOT_DATA")  # handed over by the caller that made it
        source = "the snapshot given"
        if snapshot is None:
            path = Path(self.settings["DISCLOSURE_SNAPSHOT"])
            snapshot, source = orjson.loads(path.read_bytes()), str(path)
        if snapshot.get("format") != SNAPSHOT_FORMAT:
            raise ValueError(f"{source} is not a {SNAPSHOT_FORMAT} snapshot")
        self.snapshot = snapshot
        self._fragments: dict[tuple[str, bytes], tuple[bytes, bytes] | None] = {}  # _stamp_fragment's
        self.site = self.settings["DISCLOSURE_SITE"]  # public_site/identity.py: who publishes it and where
        self.site_name = self.settings["SITENAME"]
        self.made_by = _made_by(self.settings)
        self.names = {iid: i["name"] for iid, i in snapshot["institutions"].items()}
        self.by_region: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
        for list_name, rows in snapshot["lists"].items():
            for row in rows:
                for code in parents(row["region_code"]):
                    self.by_region[code][list_name].append(row)
        cut = snapshot["cut"]
        self.context.update(
            cut=dict(cut, beijing_time=beijing_time(cut["recorded_at"])), regions=snapshot["regions"],
            updated_words=in_words(cut["recorded_at"]),
            site=self.site, list_titles=LIST_TITLES,
            province_options=_options([(c, snapshot["regions"][c]["name"]) for c in sorted(snapshot["regions"]) if c.endswith("0000")], "全部地区"),
            list_options=_options(list(LIST_TITLES.items()), "全部名单"),
            columns=COLUMNS, departments=DEPARTMENTS, grades=GRADE,
        )

    # --- page plan ------------------------------------------------------------------------------

    def _pages(self) -> list[tuple[str, str, dict[str, Any]]]:
        """Every page as (output path, template, page data). The data is all the page shows."""
        snapshot = self.snapshot
        lists, institutions, regions = snapshot["lists"], snapshot["institutions"], snapshot["regions"]
        pages: list[tuple[str, str, dict[str, Any]]] = []
        by_region = self.by_region
        counts = {name: len(rows) for name, rows in lists.items()}
        provinces = sorted(c for c in regions if c.endswith("0000"))
        homes: dict[str, int] = defaultdict(int)  # institutions (not list entries) per region
        for institution in institutions.values():
            for code in parents(institution["region_code"]):
                homes[code] += 1
        pages.append(("index.html", "home", {
            "counts": counts, "provinces": [(c, regions[c]["name"], homes[c]) for c in provinces],
            "charts": charts(None, lists, snapshot["campaigns"]),
            "stamp": _stamp(snapshot["cut"]),
        }))
        for list_name, rows in lists.items():
            pages += self._list_pages(f"lists/{list_name}", list_name, rows, None)
        pages.append(("compare.html", "compare", {"stamp": _stamp(snapshot["cut"])}))
        pages.append(("search.html", "search-page", {"stamp": _stamp(snapshot["cut"])}))
        pages.append(("draws/index.html", "draws", {"draws": snapshot["draws"], "stamp": _stamp(snapshot["cut"])}))
        children_of: dict[str, list[str]] = defaultdict(list)
        for child in sorted(regions):
            path = parents(child)
            if len(path) > 1:
                children_of[path[-2]].append(child)
        for code in sorted(regions):
            children = children_of.get(code, [])
            region_lists = by_region.get(code, {})
            stamp = _stamp(snapshot["cut"])  # one cut per build: every list and region page states it
            pages.append((f"regions/{code}/index.html", "region", {
                "code": code, "region": regions[code], "trail": [(c, regions[c]["name"]) for c in parents(code) if c in regions],
                "counts": {name: len(region_lists.get(name, [])) for name in LIST_TITLES},
                "children": [(c, regions[c]["name"], homes[c]) for c in children], "homes": homes[code],
                "charts": charts(code, region_lists, snapshot["campaigns"]),
                "stamp": stamp,
            }))
            for list_name, rows in region_lists.items():
                pages += self._list_pages(f"regions/{code}/{list_name}", list_name, rows, code)
        timelines = snapshot["timelines"]
        for iid, institution in institutions.items():
            entries = timelines.get(iid, [])
            pages.append((f"institutions/{iid}.html", "institution", {
                "institution": institution, "timeline": entries,
                "compare": compare_facts(institution),
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
                "list_name": list_name, "region": region, "trail": trail, "rows": chunk, "total": len(rows),
                "page": number, "pages": len(chunks), "base": base, "stamp": _stamp(self.snapshot["cut"]),
            }))
        return pages

    # --- downloads ------------------------------------------------------------------------------

    def _downloads(self) -> dict[str, Download]:
        """Every list as CSV and JSON nationally and for each province, city and county holding any of
        it; Atom feeds of the latest public decisions nationally, per list and per region; the
        draws' inputs; robots.txt and the dataset description. Each keyed by what it is made from
        (``Download``): a build makes only those whose key changed since the last."""
        lists, regions = self.snapshot["lists"], self.snapshot["regions"]
        files: dict[str, Download] = {}
        scopes: list[tuple[str, str | None, dict[str, list[dict[str, Any]]]]] = [("downloads", None, lists)]
        scopes += [(f"regions/{code}", code, self.by_region[code]) for code in sorted(regions) if code in self.by_region]
        # A row sits in the national file and in its province's, city's and county's: it is encoded
        # once for the keys, and rendered (as a CSV line, as JSON) once, only if a file holding it is made.
        encoded = {name: {id(r): orjson.dumps(r, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS, default=str) for r in rows}
                   for name, rows in lists.items()}
        csv_lines: dict[str, dict[int, str]] = defaultdict(dict)
        json_rows: dict[str, dict[int, str]] = defaultdict(dict)

        def csv_file(list_name: str, rows: list[dict[str, Any]]) -> bytes:
            made = csv_lines[list_name]
            lines = [made.get(id(r)) or made.setdefault(id(r), _csv_line(list_name, r)) for r in rows]
            return "\ufeff".encode() + (_csv_line(list_name, None) + "".join(lines)).encode()

        def json_rest(list_name: str, rows: list[dict[str, Any]]) -> bytes:
            made = json_rows[list_name]
            body = ",\n".join(made.get(id(r)) or made.setdefault(id(r), json.dumps(r, ensure_ascii=False, sort_keys=True)) for r in rows)
            return f',"rows":[\n{body}\n]}}\n'.encode()

        for folder, region, region_lists in scopes:
            for list_name, rows in region_lists.items():
                if region is not None and not rows:
                    continue
                rows_key = hashlib.sha256(self.made_by.encode() + b"\x1e" + b"\x1e".join(encoded[list_name][id(r)] for r in rows))
                files[f"{folder}/{list_name}.csv"] = Download("rows:" + rows_key.hexdigest(), functools.partial(csv_file, list_name, rows))
                head = json.dumps({"list": list_name, "title": LIST_TITLES[list_name], "region": region}, ensure_ascii=False, sort_keys=True)
                before = f'{head[:-1]},"cut":'.encode()
                rows_key.update(b"\x1e" + before)  # and what the JSON states before the cut
                files[f"{folder}/{list_name}.json"] = Download("rows:" + rows_key.hexdigest(), functools.partial(json_rest, list_name, rows),
                                                               before, "json")
        for drawn in self.snapshot["draws"]:
            if "inputs" in drawn:  # what events/draw.py needs to re-run the draw, once its inspections are done
                files[f"draws/{drawn['plan_id']}.json"] = Download.of((json.dumps(drawn["inputs"], ensure_ascii=False, sort_keys=True, indent=1) + "\n").encode())
        files.update(self._feeds())
        files["robots.txt"] = Download.of(f"User-agent: *\nAllow: /\nSitemap: {self.site['site_url']}sitemap.xml\n".encode())
        files["dataset.json"] = Download.of(self._dataset())
        return files

    def _feeds(self) -> dict[str, Download]:
        """The latest public decisions, newest first: all of them, each list's, each region's."""
        institutions = self.snapshot["institutions"]
        entries = sorted((e | {"institution": iid} for iid, t in self.snapshot["timelines"].items() for e in t),
                         key=lambda e: e["seq"], reverse=True)
        by_list: dict[str, list[dict[str, Any]]] = defaultdict(list)
        by_region: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for entry in entries:
            listed = feed_list(entry)
            if listed and len(by_list[listed]) < FEED_ENTRIES:
                by_list[listed].append(entry)
            for code in parents(institutions[entry["institution"]]["region_code"]):
                if len(by_region[code]) < FEED_ENTRIES:
                    by_region[code].append(entry)
        feeds = {"feeds/changes.atom": self._atom("feeds/changes.atom", "最新公开决定", entries[:FEED_ENTRIES], "index.html")}
        for list_name in LIST_TITLES:
            feeds[f"feeds/{list_name}.atom"] = self._atom(f"feeds/{list_name}.atom", f"{LIST_TITLES[list_name]}的最新变化",
                                                          by_list.get(list_name, []), f"lists/{list_name}/index.html")
        for code, chosen in sorted(by_region.items()):  # every region of an institution is one of the site's regions
            feeds[f"regions/{code}/changes.atom"] = self._atom(f"regions/{code}/changes.atom", f"{self.snapshot['regions'][code]['full_name']}最新公开决定",
                                                               chosen, f"regions/{code}/index.html")
        return feeds

    def _atom(self, path: str, title: str, entries: list[dict[str, Any]], alternate: str) -> Download:
        """An RFC 4287 feed: it names its author and itself (rel="self"); every entry links to the
        institution's page and says which department decided it, under which document. Its
        ``<updated>`` is the cut's time; the rest is keyed by its entries and the names they show."""
        site_url, names = self.site["site_url"], self.names

        def rest() -> bytes:
            items = "".join(
                f"<entry><id>urn:eldercare:seq:{e['seq']}</id><title>{escape(names[e['institution']])}：{escape(e['title'])}</title>"
                f"<updated>{e['date']}T00:00:00+08:00</updated><link href=\"{site_url}institutions/{e['institution']}.html\"/>"
                f"<summary>{escape(DEPARTMENTS[e['department']])}部门，文书 {escape(e['document_no'])}，台账第 {e['seq']} 号事件</summary></entry>"
                for e in entries
            )
            return (f"</updated><author><name>{escape(self.site['publisher'])}</name></author>"
                    f'<link rel="self" type="application/atom+xml" href="{site_url}{escape(path)}"/>'
                    f'<link rel="alternate" type="text/html" href="{site_url}{escape(alternate)}"/>'
                    f"<rights>{escape(self.site['licence'])}</rights>{items}</feed>\n").encode()

        before = (f'<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="zh-CN">'
                  f"<id>urn:eldercare:disclosure:{escape(path)}</id><title>{escape(self.site_name)}：{escape(title)}</title><updated>").encode()
        key = hashlib.sha256(orjson.dumps([self.made_by, before.decode(), alternate, [[e, names[e["institution"]]] for e in entries]],
                                          option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS, default=str)).hexdigest()
        return Download("entries:" + key, rest, before, "atom")

    def _dataset(self) -> bytes:
        cut, site_url = self.snapshot["cut"], self.site["site_url"]
        distributions = [
            {"@type": "dcat:Distribution", "dct:title": f"{LIST_TITLES[name]}（{fmt.upper()}）", "dcat:downloadURL": f"{site_url}downloads/{name}.{fmt}",
             "dcat:mediaType": {"csv": "text/csv", "json": "application/json"}[fmt], "dct:license": {"@id": self.site["licence_url"]}}
            for name in LIST_TITLES for fmt in ("csv", "json")
        ]
        dataset = {
            "@context": {"dcat": "http://www.w3.org/ns/dcat#", "dct": "http://purl.org/dc/terms/", "foaf": "http://xmlns.com/foaf/0.1/",
                         "vcard": "http://www.w3.org/2006/vcard/ns#"},
            "@type": "dcat:Dataset", "dct:title": "养老机构监管信息公开数据", "dct:language": "zh-CN",
            "dct:publisher": {"@type": "foaf:Agent", "foaf:name": self.site["publisher"]},
            "dcat:contactPoint": {"@type": "vcard:Organization", "vcard:fn": self.site["publisher"],
                                  "vcard:hasURL": self.site["corrections_url"], "vcard:note": self.site["contact"]},
            "dct:license": {"@id": self.site["licence_url"], "dct:title": self.site["licence"]},
            "dcat:landingPage": site_url, "dct:modified": cut["recorded_at"],
            "dct:description": f"由监管台账第 {cut['seq']} 号事件（校验值 {cut['hash']}）生成的公开名单，按全国、省、市、县分别提供下载。",
            "dct:identifier": f"urn:eldercare:disclosure:{cut['seq']}:{cut['hash']}",
            "dcat:distribution": distributions,
        }
        return (json.dumps(dataset, ensure_ascii=False, sort_keys=True, indent=1) + "\n").encode()

    # --- output ---------------------------------------------------------------------------------

    def _render(self, writer, plan: list[tuple[str, str, dict[str, Any]]], workers: int,
                moved_cut: dict[str, dict[str, Any]]) -> int:
        """Render and write the pages of ``plan``. A large build shares them out to forked worker
        processes (rendering is CPU-bound and the build otherwise uses one core), a province's
        region pages to one worker, so that each list row is made once for its province's, city's
        and county's pages (``_RowCache``); each page is a pure function of its data, so the output is
        the same however it is shared. A page in ``moved_cut`` (path: the cut it stated) differs from
        the one on disk by the cut alone, and gets the new one patched in (``_patch``). Returns how
        many pages were patched."""
        output = Path(self.output_path)

        def render(share: list[tuple[str, str, dict[str, Any]]]) -> int:
            rows, patched = _RowCache(), 0
            for path, template, data in share:
                if path in moved_cut and self._patch(output / path, path, moved_cut[path], data["stamp"]):
                    patched += 1
                    continue
                if template == "list":
                    data = dict(data, rows=[rows.html(data["list_name"], row, _root(path)) for row in data["rows"]])
                writer.write_file(path, self.get_template(template), self.context, relative_urls=False,
                                  root=_root(path), page_path=path, **_with_search_words(template, data))
            return patched

        if workers <= 1 or not hasattr(os, "fork") or len(plan) < workers:
            return render(plan)
        shares = _shares(plan, workers)
        children = []
        for n in range(1, workers):
            told, tell = os.pipe()  # the worker says how many pages it patched
            pid = os.fork()
            if pid == 0:  # a worker: its share, then out without running the parent's exit handlers
                status = 0
                try:
                    os.close(told)
                    os.write(tell, str(render(shares[n])).encode())
                except BaseException:  # noqa: BLE001 - reported to the parent through the exit status
                    traceback.print_exc()
                    status = 1
                finally:
                    os._exit(status)
            os.close(tell)
            children.append((pid, told))
        patched, failed = 0, 0
        try:
            patched = render(shares[0])
        finally:  # the workers are waited for even when this share fails, so none is left behind
            for pid, told in children:
                with os.fdopen(told, "rb") as said:
                    heard = said.read()
                if os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) != 0:
                    failed += 1
                else:
                    patched += int(heard)
        if failed:
            raise RuntimeError(f"{failed} site build worker(s) failed; see the messages above")
        return patched

    def _patch(self, target: Path, path: str, was: dict[str, Any], now: dict[str, Any]) -> bool:
        """Put the position ``now`` where the page at ``target`` states ``was``: the ledger-stamp
        fragment rendered for each, the one replaced by the other (the rest of the page is the same
        function of the same data). The fragment sits near the top, once (a page's text is escaped,
        so no list row can hold its markup); of the same length — the usual case, a seq of as many
        digits — it is written over the old in place, the rest of the page untouched (rewriting
        24,000 whole list pages to move the cut was most of an incremental build). False if the page
        is not as expected; it is then rendered whole."""
        if path.startswith("institutions/"):
            return False  # its own stamp, never the cut's (and the fragment words it otherwise)
        old, new = self._stamp_fragment(_root(path), was, path), self._stamp_fragment(_root(path), now, path)
        if old is None or new is None:
            return False
        try:
            with open(target, "rb") as page:
                head = page.read(PATCH_FIRST)
                if head.find(old) < 0:
                    head += page.read(PATCH_WINDOW - len(head))
        except OSError:
            return False
        at = head.find(old)
        if at < 0 or head.find(old, at + 1) >= 0:
            return False
        return _overwrite(target, at, old, new)

    def _stamp_fragment(self, root: str, stamp: dict[str, Any], path: str) -> bytes | None:
        """The ledger-stamp fragment as a page at ``path`` (not an institution's) states ``stamp``:
        rendered once per depth and stamp, the page's path put in its one place (escaped as the
        template escapes it)."""
        key = (root, orjson.dumps(stamp, option=orjson.OPT_SORT_KEYS))
        if key not in self._fragments:
            rendered = self.get_template("ledger-stamp").render(self.context, stamp=stamp, root=root, page_path=PAGE_PATH_MARK)
            before, mark, after = rendered.partition(PAGE_PATH_MARK)
            self._fragments[key] = (before.encode(), after.encode()) if mark and PAGE_PATH_MARK not in after else None
        parts = self._fragments[key]
        if parts is None:  # a fragment that does not state the path exactly once: pages are rendered whole
            return None
        return parts[0] + str(markup_escape(path)).encode() + parts[1]

    def generate_output(self, writer) -> None:
        output = Path(self.output_path)
        manifest_path = output / MANIFEST
        incremental = bool(self.settings.get("DISCLOSURE_INCREMENTAL")) and manifest_path.exists()
        previous = json.loads(manifest_path.read_text()) if incremental else {}
        cut_json = json.dumps(self.snapshot["cut"], ensure_ascii=False, sort_keys=True)  # as the downloads state it
        cut = _stamp(self.snapshot["cut"])
        was_json = previous.get(CUT_KEY)
        was_cut = _stamp(json.loads(was_json)) if was_json else None
        cut_moved = was_json is not None and was_json != cut_json
        current: dict[str, str] = {CUT_KEY: cut_json}
        plan = []
        # the pages also show every region's names (the trail, the search form's choices) from the
        # context: a renamed region (a county become a district) makes every page again
        pages_made_by = _digest([self.made_by, self.snapshot["regions"]])
        moved_cut: dict[str, dict[str, Any]] = {}  # pages that differ from the last build's by the cut alone
        for path, template, data in self._pages():
            if template != "institution" and data.get("stamp") == cut:  # states the build's one cut: digest the rest
                digest = "cut:" + _digest([pages_made_by, template, {k: v for k, v in data.items() if k != "stamp"}])
                if previous.get(path) == digest and cut_moved:
                    moved_cut[path] = was_cut
            else:
                digest = _digest([pages_made_by, template, data])
            current[path] = digest
            if previous.get(path) != digest or path in moved_cut:
                plan.append((path, template, data))
        workers = self.settings.get("DISCLOSURE_WORKERS") or (PARALLEL_WORKERS if len(plan) >= PARALLEL_FROM else 1)
        patched = self._render(writer, plan, workers, moved_cut)
        written = len(plan)
        sitemap_urls = sorted(p for p in current if p.endswith(".html"))
        files = self._downloads()
        files["sitemap.xml"] = Download.of(_sitemap(self.site["site_url"], sitemap_urls, self.snapshot["cut"]["recorded_at"]))
        stated = {"json": cut_json.encode(), "atom": beijing_iso(self.snapshot["cut"]["recorded_at"]).encode()}
        was_stated = {"json": was_json.encode(), "atom": beijing_iso(json.loads(was_json)["recorded_at"]).encode()} if was_json else {}
        for path, download in files.items():
            target = output / path
            current[path] = download.key
            if previous.get(path) == download.key:
                if download.stated is None or not cut_moved:
                    continue
                if _overwrite(target, len(download.before), was_stated[download.stated], stated[download.stated]):
                    written, patched = written + 1, patched + 1  # the same but for the cut it states
                    continue
            content = download.make()
            if download.stated is not None:
                content = download.before + stated[download.stated] + content
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
            written += 1
        for stale in set(previous) - set(current):
            (output / stale).unlink(missing_ok=True)
        manifest_path.write_text(json.dumps(current, sort_keys=True, indent=0) + "\n")
        institutions = self.snapshot["institutions"]
        search_shards.write_plan(output, search_shards.plan(
            ((f"institutions/{iid}.html", i["region_code"][:2] + "0000") for iid, i in institutions.items()), current))
        (output / BUILD_REPORT).write_text(json.dumps({"written": written, "files": len(current), "cut_patched": patched}) + "\n")


@dataclass(frozen=True)
class Download:
    """A file beside the pages. ``key`` (the manifest's entry) digests everything it is made from
    but the cut; ``make()`` makes its content, only when the key changed since the last build. One
    that states the cut (``stated``: as JSON or as an Atom time) holds it between ``before`` and
    what ``make()`` makes; when only the cut moved, a build writes the new cut over the old in
    place (``_overwrite``) instead of making it all again."""

    key: str
    make: Callable[[], bytes]
    before: bytes = b""
    stated: str | None = None

    @classmethod
    def of(cls, content: bytes) -> Download:
        """A small file made whole every build, keyed by its content."""
        return cls("sha256:" + hashlib.sha256(content).hexdigest(), lambda: content)


def _overwrite(target: Path, at: int, was: bytes, now: bytes) -> bool:
    """``now`` put in place of ``was`` at offset ``at`` of ``target``, if ``was`` is there: written
    over it when as long, else with the rest of the file moved after it. False if it is not there."""
    try:
        with open(target, "r+b") as file:
            file.seek(at)
            if file.read(len(was)) != was:
                return False
            rest = b"" if len(was) == len(now) else file.read()
            file.seek(at)
            file.write(now + rest)
            if rest:
                file.truncate()
    except OSError:
        return False
    return True


class _RowCache:
    """Each list row's table row, made once per page depth (its links are relative): a row is on its
    list's national page and on its province's, city's and county's. Made in Python, not by a
    template call per row (136,000 Jinja calls were a third of rewriting the list pages), with the
    same escaping: the first column names the institution and links to its page; an empty value
    is an empty cell."""

    def __init__(self) -> None:
        self.done: dict[tuple[str, int, str], Markup] = {}

    def html(self, list_name: str, row: dict[str, Any], root: str) -> Markup:
        key = (list_name, id(row), root)
        if (made := self.done.get(key)) is None:
            made = self.done[key] = _row_html(list_name, _cells(list_name, row), root)
        return made


def _row_html(list_name: str, cells: dict[str, Any], root: str) -> Markup:
    (first, first_header), *rest = COLUMNS[list_name]
    iid = markup_escape(cells.get("id", ""))
    name = markup_escape(cells.get(first, ""))
    parts = [f'<tr data-institution-id="{iid}">\n<th scope="row" data-label="{markup_escape(first_header)}">'
             f'<a href="{markup_escape(root)}institutions/{iid}.html">{name}</a></th>\n']
    for key, header in rest:
        value = cells.get(key)
        parts.append(f'<td data-label="{markup_escape(header)}">{"" if value is None else markup_escape(value)}</td>')
    parts.append("  </tr>")
    return Markup("".join(parts))


def _shares(plan: list[tuple[str, str, dict[str, Any]]], workers: int) -> list[list[tuple[str, str, dict[str, Any]]]]:
    """``plan`` shared out to ``workers``: a province's region pages (its own, its cities' and
    counties') together, every other page on its own; each group to the share with the fewest pages
    so far, largest groups first."""
    groups: dict[str, list[tuple[str, str, dict[str, Any]]]] = defaultdict(list)
    for page in plan:
        path = page[0]
        groups[path.split("/")[1][:2] if path.startswith("regions/") else path].append(page)
    shares: list[list[tuple[str, str, dict[str, Any]]]] = [[] for _ in range(workers)]
    for group in sorted(groups.values(), key=len, reverse=True):
        min(shares, key=len).extend(group)
    return shares


def _with_search_words(template: str, data: dict[str, Any]) -> dict[str, Any]:
    """An institution page's data with the words its search matches (index words and pinyin keys).
    They are a function of the name alone, which the page's digest covers, so they are made only for
    the pages being written, in the workers (pinyin of 40,000 names took 17 s of a build's one core)."""
    if template != "institution":
        return data
    name = data["institution"]["name"]
    return dict(data, search_terms=index_words(name), name_keys=" ".join(pinyin_keys(name)))


def _options(choices: list[tuple[str, str]], everything: str):
    """The search form's <option>s with the one for ``chosen`` selected, made once per choice (a
    site has tens of thousands of list pages, each with the form)."""
    @functools.cache
    def render(chosen: str | None) -> Markup:
        items = [f'<option value="">{markup_escape(everything)}</option>']
        items += [f'<option value="{markup_escape(value)}"{" selected" if value == chosen else ""}>{markup_escape(name)}</option>'
                  for value, name in choices]
        return Markup("".join(items))

    return render


def _csv_line(list_name: str, row: dict[str, Any] | None) -> str:
    """One CSV line (CRLF-terminated) of a list: its header for ``None``, else the row as displayed."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    if row is None:
        writer.writerow([header for _, header in COLUMNS[list_name]])
    else:
        cells = _cells(list_name, row)
        writer.writerow([cells.get(key, "") if cells.get(key) is not None else "" for key, _ in COLUMNS[list_name]])
    return buffer.getvalue()


def _sitemap(site_url: str, paths: list[str], cut_at: str | None) -> bytes:
    lastmod = f"<lastmod>{beijing_iso(cut_at)}</lastmod>" if cut_at else ""
    urls = "".join(f"<url><loc>{site_url}{escape(p)}</loc>{lastmod}</url>" for p in paths)
    return f'<?xml version="1.0" encoding="utf-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>\n'.encode()


def get_generators(pelican_object):
    return DisclosureGenerator


def register() -> None:
    signals.get_generators.connect(get_generators)
