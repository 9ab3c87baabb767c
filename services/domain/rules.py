"""The rule table: every number the regulations set, by the region it applies to and the date it
took effect.

No rule number is a constant in code. A decision asks the table for the rules in force for its
region on its date (``RULES.in_force(day, region_code)``) and records their name (``rule_version``)
in its event, so a later change of the rules never changes how a past decision reads.

- **National versions** are cumulative and dated: each carries the parameters of the one before,
  with its own changes. The first starts on 2019-01-01, when the 2018 amendment of the
  elderly-rights law had abolished the licensing of institutions for filing after registration.
- **Regional rows** (a province's, a city's or a county's own documents) override the national
  value of the parameters they name, for the regions under them, from their date (until a date, if
  they end): the most specific region wins, a province's row over the national version, a city's
  over its province's. They are cumulative per region like the national versions.
- The name of the rules in force is the national version's, followed by every regional row that
  applied (``rules-2020-11-01+320000-2020-01-01+321100-2020-01-01``); ``RULES.named`` resolves
  such a name back to exactly those parameters, for auditors.

Every parameter names its document and clause and says whether its value was confirmed in an
official text (shared/research/domain-sources.md); README renders the whole table.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from events.regions import full_name, parents
from services.domain.errors import RuleViolation

NATIONAL = "000000"


@dataclass(frozen=True)
class Param:
    value: Any
    source: str
    confirmed: bool


@dataclass(frozen=True)
class RuleVersion:
    """A national version: every parameter in force nationally from ``effective_from``."""

    name: str
    effective_from: date
    params: dict[str, Param] = field(default_factory=dict)
    title: str = ""  # which regulation brought this version


@dataclass(frozen=True)
class RegionalRows:
    """A region's own rules: the parameters its document sets, from ``effective_from`` (until
    ``until``, exclusive, when a later document of its region or the nation ended them)."""

    region: str  # a GB/T 2260 code: province (320000), city (321100) or county
    effective_from: date
    title: str  # the region's document
    params: dict[str, Param]
    until: date | None = None

    @property
    def name(self) -> str:
        return f"{self.region}-{self.effective_from.isoformat()}"

    def in_force(self, day: date) -> bool:
        return self.effective_from <= day and (self.until is None or day < self.until)


@dataclass(frozen=True)
class RulesInForce:
    """What a decision reads: the national version in force, with its region's rows on top."""

    name: str
    day: date
    region: str
    params: dict[str, Param]

    def __getitem__(self, key: str) -> Any:
        return self.param(key).value

    def param(self, key: str) -> Param:
        if key not in self.params:
            raise RuleViolation(
                "RULE_NOT_IN_FORCE",
                f"{self.day.isoformat()} 施行的规则（{self.name}）尚无“{key}”的规定，该日期的此类决定不能按本系统规则办理",
                f"the rules in force on {self.day.isoformat()} ({self.name}) have no '{key}': "
                "such decisions of that date are outside the rules this ledger applies",
                rule_version=self.name,
                param=key,
            )
        return self.params[key]


