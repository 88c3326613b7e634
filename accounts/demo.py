"""Demo people for a local run: who they are and how to log in as them."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from stdnum.cn import ric

from accounts import services
from accounts.clients import Client
from accounts.models import ConsentGrant, ConsentPurpose, User
from accounts.selectors import consent_allows


@dataclass(frozen=True)
class DemoUser:
    username: str
    password: str
    description: str
    full_name: str = ""
    id_body: str = ""  # the first 17 digits; the check character is computed
    consents: tuple[str, ...] = ()
    is_staff: bool = False


DEMO_USERS = [
    DemoUser("admin", "sesame-admin-2026", "staff: the admin site at /admin/", is_staff=True),
    DemoUser(
        "demo",
        "sesame-demo-2026",
        "verified, consented to scoring",
        full_name="王晓明",
        id_body="11010519900307123",
        consents=(ConsentPurpose.SCORING, ConsentPurpose.SOCIAL_CONNECTIONS),
    ),
    DemoUser(
        "demo_minority",
        "sesame-demo-2026",
        "verified minority name, no consent yet",
        full_name="阿依古丽·买买提",
        id_body="65010219950815246",
    ),
    DemoUser("newcomer", "sesame-new-2026", "new account, not verified yet"),
]

_DEMO_CLIENT = Client(channel=ConsentGrant.Channel.WEB, ip="127.0.0.1", user_agent="load_demo")


def demo_users_load() -> list[User]:
    """Create the demo people if missing; running it again changes nothing."""
    users = []
    for demo in DEMO_USERS:
        with transaction.atomic():
            user, created = User.objects.get_or_create(
                username=demo.username,
                defaults={"is_staff": demo.is_staff, "is_superuser": demo.is_staff},
            )
            if created:
                user.set_password(demo.password)
                user.save(update_fields=["password"])
        if demo.id_body and not user.is_verified:
            number = demo.id_body + ric.calc_check_digit(demo.id_body + "0")
            services.identity_verify(user=user, full_name=demo.full_name, id_number=number)
        for purpose in demo.consents:
            if not consent_allows(user=user, purpose=purpose):
                services.consent_grant(user=user, purpose=purpose, client=_DEMO_CLIENT)
        users.append(user)
    return users
