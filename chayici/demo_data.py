"""The demo directory: the Lishui bureau, its people, scenarios, themes and ~2,000 objects.

Used by ``chayici demo`` and by tests, never by production code paths. Everything is generated
from a seed, so two builds with the same seed and clock are identical (tests rely on it). The
names of people and market entities are invented; unit names, regions and the three provincial
themes follow the 2022 plan (seed/000_*.txt) and domain.md.

Rows go through the same history as real data: the small tables through the
``DirectoryEditor``, the objects through one bulk insert plus one bulk version insert, and the whole
load is one audit event.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from handlers.directory.regions import LISHUI_REGIONS
from handlers.directory.roles import set_roles
from handlers.directory.service import DirectoryEditor
from handlers.directory.snapshots import row_snapshot
from handlers.directory.uscc import CHARSET, make_uscc
from storage import history
from storage.audit import AuditEntry, AuditLog
from storage.models.directory import (
    InspectionObject,
    Inspector,
    PowerItem,
    Scenario,
    ScenarioItem,
    ScenarioUnit,
    Theme,
    ThemeScenario,
)
from storage.models.platform import (
    ROLE_AUDITOR,
    ROLE_INSPECTOR,
    ROLE_LEADER,
    ROLE_SYSADMIN,
    ROLE_UNIT_ADMIN,
    ChatIdentity,
    Conversation,
    Person,
    Unit,
)

DEMO_CORP = "dingchayicicorp"
BUREAU = "丽水市综合行政执法局"

# (name, short name for document numbers, kind, parent, region)
UNITS: tuple[tuple[str, str, str, str | None, str | None], ...] = (
    (BUREAU, "丽综执", "bureau", None, "331100"),
    ("指挥中心", "丽综执指挥", "dept", BUREAU, "331100"),
    ("政策法规处", "丽综执法规", "dept", BUREAU, "331100"),
    ("市容环境卫生监管处", "丽综执市容", "dept", BUREAU, "331100"),
    ("市政公用监管处", "丽综执市政", "dept", BUREAU, "331100"),
    ("城市规划监管处", "丽综执规划", "dept", BUREAU, "331100"),
    ("直属执法大队", "丽综执直属", "squad", BUREAU, "331100"),
    ("莲都执法大队", "丽综执莲都", "squad", BUREAU, "331102"),
    ("开发区执法大队", "丽综执开发区", "squad", BUREAU, "331100"),
    ("青田县综合行政执法局", "青综执", "bureau", BUREAU, "331121"),
    ("缙云县综合行政执法局", "缙综执", "bureau", BUREAU, "331122"),
    ("遂昌县综合行政执法局", "遂综执", "bureau", BUREAU, "331123"),
    ("松阳县综合行政执法局", "松综执", "bureau", BUREAU, "331124"),
    ("云和县综合行政执法局", "云综执", "bureau", BUREAU, "331125"),
    ("庆元县综合行政执法局", "庆综执", "bureau", BUREAU, "331126"),
    ("景宁畲族自治县综合行政执法局", "景综执", "bureau", BUREAU, "331127"),
    ("龙泉市综合行政执法局", "龙综执", "bureau", BUREAU, "331181"),
    ("丽水市市场监督管理局", "丽市监", "external", None, "331100"),
    ("丽水市交通运输局", "丽交", "external", None, "331100"),
    ("丽水市公安局", "丽公", "police", None, "331100"),
    ("丽水市人民检察院", "丽检", "procuratorate", None, "331100"),
    ("丽水市人民政府", "丽政", "government", None, "331100"),
)
# Who answers for objects in each region.
JURISDICTION = {
    "331100": ("直属执法大队", "开发区执法大队"),
    "331102": ("莲都执法大队",),
    "331121": ("青田县综合行政执法局",),
    "331122": ("缙云县综合行政执法局",),
    "331123": ("遂昌县综合行政执法局",),
    "331124": ("松阳县综合行政执法局",),
    "331125": ("云和县综合行政执法局",),
    "331126": ("庆元县综合行政执法局",),
    "331127": ("景宁畲族自治县综合行政执法局",),
    "331181": ("龙泉市综合行政执法局",),
}
FIELDS = {
    "市容环境卫生监管处": ["市容环境卫生"],
    "市政公用监管处": ["市政公用"],
    "城市规划监管处": ["城乡规划"],
    "丽水市市场监督管理局": ["食品安全", "市场监管"],
    "丽水市交通运输局": ["道路运输"],
    "丽水市公安局": ["道路交通安全"],
}
SQUAD_FIELDS = ["市容环境卫生", "市政公用", "城乡规划"]

# (unit, inspectors with a certificate, auxiliaries) -- unit admins are counted separately.
STAFFING: tuple[tuple[str, int, int], ...] = (
    ("市容环境卫生监管处", 3, 0),
    ("市政公用监管处", 2, 0),
    ("城市规划监管处", 2, 0),
    ("直属执法大队", 5, 1),
    ("莲都执法大队", 5, 2),
    ("开发区执法大队", 2, 0),
    ("青田县综合行政执法局", 1, 0),
    ("缙云县综合行政执法局", 1, 0),
    ("龙泉市综合行政执法局", 1, 0),
    ("丽水市市场监督管理局", 3, 0),
    ("丽水市交通运输局", 2, 0),
    ("丽水市公安局", 2, 0),
)
ADMIN_UNITS = (
    "市容环境卫生监管处",
    "市政公用监管处",
    "城市规划监管处",
    "直属执法大队",
    "莲都执法大队",
    "丽水市市场监督管理局",
    "丽水市交通运输局",
    "丽水市公安局",
)
LEAD_UNITS = ("市容环境卫生监管处", "市政公用监管处", "城市规划监管处", "直属执法大队", "莲都执法大队")

CITY_LAW = "《城市市容和环境卫生管理条例》"
ZJ_LAW = "《浙江省城市市容和环境卫生管理条例》"
ROAD_LAW = "《城市道路管理条例》"
ZJ_ENFORCEMENT = "《浙江省综合行政执法条例》"

# code, name, owner, basis, check points, fields, provision, methods
ITEMS: tuple[tuple[str, str, str, str, list[str], list[str], str, list[str]], ...] = (
    (
        "ZF-SR-001",
        "对在道路、公共场所擅自摆摊设点的检查",
        "市容环境卫生监管处",
        f"{CITY_LAW}第十四条；{ZJ_LAW}；{ZJ_ENFORCEMENT}",
        [
            "是否在道路两侧、公共场所擅自摆摊设点",
            "临时设摊是否在划定的区域和时段内经营",
            "经营后是否清理场地",
        ],
        ["市容环境卫生"],
        f"{CITY_LAW}第十四条",
        ["on_site"],
    ),
    (
        "ZF-SR-002",
        "对超出门窗、外墙经营（店外经营）的检查",
        "市容环境卫生监管处",
        f"{ZJ_LAW}；{ZJ_ENFORCEMENT}",
        ["是否超出门窗、外墙摆放商品或作业", "门前责任区是否保持整洁"],
        ["市容环境卫生"],
        ZJ_LAW,
        ["on_site"],
    ),
    (
        "ZF-SR-003",
        "对户外广告、招牌设置的检查",
        "市容环境卫生监管处",
        f"{CITY_LAW}；{ZJ_LAW}",
        ["户外广告是否经批准设置", "招牌是否破损、污浊或存在安全隐患"],
        ["市容环境卫生"],
        ZJ_LAW,
        ["on_site", "written"],
    ),
    (
        "ZF-SR-004",
        "对非机动车（含共享单车）乱停放的检查",
        "市容环境卫生监管处",
        f"{ZJ_LAW}；《丽水市文明行为促进条例》",
        ["共享单车是否在规定区域停放", "运营企业是否及时清理调度"],
        ["市容环境卫生"],
        ZJ_LAW,
        ["on_site", "network"],
    ),
    (
        "ZF-SR-005",
        "对建筑垃圾运输、处置的检查",
        "市容环境卫生监管处",
        "《城市建筑垃圾管理规定》；" + ZJ_LAW,
        ["是否取得建筑垃圾处置核准", "运输车辆是否密闭，有无沿途撒漏", "是否在指定地点倾倒"],
        ["市容环境卫生"],
        "《城市建筑垃圾管理规定》",
        ["on_site"],
    ),
    (
        "ZF-SR-006",
        "对乱张贴、乱涂写、乱刻画的检查",
        "市容环境卫生监管处",
        f"{CITY_LAW}第十七条；{ZJ_LAW}",
        ["建筑物、设施和树木上有无涂写、刻画", "有无擅自张贴宣传品"],
        ["市容环境卫生"],
        f"{CITY_LAW}第十七条",
        ["on_site"],
    ),
    (
        "ZF-HB-001",
        "对餐饮服务业油烟排放的检查",
        "市容环境卫生监管处",
        "《中华人民共和国大气污染防治法》第八十一条；" + ZJ_ENFORCEMENT,
        ["是否安装油烟净化设施并正常使用", "油烟是否达标排放", "是否定期清洗并留存记录"],
        ["市容环境卫生"],
        "《中华人民共和国大气污染防治法》第八十一条",
        ["on_site", "written"],
    ),
    (
        "ZF-SZ-001",
        "对擅自占用、挖掘城市道路的检查",
        "市政公用监管处",
        f"{ROAD_LAW}第二十七条、第三十一条、第三十三条",
        [
            "占用、挖掘道路是否经批准",
            "是否按批准的位置、面积和期限占用",
            "施工现场是否设置明显标志和安全防围设施",
        ],
        ["市政公用"],
        f"{ROAD_LAW}第二十七条",
        ["on_site"],
    ),
    (
        "ZF-SZ-002",
        "对损坏人行道及附属设施的检查",
        "市政公用监管处",
        f"{ROAD_LAW}第二十七条",
        ["人行道铺装、盲道是否被损坏", "机动车是否在人行道上碾压、停放造成损坏"],
        ["市政公用"],
        f"{ROAD_LAW}第二十七条",
        ["on_site"],
    ),
    (
        "ZF-GH-001",
        "对未取得建设工程规划许可证进行建设的检查",
        "城市规划监管处",
        "《中华人民共和国城乡规划法》第四十条、第六十四条",
        ["是否取得建设工程规划许可证", "是否按照许可内容建设"],
        ["城乡规划"],
        "《中华人民共和国城乡规划法》第四十条",
        ["on_site", "written"],
    ),
    (
        "SJ-SP-001",
        "对食用农产品销售者的检查",
        "丽水市市场监督管理局",
        "《中华人民共和国食品安全法》；《食用农产品市场销售质量安全监督管理办法》",
        ["是否销售腐烂变质、农药残留超标的农产品", "是否建立进货查验记录", "自产自销农户是否在指定区域销售"],
        ["食品安全"],
        "《中华人民共和国食品安全法》",
        ["on_site"],
    ),
    (
        "SJ-SP-002",
        "对餐饮服务提供者的检查",
        "丽水市市场监督管理局",
        "《中华人民共和国食品安全法》；《餐饮服务食品安全操作规范》",
        ["是否取得食品经营许可证", "从业人员是否持有健康证明", "后厨卫生和原料贮存是否符合要求"],
        ["食品安全"],
        "《中华人民共和国食品安全法》",
        ["on_site"],
    ),
    (
        "SJ-JL-001",
        "对经营者使用计量器具的检查",
        "丽水市市场监督管理局",
        "《中华人民共和国计量法》",
        ["电子秤等计量器具是否经检定合格", "有无短斤缺两"],
        ["市场监管"],
        "《中华人民共和国计量法》",
        ["on_site"],
    ),
    (
        "JT-YS-001",
        "对出租汽车、网约车违规揽客的检查",
        "丽水市交通运输局",
        "《浙江省道路运输条例》；《巡游出租汽车经营服务管理规定》",
        ["是否在禁止区域违规揽客、拒载", "网约车是否取得运输证和驾驶员证"],
        ["道路运输"],
        "《浙江省道路运输条例》",
        ["on_site", "network"],
    ),
    (
        "GA-JJ-001",
        "对机动车违法停放的检查",
        "丽水市公安局",
        "《中华人民共和国道路交通安全法》第五十六条",
        ["机动车是否在人行道、站前广场等禁停区域停放"],
        ["道路交通安全"],
        "《中华人民共和国道路交通安全法》第五十六条",
        ["on_site"],
    ),
)

# name, lead, co-units, item codes, object types, industries, description
SCENARIOS: tuple[tuple[str, str, list[str], list[str], list[str], list[str], str], ...] = (
    (
        "时令蔬果自产自销疏导点联合检查",
        "市容环境卫生监管处",
        ["丽水市市场监督管理局", "莲都执法大队"],
        ["ZF-SR-001", "SJ-SP-001", "SJ-JL-001"],
        ["个体工商户", "农民专业合作社", "其他"],
        ["水果蔬菜零售", "农产品种植"],
        "时令蔬果上市期间，对疏导点及周边自产自销摊点的设摊秩序、农产品质量和计量一并检查。",
    ),
    (
        "火车站站前区域联合检查",
        "直属执法大队",
        ["市容环境卫生监管处", "丽水市交通运输局", "丽水市公安局"],
        ["ZF-SR-002", "ZF-SR-003", "JT-YS-001", "GA-JJ-001"],
        [],
        ["住宿", "餐饮服务", "零售", "出租汽车"],
        "丽水火车站站前广场及周边道路：店外经营、广告招牌、违规揽客和违法停车一次检查到位。",
    ),
    (
        "人行道秩序联合检查",
        "市容环境卫生监管处",
        ["市政公用监管处", "丽水市公安局"],
        ["ZF-SR-002", "ZF-SR-004", "ZF-SZ-001", "ZF-SZ-002", "GA-JJ-001"],
        [],
        [],
        "人行道上的店外经营、非机动车乱停放、擅自占道挖掘、设施损坏和机动车违停。",
    ),
    (
        "建设工地文明施工联合检查",
        "市容环境卫生监管处",
        ["城市规划监管处", "市政公用监管处"],
        ["ZF-SR-005", "ZF-GH-001", "ZF-SZ-001"],
        ["企业"],
        ["建筑施工"],
        "建筑垃圾运输处置、规划许可和道路挖掘一并检查。",
    ),
    (
        "餐饮门店油烟与门前秩序联合检查",
        "莲都执法大队",
        ["市容环境卫生监管处", "丽水市市场监督管理局"],
        ["ZF-HB-001", "ZF-SR-002", "ZF-SR-003", "SJ-SP-002"],
        ["企业", "个体工商户"],
        ["餐饮服务"],
        "餐饮门店油烟净化、店外经营、招牌和食品安全一并检查。",
    ),
    (
        "城市道路挖掘占道施工联合检查",
        "市政公用监管处",
        ["丽水市公安局"],
        ["ZF-SZ-001", "GA-JJ-001"],
        ["企业"],
        ["建筑施工"],
        "道路挖掘审批、现场围挡与交通组织一并检查。",
    ),
)

# name, level, scenarios, deadline, min joint inspections, claimed by, claimed on
THEMES: tuple[tuple[str, str, list[str], date | None, int, str | None, date | None], ...] = (
    (
        "时令蔬果自产自销监管一件事",
        "provincial",
        ["时令蔬果自产自销疏导点联合检查"],
        date(2026, 12, 31),
        1,
        "市容环境卫生监管处",
        date(2026, 10, 15),
    ),
    (
        "火车站站前监管一件事",
        "provincial",
        ["火车站站前区域联合检查"],
        date(2026, 11, 30),
        1,
        "直属执法大队",
        date(2026, 9, 20),
    ),
    ("人行道监管一件事", "provincial", ["人行道秩序联合检查"], date(2026, 12, 31), 1, None, None),
    ("建设工地文明施工监管一件事", "local", ["建设工地文明施工联合检查"], None, 1, None, None),
    ("餐饮油烟扰民监管一件事", "local", ["餐饮门店油烟与门前秩序联合检查"], None, 1, None, None),
    ("城市道路挖掘监管一件事", "local", ["城市道路挖掘占道施工联合检查"], None, 2, None, None),
)

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林高罗郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余叶程苏吕魏丁任沈姚卢钟姜崔谭陆范汪廖石金夏方邹熊孟秦邱侯江尹薛雷龙陶贺毛郝顾龚邵钱严"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰涛明超秀霞平刚桂英华建国红文斌鹏辉玲燕宇浩晨欣佳怡俊凯婷雪琳瑶志海峰波丹宁"
SHOP_WORDS = "鑫丰瓯江括苍万象金源百草紫金南明好运顺达佳禾绿源山水云峰宏泰永盛嘉和恒信天宁龙腾凤鸣青松"
STREETS = (
    "人民街",
    "解放街",
    "中山街",
    "丽阳街",
    "紫金路",
    "括苍路",
    "大洋路",
    "花园路",
    "继光街",
    "万象街",
    "灯塔街",
    "城北街",
)
INDUSTRIES = {
    "企业": ("餐饮服务", "食品销售", "建筑施工", "住宿", "零售", "广告", "出租汽车", "物业管理"),
    "个体工商户": ("餐饮服务", "水果蔬菜零售", "食品销售", "零售", "住宿"),
    "农民专业合作社": ("农产品种植",),
    "其他": ("物业管理", "零售"),
}
SHOP_SUFFIX = {
    "餐饮服务": "餐饮店",
    "水果蔬菜零售": "水果店",
    "食品销售": "食品商行",
    "零售": "百货店",
    "住宿": "宾馆",
}
COMPANY_SUFFIX = {
    "餐饮服务": "餐饮管理有限公司",
    "食品销售": "食品有限公司",
    "建筑施工": "建设工程有限公司",
    "住宿": "酒店管理有限公司",
    "零售": "商贸有限公司",
    "广告": "广告有限公司",
    "出租汽车": "出租汽车有限公司",
    "物业管理": "物业服务有限公司",
}


@dataclass(frozen=True)
class DemoPerson:
    staff_id: str
    name: str
    unit: str
    roles: tuple[str, ...]
    title: str
    mobile: str
    person_id: int


@dataclass(frozen=True)
class DemoGroup:
    conversation_id: str
    title: str
    purpose: str
    owner_staff_id: str
    member_staff_ids: tuple[str, ...]


@dataclass
class DemoDirectory:
    """What the demo (and tests) need to know about the generated directory."""

    people: list[DemoPerson]
    groups: list[DemoGroup]
    units: dict[str, int]
    scenarios: list[str]
    themes: list[str]
    object_ids: list[int] = field(default_factory=list)
    corp_id: str = DEMO_CORP

    def person(self, staff_id: str) -> DemoPerson:
        return next(p for p in self.people if p.staff_id == staff_id)

    def with_role(self, role: str, unit: str | None = None) -> list[DemoPerson]:
        return [p for p in self.people if role in p.roles and (unit is None or p.unit == unit)]


def build_demo_directory(
    session: Session,
    *,
    now: datetime,
    audit_log: AuditLog | None,
    seed: int = 2022,
    objects: int = 2000,
    corp_id: str = DEMO_CORP,
) -> DemoDirectory:
    """Fill an empty directory with the demo data set, inside the caller's transaction."""
    rng = random.Random(seed)
    editor = DirectoryEditor(session, actor="demo", now=now, audit=None, reason="演示数据")
    units = _units(editor)
    names = _NamePool(rng)
    people = _people(session, editor, rng, names, units, now, corp_id)
    leaders = [p for p in people if ROLE_LEADER in p.roles]
    for unit_name, unit in units.items():
        approver = leaders[0] if unit_name == BUREAU else leaders[1]
        if unit.kind in ("bureau", "dept", "squad") and (unit_name in LEAD_UNITS or unit_name == BUREAU):
            editor.update(unit, {"approver_person_id": approver.person_id}, reason="设定任务审批人")
    items = _items(editor, units)
    scenarios = _scenarios(editor, units, items)
    _themes(editor, units, scenarios, people, now)
    groups = _groups(session, people, units)
    object_ids = _objects(session, rng, names, units, now, objects)
    if audit_log is not None:
        audit_log.append(
            session,
            AuditEntry(
                action="directory.demo_loaded",
                entity_type="directory",
                entity_id="demo",
                actor="demo",
                detail={
                    "seed": seed,
                    "units": len(units),
                    "people": len(people),
                    "items": len(items),
                    "scenarios": len(scenarios),
                    "themes": len(THEMES),
                    "objects": len(object_ids),
                },
            ),
            at=now,
        )
    return DemoDirectory(
        people=people,
        groups=groups,
        units={name: unit.id for name, unit in units.items()},
        scenarios=list(scenarios),
        themes=[theme[0] for theme in THEMES],
        object_ids=object_ids,
        corp_id=corp_id,
    )