@dataclass(frozen=True)
class RuleTable:
    versions: tuple[RuleVersion, ...]
    regional: tuple[RegionalRows, ...] = ()

    def __post_init__(self) -> None:
        known = {key for version in self.versions for key in version.params}
        for rows in self.regional:
            unknown = set(rows.params) - known
            if unknown:
                raise ValueError(f"regional rows {rows.name} set parameters no national version has: {sorted(unknown)}")

    def national(self, day: date) -> RuleVersion:
        applicable = [v for v in self.versions if v.effective_from <= day]
        if not applicable:
            first = min(v.effective_from for v in self.versions)
            raise RuleViolation(
                "RULE_NOT_IN_FORCE",
                f"{day.isoformat()} 早于本系统所执行规则的生效日期 {first.isoformat()}",
                f"{day.isoformat()} is before the first rules this ledger applies ({first.isoformat()})",
                date=day.isoformat(),
            )
        return max(applicable, key=lambda v: v.effective_from)

    def rows_for(self, day: date, region_code: str) -> list[RegionalRows]:
        """The regional rows in force for a region on a day, least specific region first."""
        chain = parents(region_code)
        applied = [rows for rows in self.regional if rows.region in chain and rows.in_force(day)]
        return sorted(applied, key=lambda rows: (chain.index(rows.region), rows.effective_from))

    def in_force(self, day: date, region_code: str) -> RulesInForce:
        """The rules in force on ``day`` for a record in ``region_code``."""
        version = self.national(day)
        rows = self.rows_for(day, region_code)
        params = dict(version.params)
        for row in rows:
            params.update(row.params)
        name = "+".join([version.name, *(row.name for row in rows)])
        return RulesInForce(name, day, region_code, params)

    def named(self, name: str) -> RulesInForce:
        """The parameters a recorded ``rule_version`` stood for."""
        national, *regional = name.split("+")
        version = next((v for v in self.versions if v.name == national), None)
        if version is None:
            raise KeyError(name)
        params = dict(version.params)
        region = NATIONAL
        for row_name in regional:
            row = next((r for r in self.regional if r.name == row_name), None)
            if row is None:
                raise KeyError(name)
            params.update(row.params)
            region = row.region
        return RulesInForce(name, version.effective_from, region, params)

    def rows(self) -> list[dict[str, Any]]:
        """Every parameter of every version and regional row, flat: what README renders."""
        out = []
        versions = sorted(self.versions, key=lambda v: v.effective_from)
        for i, version in enumerate(versions):
            for key, param in version.params.items():
                if i and versions[i - 1].params.get(key) == param:
                    continue  # carried over, not changed
                replaced = next((v.effective_from for v in versions[i + 1:] if v.params.get(key) != param), None)
                out.append(_row(key, NATIONAL, version.effective_from, replaced, param, version.title))
        for rows in sorted(self.regional, key=lambda r: (r.region, r.effective_from)):
            for key, param in rows.params.items():
                out.append(_row(key, rows.region, rows.effective_from, rows.until, param, rows.title))
        return sorted(out, key=lambda r: (r["rule"], r["region"] != NATIONAL, r["region"], r["from"]))

    def markdown(self) -> str:
        """The table as README shows it."""
        lines = ["| 规则 rule | 地区 region | 起 from | 止 until | 值 value | 依据 source | 已核实 confirmed |",
                 "|---|---|---|---|---|---|---|"]
        for row in self.rows():
            region = "全国" if row["region"] == NATIONAL else f"{full_name(row['region'])} {row['region']}"
            value = json.dumps(row["value"], ensure_ascii=False).replace("|", "\\|")
            lines.append(f"| `{row['rule']}` | {region} | {row['from']} | {row['until'] or ''} | {value} | "
                         f"{row['source'].replace('|', '/')} | {'是' if row['confirmed'] else '否'} |")
        return "\n".join(lines) + "\n"


def _row(key: str, region: str, start: date, until: date | None, param: Param, title: str) -> dict[str, Any]:
    return {"rule": key, "region": region, "from": start.isoformat(), "until": until.isoformat() if until else None,
            "value": param.value, "source": param.source, "confirmed": param.confirmed, "document": title}


def _then(base: RuleVersion, effective_from: date, title: str, **changes: Param) -> RuleVersion:
    params = {**base.params, **{k.replace("__", "."): v for k, v in changes.items()}}
    return RuleVersion(f"rules-{effective_from.isoformat()}", effective_from, params, title)


def _params(**changes: Param) -> dict[str, Param]:
    return {k.replace("__", "."): v for k, v in changes.items()}


def _periods(minor, ordinary, serious, *, safety_minimum_months=None):
    """Publication periods in months per class: (minimum before repair, maximum); None = not published."""
    return {"minor": minor, "ordinary": ordinary, "serious": serious, "safety_minimum_months": safety_minimum_months}


# --- national versions -----------------------------------------------------------------------------

_AUTHORITY_DEFAULT = {"1": ["county", "city"], "2": ["county", "city"], "3": ["county", "city"], "4": ["city"], "5": ["province"]}

