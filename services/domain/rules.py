"""The rule table: every number the regulations set, with the date it took effect.

No rule number is a constant in code. A decision asks the table for the version in force on the
decision date and records that version's name (``rule_version``) in its event, so a later change of
the rules never changes how a past decision reads. Versions are cumulative: each one carries the
parameters of the one before, with its own changes. Each parameter says whether its value was
confirmed in an official text (see shared/research/domain-sources.md) and where it comes from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from services.domain.errors import RuleViolation


@dataclass(frozen=True)
class Param:
    value: Any
    source: str
    confirmed: bool


@dataclass(frozen=True)
class RuleVersion:
    name: str
    effective_from: date
    params: dict[str, Param] = field(default_factory=dict)
    title: str = ""  # which regulation brought this version

    def __getitem__(self, key: str) -> Any:
        if key not in self.params:
            raise RuleViolation(
                "RULE_NOT_IN_FORCE",
                f"规则版本 {self.name}（{self.effective_from.isoformat()} 起）尚无“{key}”的规定，该日期的决定不能按本系统规则办理",
                f"rule version {self.name} has no '{key}': decisions of that date are outside the rules this ledger applies",
                rule_version=self.name,
                param=key,
            )
        return self.params[key].value


@dataclass(frozen=True)
class RuleTable:
    versions: tuple[RuleVersion, ...]

    def in_force(self, day: date) -> RuleVersion:
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

    def named(self, name: str) -> RuleVersion:
        for v in self.versions:
            if v.name == name:
                return v
        raise KeyError(name)


def _then(base: RuleVersion, effective_from: date, title: str, **changes: Param) -> RuleVersion:
    params = {**base.params, **{k.replace("__", "."): v for k, v in changes.items()}}
    return RuleVersion(f"rules-{effective_from.isoformat()}", effective_from, params, title)


def _periods(minor, ordinary, serious, *, safety_minimum_months=None):
    """Publication periods in months per class: (minimum before repair, maximum); None = not published."""
    return {"minor": minor, "ordinary": ordinary, "serious": serious, "safety_minimum_months": safety_minimum_months}


CREDIT_2019 = RuleVersion(
    name="rules-2019-07-01",
    effective_from=date(2019, 7, 1),
    title="发改办财金〔2019〕527号（失信信息公示期限）",
    params={
        "publication.periods": Param(
            _periods((3, 12), (3, 12), (6, 36)),
            "发改办财金〔2019〕527号：一般失信最短3个月最长1年，严重失信最短6个月最长3年（生效日未核实，取2019-07-01）",
            True,
        ),
    },
)

MEASURES_2020 = _then(
    CREDIT_2019, date(2020, 11, 1), "《养老机构管理办法》（民政部令第66号）施行",
    institution__minimum_beds=Param(10, "《养老机构管理办法》(民政部令第66号) 第2条：床位数在10张以上", True),
    filing__deadline_working_days=Param(10, "66号令：收住老年人后10个工作日以内备案", True),
    inspection__first_within_working_days=Param(20, "66号令：备案或发现收住老年人之日起20个工作日内现场检查", True),
    inspection__min_officers=Param(2, "《行政处罚法》第42条：执法人员不得少于两人", True),
    inspection__notice_working_days=Param(3, "DOMAIN.md：日常、专项检查提前3个工作日通知（未见官方原文）", False),
    inspection__publish_within_working_days=Param(20, "DOMAIN.md：检查结果20个工作日内公开（未见官方原文）", False),
    closure__plan_days_ahead=Param(60, "《山东省养老服务条例》第38条、《浙江省社会养老服务促进条例》第25条：暂停或终止服务60日前报送安置方案（66号令原文未取得）", False),
    listing__defence_working_days=Param(5, "民发〔2019〕103号：告知后陈述申辩期限（原文未取得，取5个工作日）", False),
    listing__term_years=Param(3, "民发〔2019〕103号：名单有效期3年，期满自动移出（原文未取得）", False),
    listing__early_removal_after_years=Param(2, "民发〔2019〕103号：满2年可申请提前移出（原文未取得）", False),
    grading__authority=Param(
        {
            "default": {"1": ["county", "city"], "2": ["county", "city"], "3": ["county", "city"], "4": ["city"], "5": ["province"]},
            "42": {"1": ["city"], "2": ["city"], "3": ["province"], "4": ["province"], "5": ["province"]},
        },
        "江苏（镇江种子文件）：一至三级由市、区（县）民政部门，四级由市民政局，五级由省民政厅评定；湖北（征求意见稿）："
        "一、二级市级，三级及以上省级；其他省份暂按江苏口径（待各省规则替换）",
        False,
    ),
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
        "GB/T 37276 常见引用：环境120、设施设备130、运营管理150、服务600，共1000分（原文未取得）", False,
    ),
    grading__level_thresholds=Param(
        {1: 300, 2: 450, 3: 600, 4: 750, 5: 900},
        "各等级最低总分：原文及实施指南未取得，此为占位参数，须以各省评分细则替换", False,
    ),
    inspection__default_ratios=Param(
        {"D": "30", "C": "10", "B": "2", "A": "1"}, "DOMAIN.md：按信用风险分类的抽查比例示例 30/10/2/1 %（未见官方原文）", False,
    ),
    inspection__risk_classification=Param(
        "D: 列入失信名单或重大隐患逾期; C: 存在未销账重大隐患; B: 未备案或隐患逾期; A: 其他",
        "本系统设定的信用风险分类口径（待各地规则替换）", False,
    ),
)

PENALTY_LAW_2021 = _then(
    MEASURES_2020, date(2021, 7, 15), "《行政处罚法》（2021年修订）施行",
    sanction__decide_within_days=Param(90, "《行政处罚法》第60条：立案之日起90日内作出决定", True),
    sanction__hearing_request_days=Param(5, "《行政处罚法》第64条：告知后5日内提出听证", True),
    sanction__hearing_notice_days=Param(7, "《行政处罚法》第64条：听证7日前通知", True),
    sanction__service_within_days=Param(7, "《行政处罚法》第61条：7日内送达", True),
    sanction__statement_days=Param(3, "陈述、申辩期限：法无统一规定，取3日（待各地规则替换）", False),
    sanction__hearing_fine_threshold=Param("10000", "较大数额罚款听证标准：各地规定不一，取1万元（待替换）", False),
    sanction__max_fine_66_46=Param("30000", "66号令第46条：情节严重的处3万元以下罚款（二手来源）", False),
    sanction__withdraw_within_days=Param(3, "《行政处罚法》第48条：变更、撤销的应在3日内撤回公开信息", True),
    sanction__publish_within_working_days=Param(20, "《市场监督管理行政处罚信息公示规定》第9条：20个工作日内公示", True),
)

CREDIT_2023 = _then(
    PENALTY_LAW_2021, date(2023, 5, 1), "《失信行为纠正后的信用信息修复管理办法（试行）》（国家发展改革委令第58号）施行",
    publication__periods=Param(
        _periods((3, 36), (3, 36), (3, 36), safety_minimum_months=12),
        "国家发展改革委令第58号（2023-05-01）及深圳实施口径：最短3个月、最长3年；特种设备、安全生产、消防最短1年",
        False,
    ),
)

CREDIT_2026 = _then(
    CREDIT_2023, date(2026, 4, 1), "《信用修复管理办法》施行",
    publication__periods=Param(
        _periods(None, (3, 12), (12, 36)),
        "《信用修复管理办法》（2026-04-01）：轻微原则上不公示；一般最短3个月最长1年；严重最短1年最长3年",
        True,
    ),
)

RULES = RuleTable((CREDIT_2019, MEASURES_2020, PENALTY_LAW_2021, CREDIT_2023, CREDIT_2026))