class _NamePool:
    """Distinct invented personal names, drawn from the seed."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used: set[str] = set()

    def person(self) -> str:
        while True:
            name = self.rng.choice(SURNAMES) + "".join(
                self.rng.choice(GIVEN) for _ in range(self.rng.choice((1, 2, 2)))
            )
            if name not in self.used:
                self.used.add(name)
                return name

    def any_person(self) -> str:
        """A contact name; repeats are fine for market entities' contacts."""
        return self.rng.choice(SURNAMES) + "".join(
            self.rng.choice(GIVEN) for _ in range(self.rng.choice((1, 2)))
        )


def _units(editor: DirectoryEditor) -> dict[str, Unit]:
    units: dict[str, Unit] = {}
    for name, short, kind, parent, region in UNITS:
        unit = Unit(
            name=name,
            short_name=short,
            kind=kind,
            parent_id=units[parent].id if parent else None,
            region_code=region,
            active=True,
            address="丽水市莲都区花园路 1 号" if name == BUREAU else None,
            phone="0578-2123456" if name == BUREAU else None,
        )
        units[name] = editor.create(unit)
    return units


def _mobile(rng: random.Random) -> str:
    return "1" + rng.choice("3578") + "".join(rng.choice("0123456789") for _ in range(9))


def _people(
    session: Session,
    editor: DirectoryEditor,
    rng: random.Random,
    names: _NamePool,
    units: dict[str, Unit],
    now: datetime,
    corp_id: str,
) -> list[DemoPerson]:
    """Leaders, the system administrator, the auditor, unit admins and ~40 inspectors."""
    plan: list[tuple[str, str, tuple[str, ...], str, bool]] = [
        (BUREAU, "局长", (ROLE_LEADER,), "", False),
        (BUREAU, "副局长", (ROLE_LEADER,), "", False),
        ("指挥中心", "系统管理员", (ROLE_SYSADMIN,), "", False),
        ("政策法规处", "法制审核员", (ROLE_AUDITOR,), "", False),
    ]
    for unit in ADMIN_UNITS:
        plan.append((unit, "负责人", (ROLE_UNIT_ADMIN, ROLE_INSPECTOR), "cert", False))
    for unit, certified, auxiliaries in STAFFING:
        plan.extend((unit, "执法队员", (ROLE_INSPECTOR,), "cert", False) for _ in range(certified))
        plan.extend((unit, "协管员", (), "", True) for _ in range(auxiliaries))
    # Certificates that need attention on 2026-12-01: three expire within 30 days, one has expired.
    special_ends = [date(2026, 12, 8), date(2026, 12, 18), date(2026, 12, 29), date(2026, 11, 20)]
    special_at = {9, 14, 21, 27}
    people: list[DemoPerson] = []
    cert_seq = 0
    for index, (unit_name, title, roles, cert, auxiliary) in enumerate(plan, start=1):
        unit = units[unit_name]
        name = names.person()
        staff_id = f"lszf{index:04d}"
        mobile = _mobile(rng)
        person = Person(name=name, unit_id=unit.id, mobile=mobile, active=True, created_at=now)
        session.add(person)
        session.flush()
        person.identities.append(ChatIdentity(corp_id=corp_id, staff_id=staff_id, nick=name))
        set_roles(person, list(roles), unit.id)
        session.flush()
        if cert or auxiliary:
            inspector = Inspector(
                person_id=person.id,
                unit_id=unit.id,
                fields=FIELDS.get(unit_name, SQUAD_FIELDS),
                auxiliary=auxiliary,
                assignable=not auxiliary,
                active=True,
                cert_status="none" if auxiliary else "valid",
            )
            if cert:
                cert_seq += 1
                start = date(rng.choice((2022, 2023, 2024)), rng.randint(1, 12), 1)
                end = date(start.year + 6, start.month, 1)
                if index in special_at:
                    end = special_ends.pop(0)
                region = unit.region_code or "331100"
                inspector.cert_no = f"ZJ{region}{start.year}{cert_seq:04d}"
                inspector.cert_valid_from = start
                inspector.cert_valid_to = end
            editor.create(inspector)
        people.append(
            DemoPerson(
                staff_id=staff_id,
                name=name,
                unit=unit_name,
                roles=tuple(roles),
                title=title,
                mobile=mobile,
                person_id=person.id,
            )
        )
    return people