FILING_2019 = RuleVersion(
    name="rules-2019-01-01",
    effective_from=date(2019, 1, 1),
    title="《老年人权益保障法》（2018年12月29日修正）：取消养老机构设立许可，登记后即可开展服务并向民政部门备案",
    params=_params(
        institution__minimum_beds=Param(10, "原《养老机构设立许可办法》（民政部令第48号）床位10张以上的口径；2019年取消许可后至66号令施行前未见新规定（未核实）", False),
        filing__deadline_working_days=Param(10, "《老年人权益保障法》（2018修正）第43条：登记后向县级以上民政部门备案；期限未见2019年原文，取66号令后定的10个工作日（未核实）", False),
        inspection__first_within_working_days=Param(20, "《老年人权益保障法》（2018修正）第45条：民政部门监督检查；“20个工作日内现场检查”取66号令口径（未核实）", False),
        inspection__min_officers=Param(2, "《行政处罚法》（2017年修正）第37条：调查或者检查时执法人员不得少于两人", True),
        inspection__notice_working_days=Param(3, "DOMAIN.md：日常、专项检查提前3个工作日通知（未见官方原文）", False),
        inspection__publish_within_working_days=Param(20, "DOMAIN.md：检查结果20个工作日内公开（未见官方原文）", False),
        inspection__default_ratios=Param(
            {"D": "30", "C": "10", "B": "2", "A": "1"}, "国发〔2019〕5号“双随机、一公开”；比例取 DOMAIN.md 按信用风险分类的示例 30/10/2/1 %（未见官方原文）", False,
        ),
        inspection__risk_classification=Param(
            "D: 列入失信名单或重大隐患逾期; C: 存在未销账重大隐患; B: 未备案或隐患逾期; A: 其他",
            "本系统设定的信用风险分类口径（待各地规则替换）", False,
        ),
        closure__plan_days_ahead=Param(60, "《老年人权益保障法》（2018修正）第46条：变更或者终止的妥善安置老年人；60日取山东、浙江条例口径（未核实）", False),
        hazard__closure_needs_suspension_first=Param(
            True, "逾期不改的重大隐患先责令停业整顿，仍不改正的方可取缔、关停（《养老机构管理办法》相关条款，原文未取得）", False,
        ),
        grading__authority=Param(_AUTHORITY_DEFAULT, "民发〔2019〕137号：全国统一养老机构等级评定体系，评定权限由各省规定；无省级规则的地区暂按江苏口径（未核实）", False),
        grading__min_operating_years=Param(1, "上海、湖北：开办运营一年以上", False),
        grading__penalty_free_years=Param(2, "上海、甘肃：近两年内未受行政处罚", False),
        grading__first_application_max_level=Param(3, "上海：首次申请最高三级", False),
        grading__upgrade_after_years=Param(1, "甘肃、长沙：上次评定满1年方可申请升级，每次一级", False),
        grading__no_upgrade_after_downgrade_years=Param(1, "甘肃、黑龙江：降级后1年内不得申请升级", False),
        grading__no_application_after_revocation_years=Param(3, "甘肃、黑龙江：取消等级后3年内不得申请评定", False),
        grading__validity_years=Param(3, "甘肃、湖北：等级有效期3年", False),
        grading__publicity_working_days=Param(5, "公示期：未见统一规定，取5个工作日（待各地规则替换）", False),
        grading__section_maxima=Param(
            {"environment": 120, "facilities": 130, "operations": 150, "service": 600},
            "GB/T 37276-2018 常见引用：环境120、设施设备130、运营管理150、服务600，共1000分（原文未取得）", False,
        ),
        grading__level_thresholds=Param(
            {1: 300, 2: 450, 3: 600, 4: 750, 5: 900},
            "各等级最低总分：原文及实施指南未取得，此为占位参数，须以各省评分细则替换", False,
        ),
        sanction__decide_within_days=Param(90, "《行政处罚法》（2017年修正）未设办案期限；取《市场监督管理行政处罚程序暂行规定》（2019-04-01）第57条：立案之日起90日内作出决定", False),
        sanction__hearing_request_days=Param(3, "《行政处罚法》（2017年修正）第42条：当事人要求听证的，应当在行政机关告知后三日内提出", True),
        sanction__hearing_notice_days=Param(7, "《行政处罚法》（2017年修正）第42条：行政机关应当在听证的七日前通知当事人", True),
        sanction__service_within_days=Param(7, "《行政处罚法》（2017年修正）第40条：当事人不在场的，七日内送达", True),
        sanction__statement_days=Param(3, "陈述、申辩期限：法无统一规定，取3日（待各地规则替换）", False),
        sanction__hearing_fine_threshold=Param("10000", "较大数额罚款听证标准：各地规定不一，取1万元（待替换）", False),
        sanction__max_fine_66_46=Param("30000", "原《养老机构管理办法》（民政部令第49号）：情节严重的处3万元以下罚款（原文未取得）", False),
        sanction__withdraw_within_days=Param(3, "2021年修订前无撤回公开期限的明文；取修订后第48条的3日（未核实）", False),
        sanction__publish_within_working_days=Param(20, "《企业信息公示暂行条例》第6条：行政处罚等信息形成之日起20个工作日内公示", True),
    ),
)

