"""Tips to improve a score, tied to what the person can actually do today: an overdue
instalment or bill to pay, a profile step not done, a work email to verify. Each names
one action and where to take it: a what-if tip lands on the lever it speaks of (which
what-if offers, as it applies to the person), the others on the page that does it. What
they read of the records comes with the score home's one query (tips_reads_at)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext

from accounts.models import EMPLOYED_OCCUPATIONS, Profile
from accounts.profile_sections import SECTIONS
from scoring.explain.breakdown import snapshot_breakdown
from scoring.models import ScoreSnapshot, UtilityBill
from scoring.selectors import RecordFacts, overdue_unpaid

MAX_TIPS = 4
HIGH_CARD_UTILISATION = 0.5


@dataclass(frozen=True)
class Tip:
    text: str
    url: str
    action: str


def _lever(name: str) -> str:
    """The what-if page, at the control of this lever."""
    return f"{reverse('scoring:what_if')}#id_{name}"


def tips_reads_at(*, user: OuterRef, today: datetime.date) -> dict:
    """What the tips read of the person's records, as annotations of a row of users (the
    user at `user` of the outer query): how many instalments are overdue and unpaid,
    and the oldest unpaid bill past its due date (`tip_bill_kind`, `tip_bill_due`)."""
    overdue = overdue_unpaid(user=user, today=today).order_by().values("user")
    bill = UtilityBill.objects.filter(
        user=user, paid_date__isnull=True, due_date__lt=today
    ).order_by("due_date", "pk")
    return {
        "tip_overdue": Coalesce(
            Subquery(overdue.annotate(n=Count("pk")).values("n")), 0, output_field=IntegerField()
        ),
        "tip_bill_kind": Subquery(bill.values("kind")[:1]),
        "tip_bill_due": Subquery(bill.values("due_date")[:1]),
    }


def card_utilisation(snapshot: ScoreSnapshot) -> float | None:
    """The share of their card limits the person used when the score was computed."""
    return snapshot_breakdown(snapshot).values.get("ch_card_utilisation")


def tips_for(
    *,
    profile: Profile,
    facts: RecordFacts,
    reads: dict,
    utilisation: float | None,
) -> list[Tip]:
    """The most useful first: money overdue, then the profile, then habits. `reads`: a
    row read with tips_reads_at; `utilisation`: card_utilisation of the latest score
    (None without one)."""
    tips: list[Tip] = []

    count = reads["tip_overdue"]
    if count:
        tips.append(
            Tip(
                ngettext(
                    "%(count)d instalment is overdue and unpaid: repaying it helps your "
                    "score more than anything else.",
                    "%(count)d instalments are overdue and unpaid: repaying them helps your "
                    "score more than anything else.",
                    count,
                )
                % {"count": count},
                _lever("repay_overdue"),
                _("See what repaying would do"),
            )
        )
    bill = None
    if reads["tip_bill_kind"] is not None:
        bill = UtilityBill(kind=reads["tip_bill_kind"], due_date=reads["tip_bill_due"])
    if bill is not None and facts.bills:
        tips.append(
            Tip(
                _("Your %(kind)s bill due on %(date)s is unpaid. Bills paid on time count.")
                % {"kind": bill.get_kind_display().lower(), "date": date_format(bill.due_date)},
                _lever("bills_paid_on_time"),
                _("See what paying bills on time would do"),
            )
        )
    elif bill is not None:
        # Bills count only with the utility-bills consent: what-if has no lever for them.
        tips.append(
            Tip(
                _(
                    "Your %(kind)s bill due on %(date)s is unpaid. Bills paid on time count "
                    "only if you consent to the use of your utility bills."
                )
                % {"kind": bill.get_kind_display().lower(), "date": date_format(bill.due_date)},
                reverse("accounts:consents"),
                _("Review consent"),
            )
        )

    missing = [s for s in SECTIONS if s.used_by_score and not s.is_complete(profile)]
    if missing:
        # Lists take the language's own separator (、 in Chinese).
        names = pgettext("list separator", ", ").join(str(s.title) for s in missing[:3])
        tips.append(
            Tip(
                ngettext(
                    "Complete %(count)d profile step (%(names)s): each step counts.",
                    "Complete %(count)d profile steps (%(names)s…): each step counts.",
                    len(missing),
                )
                % {"count": len(missing), "names": names},
                reverse("accounts:profile_step", args=[missing[0].key]),
                _("Continue my profile"),
            )
        )
    if (
        profile.occupation in EMPLOYED_OCCUPATIONS
        and profile.work_email_verified_at is None
        and not any(s.key == "occupation" for s in missing)
    ):
        tips.append(
            Tip(
                _("Verify your work email with a code: a verified employer counts more."),
                reverse("accounts:profile_step", args=["occupation"]),
                _("Verify my work email"),
            )
        )

    if utilisation is not None and utilisation > HIGH_CARD_UTILISATION and facts.open_cards:
        tips.append(
            Tip(
                _(
                    "Your credit cards use %(share)d%% of their limits. Keeping balances "
                    "under 30%% helps."
                )
                % {"share": round(100 * utilisation)},
                _lever("card_utilisation"),
                _("Try it in what-if"),
            )
        )
    return tips[:MAX_TIPS]