def _items(editor: DirectoryEditor, units: dict[str, Unit]) -> dict[str, PowerItem]:
    items: dict[str, PowerItem] = {}
    for code, name, owner, basis, points, tags, provision, methods in ITEMS:
        item = PowerItem(
            code=code,
            name=name,
            legal_basis=basis,
            owner_unit_id=units[owner].id,
            default_method=methods[0],
            methods=methods,
            check_points=points,
            field_tags=tags,
            provision=provision,
            order_basis=provision,
            rectify_days_default=15,
            rectify_days_min=3,
            active=True,
        )
        items[code] = editor.create(item)
    return items


def _scenarios(
    editor: DirectoryEditor, units: dict[str, Unit], items: dict[str, PowerItem]
) -> dict[str, Scenario]:
    scenarios: dict[str, Scenario] = {}
    for name, lead, co_units, codes, object_types, industries, description in SCENARIOS:
        scenario = Scenario(
            name=name,
            lead_unit_id=units[lead].id,
            description=description,
            object_types=object_types,
            industries=industries,
            active=True,
        )
        scenario.co_units = [ScenarioUnit(unit_id=units[unit].id) for unit in co_units]
        scenario.items = [
            ScenarioItem(power_item_id=items[code].id, position=position)
            for position, code in enumerate(codes)
        ]
        scenarios[name] = editor.create(scenario)
    return scenarios


