"""Demo partners for a local run (fictional companies)."""

from __future__ import annotations

from benefits.models import Partner

DEMO_PARTNERS = [
    ("绿道单车 GreenLane Bikes", "bike_rental", "MB-2024-0171", Partner.Status.APPROVED),
    ("安居租房 HomeEase Rentals", "housing_rental", "RE-2023-5520", Partner.Status.APPROVED),
    ("悦途酒店 Joyway Hotels", "hotel", "HT-2022-0093", Partner.Status.APPROVED),
    ("远行签证 FarTrip Visa", "visa", "VS-2021-3307", Partner.Status.APPROVED),
    ("快借数据 QuickLend Data", "lending", "", Partner.Status.PENDING),
]


def demo_partners_load() -> list[Partner]:
    partners = []
    for name, category, licence, status in DEMO_PARTNERS:
        partner, _ = Partner.objects.get_or_create(
            name=name,
            defaults={"category": category, "licence_number": licence, "status": status},
        )
        partners.append(partner)
    return partners
