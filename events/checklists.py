"""Checklist reference data that findings and hazards cite (``criterion_ref``).

Only what an official text was found to say is named item by item; where the text was not
retrieved (see shared/research/domain-sources.md) the reference stops at the clause or category,
and the finding's own description carries the detail. ``confirmed`` says which is which.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ChecklistItem:
    ref: str
    title_zh: str
    source: str
    confirmed: bool = True
    major_hazard: bool = False  # a criterion of 《养老机构重大事故隐患判定标准》(2023)


GB38600 = "GB 38600-2019《养老机构服务安全基本规范》"
MH2023 = "《养老机构重大事故隐患判定标准》(民政部办公厅, 2023-11-27)"
AS2020 = "鞍山市2020年养老院服务质量建设调研检查重点工作项目（附件）"
FIRE = "消防安全检查参考分类（本系统归纳；天津河北区方案所称“9类突出消防安全问题”原文未取得）"
FIRE_CATEGORIES = (
    "消防安全责任制和管理制度落实", "建筑防火（耐火等级、防火分隔、防火间距）", "安全疏散（疏散通道、安全出口、应急照明和疏散指示）",
    "消防设施和器材（自动喷水、火灾报警、灭火器）", "电气线路和用电安全（私拉乱接、大功率电器、电动车充电）",
    "用火用气安全（厨房、燃气、吸烟）", "易燃可燃装修和彩钢板", "消防控制室值班和24小时值守", "员工消防培训、应急预案和疏散演练",
)

NINE_PREVENTIONS = ("防噎食", "防食品药品误食", "防压疮", "防烫伤", "防坠床", "防跌倒", "防他伤和自伤", "防走失", "防文娱活动意外")

_ITEMS = [
    ChecklistItem("GB38600-4", "基本要求", GB38600),
    ChecklistItem("GB38600-5", "安全风险评估（入院前服务安全风险评估）", GB38600),
    *[ChecklistItem(f"GB38600-6.{i}", f"服务防护：{name}", GB38600) for i, name in enumerate(NINE_PREVENTIONS, start=1)],
    ChecklistItem("GB38600-7", "管理要求", GB38600),
    ChecklistItem("MH2023-4.1", "建筑为C级、D级危房，或经住建部门判定存在重大安全隐患", MH2023, major_hazard=True),
    ChecklistItem("MH2023-4.2", "防火设计、消防、电气、燃气设施不符合法律法规和强制性标准，不具备消防安全技术条件", MH2023, major_hazard=True),
    ChecklistItem("MH2023-4.3", "有人员居住的建筑使用易燃可燃夹芯彩钢板或大面积使用易燃可燃装修材料", MH2023, major_hazard=True),
    ChecklistItem("MH2023-4.4", "使用未经许可、未经检验或检验不合格、明令淘汰、已经报废的电梯、锅炉、氧气管道等特种设备", MH2023, major_hazard=True),
    ChecklistItem("MH2023-5.1", "内设医疗机构未取得医疗机构执业许可证或未备案", MH2023, major_hazard=True),
    ChecklistItem("MH2023-5.2", "内设食堂未取得食品经营许可证", MH2023, major_hazard=True),
    ChecklistItem("MH2023-5.3", "特种设备安全管理和作业人员不具备相应资格", MH2023, major_hazard=True),
    ChecklistItem("MH2023-5", "安全生产相关资格资质不符合法定要求（其他情形）", MH2023, confirmed=False, major_hazard=True),
    ChecklistItem("MH2023-6", "日常管理存在严重问题", MH2023, confirmed=False, major_hazard=True),
    ChecklistItem("MH2023-7", "严重违法违规提供服务", MH2023, confirmed=False, major_hazard=True),
    ChecklistItem("MH2023-8", "其他重大事故隐患", MH2023, confirmed=False, major_hazard=True),
    *[ChecklistItem(f"FIRE-{i}", title, FIRE, confirmed=False) for i, title in enumerate(FIRE_CATEGORIES, start=1)],
    ChecklistItem("OTHER", "其他（以描述为准）", "—"),
    *[
        ChecklistItem(f"AS2020-{i}", title, AS2020)
        for i, title in enumerate(
            (
                "制定专项行动落实实施方案", "疫情防控与恢复服务秩序政策措施", "风险隐患排查与整治工作台账",
                "落实GB 38600，60%以上养老机构提前符合", "推动GB/T 35796落实及合格率", "各部门齐抓共管综合监管机制",
                "公开登记备案机构名单", "公开已掌握未登记备案机构名单并抄送有关部门", "公布扶持养老机构政策清单",
                "特困人员供养服务设施改造提升实施方案", "特困供养设施改造提升工程", "特困人员应养尽养",
                "农村敬老院法人登记", "敬老院法人代码录入", "民办养老机构消防安全达标提升实施方案",
                "民办养老机构消防安全达标提升情况", "养老机构等级评定", "延伸服务开展情况", "入住老年人医疗服务",
                "护理型床位建设及比例", "养老护理员职业技能培训制度", "养老服务与管理培训", "一事一议解决消防审验问题",
                "消防安全专项整治三年行动及演练培训", "食品安全教育和食堂主体责任", "防止保健品虚假宣传或欺诈销售",
                "防范欺老虐老行为", "防范和处置非法集资", "各类风险安全评估与管控化解", "养老机构信息系统数据更新录入",
            ),
            start=1,
        )
    ],
]

CHECKLIST: dict[str, ChecklistItem] = {item.ref: item for item in _ITEMS}