def _themes(
    editor: DirectoryEditor,
    units: dict[str, Unit],
    scenarios: dict[str, Scenario],
    people: list[DemoPerson],
    now: datetime,
) -> None:
    for name, level, scenario_names, deadline, minimum, claimed_by, claimed_on in THEMES:
        theme = Theme(
            name=name,
            level=level,
            deadline=deadline,
            min_joint_inspections=minimum,
            status="open",
            active=True,
        )
        theme.scenarios = [ThemeScenario(scenario_id=scenarios[s].id) for s in scenario_names]
        editor.create(theme)
        if claimed_by and claimed_on:
            admin = next(p for p in people if p.unit == claimed_by and ROLE_UNIT_ADMIN in p.roles)
            editor.update(
                theme,
                {
                    "claimed_by_unit_id": units[claimed_by].id,
                    "claimed_by_person_id": admin.person_id,
                    "claimed_at": datetime.combine(claimed_on, datetime.min.time(), tzinfo=now.tzinfo),
                    "status": "claimed",
                },
                reason=f"{claimed_by}认领",
            )


def _groups(session: Session, people: list[DemoPerson], units: dict[str, Unit]) -> list[DemoGroup]:
    admins = [p for p in people if ROLE_UNIT_ADMIN in p.roles]
    lead_admin = next(p for p in admins if p.unit == "市容环境卫生监管处")
    inspectors = [p for p in people if ROLE_INSPECTOR in p.roles and ROLE_UNIT_ADMIN not in p.roles]
    joint_members = [p.staff_id for p in admins] + [p.staff_id for p in inspectors[:8]]
    leaders = [p for p in people if ROLE_LEADER in p.roles]
    others = [p for p in people if p.roles and p.roles[0] in (ROLE_SYSADMIN, ROLE_AUDITOR)]
    groups = [
        DemoGroup(
            conversation_id="cidDEMOjointWork0001==",
            title="综合查一次联合检查工作群",
            purpose="joint",
            owner_staff_id=lead_admin.staff_id,
            member_staff_ids=tuple(dict.fromkeys(joint_members)),
        ),
        DemoGroup(
            conversation_id="cidDEMOleadership001==",
            title="综合查一次工作领导小组",
            purpose="leadership",
            owner_staff_id=leaders[0].staff_id,
            member_staff_ids=tuple(p.staff_id for p in [*leaders, *admins, *others]),
        ),
    ]
    for group in groups:
        session.add(
            Conversation(
                id=group.conversation_id,
                kind="group",
                title=group.title,
                purpose=group.purpose,
                unit_id=units["市容环境卫生监管处"].id if group.purpose == "joint" else units[BUREAU].id,
            )
        )
    session.flush()
    return groups


