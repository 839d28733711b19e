"""Demo data of the citizens' portal: the ten city sites and a few zone policy documents.

Idempotent (keyed by site key / policy title). Sites are built from the regions and halls already
loaded, so this step runs after the hall registry.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count, Q

from citizen_portal.models import CitySite, PolicyDocument, PolicyStatus, SiteNotice, Skin
from govmap.models import Region
from halls.models import Hall, HallType
from services.models import IndustryZone, Item

GUIAN_KEY = "guian"


@dataclass(frozen=True)
class SiteLook:
    accent: str
    festive_accent: str
    motto: str
    skin: str = Skin.STANDARD


# Every colour reaches 4.5:1 against white (CitySite.accent's validator checks it again).
LOOKS: dict[str, SiteLook] = {
    "520100": SiteLook("#1d5fa8", "#7a1f5c", "爽爽贵阳 · 数博之城"),
    "520200": SiteLook("#0f6d73", "#5b3a8c", "中国凉都 · 彝族火把节"),
    "520300": SiteLook("#b4232a", "#8c2f39", "转折之城 · 会议之都"),
    "520400": SiteLook("#2f6b3a", "#6b4e16", "屯堡文化 · 瀑乡安顺"),
    "520500": SiteLook("#3d4f9f", "#9b2226", "洞天湖地 · 花海鹤乡"),
    "520600": SiteLook("#2d6a4f", "#7f4f24", "梵天净土 · 桃源铜仁"),
    "522300": SiteLook("#005f73", "#6a4c93", "山地公园 · 布依风情", Skin.FESTIVE),
    "522600": SiteLook("#8a3b12", "#7a1f5c", "苗侗风情 · 多彩黔东南", Skin.FESTIVE),
    "522700": SiteLook("#0b5394", "#a0342b", "中国天眼 · 布依水族之乡"),
    GUIAN_KEY: SiteLook("#1e5a8a", "#5b3a8c", "数智贵安 · 大数据中心"),
}

NOTICES = (
    ("周末延时服务公告", "每周六上午 9:00–12:00，{hall}提供户籍、社保、不动产等高频事项的延时服务，可网上预约。"),
    ("适老化服务公告", "60 周岁以上老年人可走绿色通道，大厅提供帮办代办服务；也可拨打 {hotline} 预约上门服务。"),
)


def _main_hall(region: Region | None) -> Hall | None:
    if region is None:
        return Hall.objects.filter(name__startswith="贵安新区", type=HallType.COMPREHENSIVE).order_by("code").first()
    return (
        Hall.objects.filter(level="city", type=HallType.COMPREHENSIVE, region__parent_id=region.adcode)
        .order_by("code")
        .first()
        or Hall.objects.filter(level="city", type=HallType.COMPREHENSIVE, region_id=region.adcode)
        .order_by("code")
        .first()
    )


def _featured() -> list[Item]:
    # The most used items province-wide; in a fresh database (no cases yet) the proxy items by code.
    return list(Item.objects.filter(is_active=True, proxy=True).annotate(n=Count("cases")).order_by("-n", "code")[:6])


@transaction.atomic
def load_sites(province: str = "520000") -> dict[str, int]:
    cities = list(Region.objects.filter(level="city", parent_id=province).order_by("adcode"))
    featured = _featured()
    created = 0
    for position, (key, region) in enumerate([(c.adcode, c) for c in cities] + [(GUIAN_KEY, None)]):
        look = LOOKS.get(key, SiteLook("#b4232a", "#7a1f5c", ""))
        hall = _main_hall(region)
        name = region.name if region is not None else "贵安新区"
        site, was_created = CitySite.objects.get_or_create(
            key=key,
            defaults={
                "name": name,
                "region": region,
                "hall": hall,
                "position": position,
                "default_skin": look.skin,
                "accent": look.accent,
                "festive_accent": look.festive_accent,
                "culture_motto": look.motto,
                "banner_title": f"{name}政务服务网",
                "banner_text": "全省通办、一次办成：网上申请、就近办理、结果邮寄或电子送达。",
                "hotline": (hall.phone if hall and hall.phone else "12345"),
            },
        )
        if not was_created:
            # Keep what an administrator edited; only re-link a hall that was deleted.
            if site.hall_id is None and hall is not None:
                site.hall = hall
                site.save(update_fields=["hall"])
            continue
        created += 1
        site.featured_items.set(featured)
        hall_name = hall.name if hall else f"{name}政务服务中心"
        for title, body in NOTICES:
            SiteNotice.objects.create(
                site=site, title=title, body=body.format(hall=hall_name, hotline=site.hotline), pinned=False
            )
    return {"sites": CitySite.objects.count(), "created": created}


# Real national documents, summarised in our own words (is_summary): the page links to the
# government's full text rather than pretending to reproduce it.
POLICIES = (
    (
        "优化营商环境条例",
        "国务院令第722号",
        "国务院",
        dt.date(2019, 10, 22),
        ("business", "tax"),
        Q(zones__code="business"),
        "为持续优化营商环境，条例规定：政府及其有关部门应当推进政务服务标准化，编制并公布政务服务事项标准化"
        "工作流程和办事指南；推行当场办结、一次办结、限时办结；压减企业开办时间；除法律法规另有规定外，"
        "不得要求申请人提供可通过政务信息共享获取的材料。",
    ),
    (
        "国务院办公厅关于加快推进政务服务“跨省通办”的指导意见",
        "国办发〔2020〕35号",
        "国务院办公厅",
        dt.date(2020, 9, 24),
        ("household", "social_insurance", "employment", "education", "family"),
        Q(proxy=True),
        "意见提出，围绕教育、就业、社保、医疗、养老、居住、婚育等领域，推动高频政务服务事项“跨省通办”，"
        "采取全程网办、异地代收代办、多地联办等方式，满足群众异地办事需求。",
    ),
    (
        "国务院办公厅印发关于切实解决老年人运用智能技术困难实施方案的通知",
        "国办发〔2020〕45号",
        "国务院办公厅",
        dt.date(2020, 11, 24),
        ("elderly", "health", "welfare"),
        Q(zones__code="elderly"),
        "方案要求，在政务服务中保留传统服务方式，为老年人提供现场办理、电话预约、帮办代办等服务；"
        "推进互联网网站和移动应用适老化改造，提供大字体、高对比度、简洁界面等功能。",
    ),
    (
        "互联网应用适老化及无障碍改造专项行动方案",
        "工信部信管〔2020〕200号",
        "工业和信息化部",
        dt.date(2020, 12, 24),
        ("elderly", "disability"),
        Q(zones__code="disability"),
        "方案部署开展互联网网站和移动互联网应用适老化及无障碍改造，参照国家标准和无障碍设计规范，"
        "优先改造政务服务等与老年人、残疾人日常生活密切相关的网站和应用。",
    ),
    (
        "国务院办公厅关于全面开展工程建设项目审批制度改革的实施意见",
        "国办发〔2019〕11号",
        "国务院办公厅",
        dt.date(2019, 3, 26),
        ("construction",),
        Q(zones__code="construction"),
        "意见要求统一审批流程、统一信息数据平台、统一审批管理体系、统一监管方式，将工程建设项目审批流程"
        "划分为立项用地规划许可、工程建设许可、施工许可、竣工验收四个阶段，精简审批环节和申请材料。",
    ),
    (
        "住房公积金管理条例",
        "国务院令第350号（2019年修订）",
        "国务院",
        dt.date(2019, 3, 24),
        ("housing_fund",),
        Q(zones__code="housing_fund"),
        "条例规定了住房公积金的缴存、提取和使用：职工购买、建造、翻建、大修自住住房，离休、退休等情形，"
        "可以提取职工住房公积金账户内的存储余额；缴存职工购买、建造、翻建、大修自住住房时，可以申请住房公积金贷款。",
    ),
)


@transaction.atomic
def load_policies() -> dict[str, int]:
    created = 0
    for title, number, body_name, published, zones, items_q, body in POLICIES:
        doc, was_created = PolicyDocument.objects.get_or_create(
            title=title,
            defaults={
                "doc_number": number,
                "issuing_body": body_name,
                "published_on": published,
                "body": body,
                "status": PolicyStatus.PUBLISHED,
                "is_summary": True,
            },
        )
        if was_created:
            created += 1
            doc.zones.set(IndustryZone.objects.filter(code__in=zones))
            doc.items.set(Item.objects.filter(items_q, is_active=True).distinct().order_by("code")[:8])
    return {"policies": PolicyDocument.objects.count(), "created": created}


# Guides of a few high-frequency items, from the national service standards for these items.
GUIDES: tuple[tuple[str, str, str, dict[str, str]], ...] = (
    (
        "居民身份证换领",
        "居民身份证有效期满、临近有效期满（三个月内）、证件严重损坏不能辨认，或登记项目变更的中国公民。",
        "本人到场采集人像和指纹；未满十六周岁的由监护人陪同。",
        {"居民户口簿": "户口簿首页（户主页）和本人页的原件，本人页须为最新登记内容。"},
    ),
    (
        "居民户口簿补领、换领",
        "户口簿遗失、损坏，或户口簿登记内容变更需要换领的户主或户内成年成员。",
        "户内成员均可申请；由他人代办的，须携带代办人居民身份证和户主的书面委托。",
        {"户主居民身份证": "户主居民身份证原件；户主不能到场时由代办人携带。"},
    ),
    (
        "企业设立登记（有限责任公司）",
        "拟设立有限责任公司的投资人（股东）或其委托的代理人。",
        "名称须经自主申报；住所（经营场所）须真实、合法。",
        {},
    ),
)


@transaction.atomic
def load_guides() -> dict[str, int]:
    from citizen_portal.models import ItemGuide, MaterialSample

    created = 0
    for name, who, conditions, samples in GUIDES:
        item = Item.objects.filter(name=name).first()
        if item is None:
            continue
        _guide, was_created = ItemGuide.objects.get_or_create(
            item=item, defaults={"who_may_apply": who, "conditions": conditions}
        )
        created += int(was_created)
        for material_name, text in samples.items():
            req = item.materials.filter(name=material_name).first()
            if req is not None:
                MaterialSample.objects.get_or_create(requirement=req, defaults={"description": text})
    return {"guides": ItemGuide.objects.count(), "guides_created": created}


def load_portal() -> dict[str, int]:
    return {**load_sites(), **load_policies(), **load_guides()}
