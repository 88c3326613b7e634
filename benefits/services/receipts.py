"""Decision receipts and honour reports: the writes.

A partner reports the decision it took with a score (partner_calls.partner_decision calls
decision_receipt_record in its transaction): the receipt is about the partner's latest
answered score or eligibility query on that authorisation (the latest decision for it),
and the person is told. The person may add a receipt to a dispute of theirs that is
still open. A person reports a partner that did not honour a benefit they unlocked;
admins answer within HONOUR_ANSWER_WITHIN and the person is told the answer."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accounts.models import Notification, User
from benefits.models import (
    HONOUR_ANSWER_WITHIN,
    BenefitUnlock,
    DecisionReceipt,
    HonourReport,
    PartnerAuthorization,
    PartnerQuery,
    Voucher,
)
from scoring.models import Dispute, DisputeEvent
from sesame_portal.errors import ServiceError

# The calls a decision can be about: the ones that disclose the score or eligibility.
DECIDED_KINDS = (PartnerQuery.Kind.SCORE, PartnerQuery.Kind.ELIGIBILITY)
WHAT_HAPPENED_MAX = 1000


# --- Decision receipts ---------------------------------------------------------------------------


def decision_receipt_record(
    *,
    authorization: PartnerAuthorization,
    outcome: str,
    reason_code: str,
    limit: int | None = None,
) -> DecisionReceipt | None:
    """The receipt of a decision about the partner's latest answered query on this
    authorisation (run in the partner call's transaction, on the locked authorisation),
    and the person told. A decision reported again for that query replaces the receipt's
    (a partner may revise it); without an answered query there is no receipt, and the
    decision stays in the call log as before."""
    query = (
        # Through the person's own queries (indexed by user and time): a handful of rows.
        PartnerQuery.objects.filter(
            user_id=authorization.grant.user_id,
            authorization=authorization,
            partner_id=authorization.partner_id,
            kind__in=DECIDED_KINDS,
            outcome="ok",
        )
        .order_by("-created_at", "-id")
        .first()
    )
    if query is None:
        return None
    receipt, _created = DecisionReceipt.objects.update_or_create(
        query=query,
        defaults={
            "partner_id": authorization.partner_id,
            "user_id": query.user_id,
            "outcome": outcome,
            "reason_code": reason_code,
            "limit": limit,
            "reported_at": timezone.now(),
        },
    )
    Notification.objects.create(
        user_id=query.user_id,
        kind=Notification.Kind.PARTNER_DECISION_REPORTED,
        params={
            "partner": authorization.partner.name,
            "partner_en": authorization.partner.name_en,
            "decision": outcome,
            "receipt_id": receipt.pk,
        },
    )
    return receipt


def decision_dispute_add(*, user: User, receipt_id: int, dispute_id: int) -> DecisionReceipt:
    """Add a decision about the person to one of their open disputes: the receipt names
    the dispute, and the dispute's timeline says which decision was added (the reviewer
    reads it there). It does not change the partner's decision."""
    with transaction.atomic():
        receipt = (
            DecisionReceipt.objects.select_for_update()
            .select_related("partner")
            .filter(pk=receipt_id, user=user)
            .first()
        )
        if receipt is None:
            raise ServiceError("not_found", _("No such decision."), status_code=404)
        dispute = Dispute.objects.filter(pk=dispute_id, user=user).first()
        if dispute is None:
            raise ServiceError("not_found", _("No such dispute of yours."), status_code=404)
        if not dispute.is_open:
            raise ServiceError(
                "dispute_closed", _("This dispute is answered already."), status_code=409
            )
        if receipt.dispute_id is not None:
            raise ServiceError(
                "decision_already_disputed",
                _("This decision is already part of a dispute."),
                status_code=409,
            )
        now = timezone.now()
        receipt.dispute, receipt.disputed_at = dispute, now
        receipt.save(update_fields=["dispute", "disputed_at"])
        DisputeEvent.objects.create(
            dispute=dispute,
            at=now,
            status=dispute.status,
            note=_(
                "Added by you: the decision of %(partner)s on %(date)s (%(decision)s, %(reason)s)."
            )
            % {
                "partner": receipt.partner.display_name,
                "date": date_format(timezone.localtime(receipt.reported_at), "Y-m-d"),
                "decision": receipt.get_outcome_display(),
                "reason": receipt.get_reason_code_display(),
            },
        )
    return receipt


# --- Honour reports ------------------------------------------------------------------------------


def honour_report_file(*, user: User, benefit_id: int, what_happened: str) -> HonourReport:
    """A person reports that the partner of a benefit they unlocked did not honour it.
    Only a benefit the person has unlocked (now or before); one open report per benefit."""
    text = (what_happened or "").strip()
    if not text or len(text) > WHAT_HAPPENED_MAX:
        raise ServiceError(
            "what_happened",
            _("Say what happened, in at most %(n)d characters.") % {"n": WHAT_HAPPENED_MAX},
        )
    unlock = (
        BenefitUnlock.objects.select_related("benefit__partner")
        .filter(user=user, benefit_id=benefit_id)
        .first()
    )
    if unlock is None:
        raise ServiceError(
            "benefit_not_unlocked", _("You have not unlocked this benefit."), status_code=404
        )
    benefit = unlock.benefit
    with transaction.atomic():
        # One open report per person and benefit, counted under the person's row lock.
        User.objects.select_for_update().filter(pk=user.pk).first()
        if HonourReport.objects.filter(
            user=user, benefit=benefit, status=HonourReport.Status.RECEIVED
        ).exists():
            raise ServiceError(
                "honour_report_open",
                _("You already reported this benefit; the answer is on its way."),
                status_code=409,
            )
        now = timezone.now()
        return HonourReport.objects.create(
            user=user,
            partner=benefit.partner,
            benefit=benefit,
            voucher=Voucher.objects.filter(user=user, benefit=benefit).first(),
            what_happened=text,
            created_at=now,
            due_at=now + HONOUR_ANSWER_WITHIN,
        )


def honour_report_answer(
    *, report: HonourReport, upheld: bool, answer: str, by: User | None
) -> HonourReport:
    """Staff's answer: upheld or not, with the reason the person reads. Once only."""
    answer = (answer or "").strip()
    if not answer:
        raise ServiceError("answer", _("Write the answer the person will read."))
    with transaction.atomic():
        report = (
            HonourReport.objects.select_for_update().select_related("partner").get(pk=report.pk)
        )
        if not report.is_open:
            raise ServiceError(
                "honour_report_answered", _("This report is answered already."), status_code=409
            )
        report.status = HonourReport.Status.UPHELD if upheld else HonourReport.Status.NOT_UPHELD
        report.answer, report.answered_at, report.answered_by = answer, timezone.now(), by
        report.save(update_fields=["status", "answer", "answered_at", "answered_by"])
        Notification.objects.create(
            user_id=report.user_id,
            kind=Notification.Kind.HONOUR_REPORT_ANSWERED,
            params={
                "partner": report.partner.name,
                "partner_en": report.partner.name_en,
                "outcome": report.status,
                "report_id": report.pk,
            },
        )
    return report