def _objects(
    session: Session,
    rng: random.Random,
    names: _NamePool,
    units: dict[str, Unit],
    now: datetime,
    count: int,
) -> list[int]:
    """Market entities across the ten areas, with valid generated codes, every risk class, flags."""
    regions = list(LISHUI_REGIONS)
    weights = [10, 35, 8, 7, 6, 6, 5, 5, 5, 8]
    types = ["企业", "个体工商户", "农民专业合作社", "其他"]
    type_weights = [45, 45, 7, 3]
    used: set[str] = set()
    rows: list[dict[str, Any]] = []
    for index in range(count):
        region = rng.choices(regions, weights)[0]
        entity_type = rng.choices(types, type_weights)[0]
        industry = rng.choice(INDUSTRIES[entity_type])
        code, legacy = _code(rng, region, entity_type, index, used)
        risk = (
            ("A", "B", "C", "D")[index]
            if index < 4
            else rng.choices(["A", "B", "C", "D", None], [38, 34, 17, 7, 4])[0]
        )
        area = LISHUI_REGIONS[region]
        place = "丽水市" if region == "331100" else area
        word = "".join(rng.choice(SHOP_WORDS) for _ in range(2))
        if entity_type == "企业":
            name = (
                f"丽水市{word}{COMPANY_SUFFIX[industry]}"
                if region == "331100"
                else f"{area}{word}{COMPANY_SUFFIX[industry]}"
            )
        elif entity_type == "个体工商户":
            name = f"{place}{word}{SHOP_SUFFIX.get(industry, '商店')}"
        elif entity_type == "农民专业合作社":
            name = f"{place}{word}果蔬专业合作社"
        else:
            name = f"{place}{word}物业服务中心"
        name = f"{name}（{index + 1}号）" if rng.random() < 0.15 else name
        row: dict[str, Any] = {
            "uscc": code,
            "legacy_reg_no": legacy,
            "name": name,
            "entity_type": entity_type,
            "legal_rep": names.any_person(),
            "address": f"丽水市{area if region != '331100' else '莲都区'}{rng.choice(STREETS)}{rng.randint(1, 399)}号",
            "contact_name": names.any_person(),
            "contact_phone": _mobile(rng),
            "industry": industry,
            "region_code": region,
            "jurisdiction_unit_id": units[rng.choice(JURISDICTION[region])].id,
            "registration_status": rng.choices(["存续", "注销", "吊销"], [96, 3, 1])[0],
            "risk_class": risk,
            "active": rng.random() > 0.01,
            "updated_at": now,
        }
        _flags(rng, row, index)
        rows.append(row)
    if not rows:
        return []
    table = InspectionObject.__table__
    ids = list(
        session.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True), rows).scalars()
    )
    entries = []
    for row, new_id in zip(rows, ids, strict=True):
        row["id"] = new_id
        entries.append(history.VersionEntry("object", new_id, "create", {}, row_snapshot(table, row), 1))
    history.record_many(session, entries, changed_by="demo", reason="演示数据", at=now)
    return ids


