"""The demo catalogue for a local run: fictional partners, benefits at the thresholds of
the public record (600+ deposit-free public bikes, hotel credit stays and waived rental
deposits; 650+ deposit-free car rental; 700+ visa help without a bank deposit
certificate and deposit-free shared items; hospital pay-later at 600+)."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from benefits.models import Benefit, BenefitCategory, Partner
from benefits.services.partners import partner_review_due

DEMO_PARTNERS = [
    ("绿道单车 GreenLane Bikes", "bike_rental", "MB-2024-0171", Partner.Status.APPROVED),
    ("安居租房 HomeEase Rentals", "housing_rental", "RE-2023-5520", Partner.Status.APPROVED),
    ("悦途酒店 Joyway Hotels", "hotel", "HT-2022-0093", Partner.Status.APPROVED),
    ("远行签证 FarTrip Visa", "visa", "VS-2021-3307", Partner.Status.APPROVED),
    ("畅行租车 SmoothDrive", "car_rental", "CR-2020-1184", Partner.Status.APPROVED),
    ("随手借 HandyShare", "shared_items", "SI-2025-0412", Partner.Status.APPROVED),
    ("仁心医院 Renxin Hospital", "hospital", "HP-2019-0008", Partner.Status.APPROVED),
    ("快借数据 QuickLend Data", Partner.LENDING, "", Partner.Status.PENDING),
    ("乐游旅行 HappyTrip", "travel", "TR-2026-0321", Partner.Status.PENDING),
]


@dataclass(frozen=True)
class DemoBenefit:
    partner: str
    category: str
    min_score: int
    title_zh: str
    title_en: str
    terms_zh: str
    terms_en: str
    min_age: int | None = None
    quota: int | None = None
    published: bool = True
    min_subscores: dict = field(default_factory=dict)


DEMO_BENEFITS = [
    DemoBenefit(
        "绿道单车 GreenLane Bikes",
        BenefitCategory.BIKE_RENTAL,
        600,
        "公共自行车免押金",
        "Deposit-free public bikes",
        "凭券开通城市公共自行车，无需缴纳 200 元押金。",
        "Ride the city's public bikes without the 200 yuan deposit.",
    ),
    DemoBenefit(
        "悦途酒店 Joyway Hotels",
        BenefitCategory.HOTEL,
        600,
        "信用住：先住后付",
        "Credit stay: stay now, pay later",
        "入住免押金、免预付，离店后自动结算。",
        "Check in with no deposit and no prepayment; pay automatically after you leave.",
    ),
    DemoBenefit(
        "安居租房 HomeEase Rentals",
        BenefitCategory.HOUSING_DEPOSIT,
        600,
        "租房免押金",
        "Rental deposit waived",
        "签约合作房源免一个月押金，按月付租。",
        "No month's deposit on partner flats; pay rent monthly.",
        min_age=18,
    ),
    DemoBenefit(
        "仁心医院 Renxin Hospital",
        BenefitCategory.HOSPITAL,
        600,
        "先诊疗后付费",
        "Treatment first, pay later",
        "门诊就医免排队缴费，48 小时内线上结清。",
        "See the doctor without queueing to pay; settle online within 48 hours.",
    ),
    DemoBenefit(
        "畅行租车 SmoothDrive",
        BenefitCategory.CAR_RENTAL,
        650,
        "免押金租车",
        "Deposit-free car rental",
        "免车辆押金与违章押金，需持有效驾驶证。",
        "No car or traffic-fine deposit; a valid driving licence is required.",
        min_age=18,
        quota=200,
    ),
    DemoBenefit(
        "远行签证 FarTrip Visa",
        BenefitCategory.VISA,
        700,
        "签证办理免资产证明",
        "Visa help without a bank deposit certificate",
        "申请合作国家旅游签证，无需提供银行存款证明。",
        "Apply for tourist visas of partner countries without a bank deposit certificate.",
        min_age=18,
    ),
    DemoBenefit(
        "随手借 HandyShare",
        BenefitCategory.POWER_BANK,
        700,
        "共享充电宝免押金",
        "Deposit-free power banks",
        "扫码即借，免 99 元押金。",
        "Scan and borrow with no 99 yuan deposit.",
    ),
    DemoBenefit(
        "随手借 HandyShare",
        BenefitCategory.SHARED_ITEMS,
        700,
        "共享雨伞免押金",
        "Deposit-free shared umbrellas",
        "地铁站雨伞随借随还，免押金。",
        "Borrow an umbrella at any metro station and return it anywhere, no deposit.",
    ),
    DemoBenefit(
        "乐游旅行 HappyTrip",
        BenefitCategory.OTHER,
        650,
        "机票先飞后付",
        "Fly now, pay later",
        "预订机票可在出行后 30 天内付款。",
        "Book flights and pay within 30 days after the trip.",
        published=False,
    ),
]


@transaction.atomic
def demo_partners_load() -> list[Partner]:
    partners = []
    now = timezone.now()
    for name, category, licence, status in DEMO_PARTNERS:
        approved = status == Partner.Status.APPROVED
        partner, _ = Partner.objects.get_or_create(
            name=name,
            defaults={
                "category": category,
                "licence_number": licence,
                "status": status,
                "approved_at": now if approved else None,
                "review_due_on": partner_review_due(now) if approved else None,
            },
        )
        partners.append(partner)
    return partners


@transaction.atomic
def demo_benefits_load() -> list[Benefit]:
    """Create the demo catalogue if missing; running it again changes nothing."""
    partners = {p.name: p for p in Partner.objects.filter(name__in=[d[0] for d in DEMO_PARTNERS])}
    benefits = []
    for demo in DEMO_BENEFITS:
        benefit, _ = Benefit.objects.get_or_create(
            partner=partners[demo.partner],
            title_zh=demo.title_zh,
            defaults={
                "title_en": demo.title_en,
                "terms_zh": demo.terms_zh,
                "terms_en": demo.terms_en,
                "category": demo.category,
                "min_score": demo.min_score,
                "min_subscores": demo.min_subscores,
                "min_age": demo.min_age,
                "quota": demo.quota,
                "status": Benefit.Status.PUBLISHED if demo.published else Benefit.Status.DRAFT,
            },
        )
        benefits.append(benefit)
    return benefits
