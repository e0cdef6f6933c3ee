"""The demo organisation: the sample staff named in the regulation's source, several regions,
every role. Loaded through the staff API (`csd seed`), so it passes the same validation as any
other change, and idempotently: loading it twice changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from csd.staff.v1 import staff_pb2, staff_pb2_grpc

R = staff_pb2
DEMO_VERSION = "v1"

REGIONS = [
    ("head-office", "Wuxi head office", R.REGION_TIER_HEAD_OFFICE),
    ("east", "East China (Shanghai)", R.REGION_TIER_1),
    ("north", "North China (Beijing)", R.REGION_TIER_1),
    ("central", "Central China (Wuhan)", R.REGION_TIER_2),
    ("southwest", "Southwest (Kunming)", R.REGION_TIER_OTHER),
]


@dataclass(frozen=True)
class DemoPerson:
    id: str
    name: str
    role: int
    track: int = R.TRACK_UNSPECIFIED
    level: int = 0
    region: str = ""
    manager: str = ""


TS, CR = R.TRACK_TECHNICAL_SERVICE, R.TRACK_CUSTOMER_RELATIONS

# Managers come before the people who report to them.
PEOPLE = [
    DemoPerson("huang.aiping", "黃愛平", R.ROLE_DEPARTMENT_MANAGER, CR, 16),
    DemoPerson(
        "jiang.chengzhao", "江承釗", R.ROLE_DEPARTMENT_MANAGER, TS, 16, manager="huang.aiping"
    ),
    DemoPerson("shi.wenjun", "施文君", R.ROLE_DEPARTMENT_ASSISTANT, CR, 5, manager="huang.aiping"),
    DemoPerson("chen.jing", "陳靜", R.ROLE_DEPARTMENT_CLERK, CR, 2, manager="huang.aiping"),
    DemoPerson(
        "gao.lei", "高雷", R.ROLE_SENIOR_SUPPORT_ENGINEER, TS, 11, manager="jiang.chengzhao"
    ),
    DemoPerson(
        "zhou.xiaoming",
        "周曉明",
        R.ROLE_TECHNICAL_SERVICE_TEAM_LEAD,
        TS,
        14,
        manager="jiang.chengzhao",
    ),
    DemoPerson("lu.bingqing", "魯冰青", R.ROLE_RND_LEAD),
    DemoPerson("ye.kai", "葉凱", R.ROLE_RND_LEAD),
    DemoPerson("fan.haidong", "樊海東", R.ROLE_RND_LEAD),
    DemoPerson("lin.gong", "林工", R.ROLE_RND_LEAD),
    DemoPerson("zhang.bin", "張斌", R.ROLE_QUALITY_OFFICE),
    DemoPerson("pan.zhongdong", "潘仲冬", R.ROLE_QUALITY_OFFICE),
    DemoPerson("sun.li", "孫立", R.ROLE_SALES, region="east"),
    DemoPerson(
        "wang.qiang", "王強", R.ROLE_TECHNICAL_SERVICE_MANAGER, TS, 13, "east", "jiang.chengzhao"
    ),
    DemoPerson("li.na", "李娜", R.ROLE_CUSTOMER_SERVICE_MANAGER, CR, 13, "east", "huang.aiping"),
    DemoPerson("zhao.lei", "趙磊", R.ROLE_TECHNICAL_SERVICE_ENGINEER, TS, 3, "east", "wang.qiang"),
    DemoPerson("liu.yang", "劉洋", R.ROLE_TECHNICAL_SERVICE_ENGINEER, TS, 8, "east", "wang.qiang"),
    DemoPerson(
        "zhang.wei", "張偉", R.ROLE_TECHNICAL_SERVICE_MANAGER, TS, 12, "north", "jiang.chengzhao"
    ),
    DemoPerson("wu.min", "吳敏", R.ROLE_CUSTOMER_SERVICE_MANAGER, CR, 14, "north", "huang.aiping"),
    DemoPerson("sun.hao", "孫浩", R.ROLE_TECHNICAL_SERVICE_ENGINEER, TS, 2, "north", "zhang.wei"),
    DemoPerson(
        "he.jun", "何軍", R.ROLE_TECHNICAL_SERVICE_MANAGER, TS, 10, "central", "jiang.chengzhao"
    ),
    DemoPerson("xu.li", "徐麗", R.ROLE_CUSTOMER_SERVICE_MANAGER, CR, 13, "central", "huang.aiping"),
    DemoPerson("ma.chao", "馬超", R.ROLE_TECHNICAL_SERVICE_ENGINEER, TS, 4, "central", "he.jun"),
    # Southwest has no customer service manager: its technical service manager covers (WR-3).
    DemoPerson(
        "yang.fan", "楊帆", R.ROLE_TECHNICAL_SERVICE_MANAGER, TS, 11, "southwest", "jiang.chengzhao"
    ),
    DemoPerson(
        "luo.jie", "羅杰", R.ROLE_TECHNICAL_SERVICE_ENGINEER, TS, 1, "southwest", "yang.fan"
    ),
    # Added last: a person's phone follows their place in this list, and the people loaded
    # before keep theirs. The executive (general manager) team approves salary changes (PAY-1).
    DemoPerson("zhou.guoqiang", "周國強", R.ROLE_EXECUTIVE),
    # The vice-president in charge approves a disputed travel allowance rate (PAY-3).
    DemoPerson("zheng.hua", "鄭華", R.ROLE_VICE_PRESIDENT),
]


# Hospital projects under maintenance, each with its communication log's keeper (CL-1).
PROJECTS = [
    ("sh-first-hospital", "上海第一醫院", "east", "zhao.lei"),
    ("sh-renji", "上海仁濟醫院", "east", "liu.yang"),
    ("bj-union", "北京協和醫院", "north", "sun.hao"),
    ("wh-tongji", "武漢同濟醫院", "central", "ma.chao"),
    ("km-first", "昆明第一人民醫院", "southwest", "luo.jie"),
]


def person_message(person: DemoPerson, index: int) -> staff_pb2.Person:
    return staff_pb2.Person(
        id=person.id,
        name=person.name,
        email=f"{person.id}@csd.example",
        phone=f"+86-139-0000-{index:04d}",
        role=person.role,  # type: ignore[arg-type]
        track=person.track,  # type: ignore[arg-type]
        level=person.level,
        region_code=person.region,
        manager_id=person.manager,
        active=True,
    )


async def load_demo(stub: staff_pb2_grpc.StaffServiceStub) -> int:
    """Upsert every demo region, person and project; return how many records were sent."""
    for code, name, tier in REGIONS:
        await stub.UpsertRegion(
            staff_pb2.UpsertRegionRequest(
                idempotency_key=f"demo:{DEMO_VERSION}:region:{code}",
                region=staff_pb2.Region(code=code, name=name, tier=tier),
            )
        )
    for index, person in enumerate(PEOPLE, start=1):
        await stub.UpsertPerson(
            staff_pb2.UpsertPersonRequest(
                idempotency_key=f"demo:{DEMO_VERSION}:person:{person.id}",
                person=person_message(person, index),
            )
        )
    for code, hospital, region, engineer in PROJECTS:
        await stub.UpsertProject(
            staff_pb2.UpsertProjectRequest(
                idempotency_key=f"demo:{DEMO_VERSION}:project:{code}",
                project=staff_pb2.Project(
                    code=code,
                    hospital=hospital,
                    region_code=region,
                    engineer_id=engineer,
                    active=True,
                ),
            )
        )
    return len(REGIONS) + len(PEOPLE) + len(PROJECTS)