CREDIT_2019 = _then(
    FILING_2019, date(2019, 7, 1), "发改办财金〔2019〕527号（失信信息公示期限）",
    publication__periods=Param(
        _periods((3, 12), (3, 12), (6, 36)),
        "发改办财金〔2019〕527号：一般失信最短3个月最长1年，严重失信最短6个月最长3年（生效日未核实，取2019-07-01）",
        True,
    ),
)

LISTING_2019 = _then(
    CREDIT_2019, date(2019, 11, 1), "《养老服务市场失信联合惩戒对象名单管理办法（试行）》（民发〔2019〕103号）印发",
    listing__defence_working_days=Param(5, "民发〔2019〕103号：告知后陈述申辩期限（原文未取得，取5个工作日）", False),
    listing__term_years=Param(3, "民发〔2019〕103号：名单有效期3年，期满自动移出（原文未取得）", False),
    listing__early_removal_after_years=Param(2, "民发〔2019〕103号：满2年可申请提前移出（原文未取得）", False),
)

MEASURES_2020 = _then(
    LISTING_2019, date(2020, 11, 1), "《养老机构管理办法》（民政部令第66号）施行",
    institution__minimum_beds=Param(10, "《养老机构管理办法》(民政部令第66号) 第2条：床位数在10张以上", True),
    filing__deadline_working_days=Param(10, "66号令：收住老年人后10个工作日以内备案", True),
    inspection__first_within_working_days=Param(20, "66号令：备案或发现收住老年人之日起20个工作日内现场检查", True),
    inspection__min_officers=Param(2, "《行政处罚法》第42条：执法人员不得少于两人", True),
    closure__plan_days_ahead=Param(60, "《山东省养老服务条例》第38条、《浙江省社会养老服务促进条例》第25条：暂停或终止服务60日前报送安置方案（66号令原文未取得）", False),
    sanction__max_fine_66_46=Param("30000", "66号令第46条：情节严重的处3万元以下罚款（二手来源）", False),
)

PENALTY_LAW_2021 = _then(
    MEASURES_2020, date(2021, 7, 15), "《行政处罚法》（2021年修订）施行",
    sanction__decide_within_days=Param(90, "《行政处罚法》第60条：立案之日起90日内作出决定", True),
    sanction__hearing_request_days=Param(5, "《行政处罚法》第64条：告知后5日内提出听证", True),
    sanction__hearing_notice_days=Param(7, "《行政处罚法》第64条：听证7日前通知", True),
    sanction__service_within_days=Param(7, "《行政处罚法》第61条：7日内送达", True),
    sanction__withdraw_within_days=Param(3, "《行政处罚法》第48条：变更、撤销的应在3日内撤回公开信息", True),
    sanction__publish_within_working_days=Param(20, "《市场监督管理行政处罚信息公示规定》第9条：20个工作日内公示", True),
)

CREDIT_2023 = _then(
    PENALTY_LAW_2021, date(2023, 5, 1), "《失信行为纠正后的信用信息修复管理办法（试行）》（国家发展改革委令第58号）施行",
    publication__periods=Param(
        _periods((3, 12), (3, 12), (12, 36)),
        "国家发展改革委令第58号：一般失信行政处罚信息最短3个月、最长1年，严重失信最短1年、最长3年（条文原文未取得）。"
        "此前据深圳实施口径录为“各类最短3个月、最长3年”，使一般失信公示期三倍于前后两版，与58号令分级口径不符，已更正；深圳口径见其地区行",
        False,
    ),
)

CREDIT_2026 = _then(
    CREDIT_2023, date(2026, 4, 1), "《信用修复管理办法》施行",
    publication__periods=Param(
        {**_periods((0, 3), (3, 12), (12, 36)), "minor_only_where_necessary": True},
        "《信用修复管理办法》（2026-04-01）：轻微失信信息原则上不公示，确需公示的最长3个月；一般最短3个月最长1年；严重最短1年最长3年",
        True,
    ),
)

# --- regional rows -------------------------------------------------------------------------------