def _code(
    rng: random.Random, region: str, entity_type: str, index: int, used: set[str]
) -> tuple[str | None, str | None]:
    """A valid, unused USCC (or, for a few individual businesses, a 15-digit legacy number)."""
    while True:
        if entity_type == "个体工商户" and index % 97 == 5:
            legacy = region + "6" + "".join(rng.choice("0123456789") for _ in range(8))
            if legacy not in used:
                used.add(legacy)
                return None, legacy
            continue
        prefix = {"企业": "91", "个体工商户": "92", "农民专业合作社": "93"}.get(entity_type)
        if prefix is None:
            prefix = "Y1" if index % 2 else "52"
        body = "MA" + "".join(rng.choice(CHARSET) for _ in range(7))
        code = make_uscc(prefix + region + body)
        if code not in used:
            used.add(code)
            return code, None


def _flags(rng: random.Random, row: dict[str, Any], index: int) -> None:
    for flag in ("key_supervision", "abnormal", "dishonest", "no_disturb"):
        row[f"{flag}_from"] = None
        row[f"{flag}_to"] = None
    risk = row["risk_class"]
    if risk in ("C", "D") and (index < 4 or rng.random() < 0.3):
        row["key_supervision_from"] = date(2026, rng.randint(1, 6), 1)
        row["key_supervision_to"] = date(2027, 6, 30) if rng.random() < 0.5 else None
    if rng.random() < 0.04 or index == 1:
        row["abnormal_from"] = date(2025, rng.randint(1, 12), rng.randint(1, 28))
    if rng.random() < 0.01 or index == 2:
        row["dishonest_from"] = date(2025, rng.randint(1, 12), rng.randint(1, 28))
        row["dishonest_to"] = date(2028, 12, 31)
    if risk == "A" and row["key_supervision_from"] is None and rng.random() < 0.4:
        row["no_disturb_from"] = date(2026, 1, 1)
        row["no_disturb_to"] = date(2026, 12, 31)