SEED_ZHENJIANG = "镇江市民政局等7部门《2020年全市养老院服务质量建设专项行动实施方案》（种子文件000）§三（六）"
SEED_ZHENJIANG_HAZARDS = "镇江种子文件000 §三（四）：依法依规限期整治到位；拒不整治或无法完成整治的，报请当地人民政府组织联合执法，依法予以取缔"

REGIONAL = (
    RegionalRows(
        "320000", date(2020, 1, 1), "江苏省养老机构等级评定与失信联合惩戒的省级安排（见镇江种子文件000）",
        _params(
            grading__authority=Param(
                _AUTHORITY_DEFAULT,
                f"{SEED_ZHENJIANG}：一级至三级由各市、区民政部门组织评定，四级由市民政局组织评定，五级由省民政厅组织评定", True,
            ),
            listing__defence_working_days=Param(5, "《江苏省养老服务市场失信联合惩戒对象名单管理实施办法（试行）》（种子文件000 §三（八）援引；原文未取得，沿用民发〔2019〕103号口径）", False),
            listing__term_years=Param(3, "《江苏省养老服务市场失信联合惩戒对象名单管理实施办法（试行）》（原文未取得，沿用民发〔2019〕103号口径）", False),
        ),
    ),
    RegionalRows(
        "321100", date(2020, 1, 1), "镇江市 2020 年养老机构等级评定安排",
        _params(
            grading__upgrade_after_years=Param(
                0, f"{SEED_ZHENJIANG}：7月底前完成一至三级评定并遴选三级机构推荐为四级候选，8月底前市民政局完成四级评定并推荐五级候选，"
                "9月底前省民政厅完成五级评定——同一年度内逐级推荐评定，不设上次评定满一年的间隔", True,
            ),
            hazard__closure_needs_suspension_first=Param(False, SEED_ZHENJIANG_HAZARDS + "（不以先行责令停业整顿为前提）", True),
        ),
    ),
    RegionalRows(
        "350400", date(2024, 5, 1), "三明市养老机构安全攻坚和服务质量提升“九个一”措施（种子文件003）",
        _params(
            hazard__closure_needs_suspension_first=Param(
                False, "三明种子文件003 §三（二）：依法依规限期整治到位；拒不整治或无法完成整治的，报请当地人民政府组织联合执法，依法予以取缔"
                "（不以先行责令停业整顿为前提）", True,
            ),
        ),
    ),
    RegionalRows(
        "120105", date(2019, 6, 1), "天津市河北区养老院服务质量建设专项行动方案（种子文件004）",
        _params(
            hazard__closure_needs_suspension_first=Param(
                True, "天津河北区种子文件004 §三（一）：存在重大风险隐患、逾期不改正的，责令停业整顿；情节严重的，在妥善安置老年人的前提下，"
                "依法取缔、关停、撤并", True,
            ),
        ),
    ),
    RegionalRows(
        "220000", date(2020, 1, 1), "《吉林省养老服务市场失信联合惩戒对象名单管理办法》（种子文件002 要求制定）",
        _params(
            listing__defence_working_days=Param(5, "吉林省民政厅等6部门2020年专项行动方案（种子文件002）：制定《吉林省养老服务市场失信联合惩戒对象名单管理办法》；原文未取得，沿用民发〔2019〕103号口径", False),
            listing__term_years=Param(3, "《吉林省养老服务市场失信联合惩戒对象名单管理办法》（原文未取得，沿用民发〔2019〕103号口径）", False),
        ),
    ),
    RegionalRows(
        "420000", date(2020, 1, 1), "湖北省养老机构等级评定管理办法（征求意见稿）",
        _params(
            grading__authority=Param(
                {"1": ["city"], "2": ["city"], "3": ["province"], "4": ["province"], "5": ["province"]},
                "湖北（征求意见稿）：一、二级由市级，三级及以上由省级民政部门评定", False,
            ),
        ),
    ),
    RegionalRows(
        "440300", date(2023, 5, 1), "深圳市失信行为纠正后信用修复的实施口径", until=date(2026, 4, 1),
        params=_params(
            publication__periods=Param(
                _periods((3, 12), (3, 12), (12, 36), safety_minimum_months=12),
                "深圳实施口径：特种设备、安全生产、消防领域的行政处罚信息最短公示1年（原文未取得）", False,
            ),
        ),
    ),
)

RULES = RuleTable(
    (FILING_2019, CREDIT_2019, LISTING_2019, MEASURES_2020, PENALTY_LAW_2021, CREDIT_2023, CREDIT_2026), REGIONAL,
)
