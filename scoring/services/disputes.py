"""Disputes (异议申诉) and personal statements (本人声明).

A person disputes one of their own records with a statement and, optionally, one file of
evidence (PDF, JPEG or PNG, at most 5 MB, checked by its content, not its name). Admins
answer within ANSWER_WITHIN (20 days): under review, then corrected (the record was fixed
and the score is recomputed) or rejected with a reason. Every step is on the person's
timeline and in their notifications (scoring.services.dispute_notices, which also keeps
the deadline: a repayment or bill whose dispute passed it unanswered does not count in the
score until the dispute is answered, and the answer recomputes the score).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.numberformat import format as number_format
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from accounts.models import Profile, User
from accounts.profile_sections import SECTIONS
from accounts.selectors import profile_value_display
from scoring.models import (
    Dispute,
    DisputeAttachment,
    DisputeEvent,
    DisputeEvidenceAccess,
    PersonalStatement,
    Repayment,
    UtilityBill,
)
from scoring.models.disputes import ANSWER_WITHIN
from scoring.selectors import is_court_listed
from scoring.services.court_list import court_list_correct
from scoring.services.dispute_notices import TRIGGER_ANSWERED_LATE, disputes_notify
from scoring.tasks import score_recompute_queue
from sesame_portal.errors import ServiceError
from sesame_portal.uploads import EVIDENCE_MAX_BYTES, evidence_content_type, statement_clean

ATTACHMENT_MAX_BYTES = EVIDENCE_MAX_BYTES
TRANSITIONS = {
    Dispute.Status.RECEIVED: {
        Dispute.Status.UNDER_REVIEW,
        Dispute.Status.CORRECTED,
        Dispute.Status.REJECTED,
    },
    Dispute.Status.UNDER_REVIEW: {Dispute.Status.CORRECTED, Dispute.Status.REJECTED},
}
PROFILE_FIELDS = tuple(name for section in SECTIONS for name in section.fields)


@dataclass(frozen=True)
class DisputableRecord:
    kind: str
    record_id: int | None
    field: str
    summary: str
    dispute: Dispute | None  # the open dispute about it, if any


def yuan(amount) -> str:
    """An amount as people read it on a statement: ¥1,200.00."""
    return "¥" + number_format(
        amount, ".", decimal_pos=2, grouping=3, thousand_sep=",", force_grouping=True
    )


def instalment_positions(repayments: list[Repayment]) -> dict[int, tuple[int, int]]:
    """Each instalment's place on its account, (number, of how many) in due-date order, so
    that two instalments due the same day are told apart; one query for all of them."""
    positions: dict[int, tuple[int, int]] = {}
    by_account: dict[int, list[int]] = {}
    account_ids = {row.account_id for row in repayments}
    for account_id, repayment_id in (
        Repayment.objects.filter(account_id__in=account_ids)
        .order_by("account_id", "due_date", "id")
        .values_list("account_id", "id")
    ):
        by_account.setdefault(account_id, []).append(repayment_id)
    for ids in by_account.values():
        for number, repayment_id in enumerate(ids, start=1):
            positions[repayment_id] = (number, len(ids))
    return positions


def _repayment_summary(row: Repayment, position: tuple[int, int]) -> str:
    """Which account (its kind and when it was opened), which instalment of it, how much,
    due when, and how it was paid. `row` comes with its account."""
    values = {
        "account": _("%(kind)s opened on %(opened)s, instalment %(number)d of %(count)d")
        % {
            "kind": row.account.get_kind_display(),
            "opened": date_format(row.account.opened_on),
            "number": position[0],
            "count": position[1],
        },
        "amount": yuan(row.amount),
        "date": date_format(row.due_date),
    }
    if row.paid_date is None:
        return _("%(account)s: %(amount)s due on %(date)s, unpaid") % values
    if row.days_overdue:
        return _("%(account)s: %(amount)s due on %(date)s, paid %(days)s days late") % (
            values | {"days": row.days_overdue}
        )
    return _("%(account)s: %(amount)s due on %(date)s, paid on time") % values


def _bill_summary(row: UtilityBill) -> str:
    values = {
        "kind": row.get_kind_display(),
        "date": date_format(row.due_date),
        "amount": yuan(row.amount),
    }
    if row.paid_date is None:
        return _("%(kind)s bill due on %(date)s (%(amount)s): unpaid") % values
    if row.paid_date > row.due_date:
        return _("%(kind)s bill due on %(date)s (%(amount)s): paid late on %(paid)s") % (
            values | {"paid": date_format(row.paid_date)}
        )
    return _("%(kind)s bill due on %(date)s (%(amount)s): paid on time") % values


def _profile_summary(profile: Profile, name: str) -> str:
    """The answer under its label as the profile pages show it ("School: Fudan"), with
    the colon of the language (full-width in Chinese)."""
    return _("%(label)s: %(value)s") % {
        "label": capfirst(Profile._meta.get_field(name).verbose_name),
        "value": profile_value_display(profile, name),
    }


def records_for_user(*, user: User) -> list[DisputableRecord]:
    """What the person may dispute: late or unpaid instalments (24 months) and bills
    (12 months), the court-list match, and their profile answers; a fixed number of
    queries. Records with an open dispute carry it."""
    today = timezone.localdate()
    open_disputes = {
        (d.kind, d.record_id, d.field): d
        for d in Dispute.objects.filter(user=user, status__in=Dispute.OPEN)
    }

    def record(kind: str, record_id: int | None, field: str, summary: str) -> DisputableRecord:
        return DisputableRecord(
            kind, record_id, field, summary, open_disputes.get((kind, record_id, field))
        )

    rows: list[DisputableRecord] = []
    if is_court_listed(user):
        rows.append(record(Dispute.Kind.COURT_LIST, None, "", _("On the court list")))
    repayments = list(
        Repayment.objects.filter(
            Q(days_overdue__gt=0) | Q(paid_date__isnull=True, due_date__lt=today),
            user=user,
            due_date__gt=today - datetime.timedelta(days=730),
        )
        .select_related("account")
        .order_by("-due_date", "-id")
    )
    positions = instalment_positions(repayments)
    for repayment in repayments:
        summary = _repayment_summary(repayment, positions[repayment.pk])
        rows.append(record(Dispute.Kind.REPAYMENT, repayment.pk, "", summary))
    for bill in UtilityBill.objects.filter(
        user=user, due_date__gt=today - datetime.timedelta(days=365), due_date__lt=today
    ).order_by("-due_date"):
        if bill.paid_date is None or bill.paid_date > bill.due_date:
            rows.append(record(Dispute.Kind.BILL, bill.pk, "", _bill_summary(bill)))
    profile = Profile.objects.filter(user=user).first()
    if profile is not None:
        for name in PROFILE_FIELDS:
            if getattr(profile, name) not in (None, ""):
                rows.append(
                    record(Dispute.Kind.PROFILE, None, name, _profile_summary(profile, name))
                )
    return rows


def record_summary(*, user: User, kind: str, record_id: int | None, field: str) -> str:
    """The disputed record as it stands, if it is the user's; else not_found."""
    summary = None
    if kind == Dispute.Kind.REPAYMENT and record_id:
        row = Repayment.objects.filter(user=user, pk=record_id).select_related("account").first()
        if row is not None:
            summary = _repayment_summary(row, instalment_positions([row])[row.pk])
    elif kind == Dispute.Kind.BILL and record_id:
        row = UtilityBill.objects.filter(user=user, pk=record_id).first()
        summary = _bill_summary(row) if row else None
    elif kind == Dispute.Kind.COURT_LIST:
        summary = _("On the court list") if is_court_listed(user) else None
    elif kind == Dispute.Kind.PROFILE and field in PROFILE_FIELDS:
        profile = Profile.objects.filter(user=user).first()
        if profile is not None and getattr(profile, field) not in (None, ""):
            summary = _profile_summary(profile, field)
    if summary is None:
        raise ServiceError("not_found", _("No such record of yours."), status_code=404)
    return summary


def dispute_file(
    *,
    user: User,
    kind: str,
    record_id: int | None,
    field: str,
    statement: str,
    attachment: UploadedFile | None = None,
) -> Dispute:
    statement = statement_clean(statement, missing=_("Say what is wrong and what is right."))
    if kind not in Dispute.Kind.values:
        raise ServiceError("not_found", _("No such record of yours."), status_code=404)
    record_id = record_id if kind in (Dispute.Kind.REPAYMENT, Dispute.Kind.BILL) else None
    field = field if kind == Dispute.Kind.PROFILE else ""
    summary = record_summary(user=user, kind=kind, record_id=record_id, field=field)
    content_type = evidence_content_type(attachment) if attachment else None
    now = timezone.now()
    with transaction.atomic():
        # One open dispute per record: the row lock on the user serialises two filings.
        User.objects.select_for_update().filter(pk=user.pk).exists()
        if Dispute.objects.filter(
            user=user, kind=kind, record_id=record_id, field=field, status__in=Dispute.OPEN
        ).exists():
            raise ServiceError(
                "already_disputed",
                _("This record is already under dispute: see its timeline."),
                status_code=409,
            )
        dispute = Dispute.objects.create(
            user=user,
            kind=kind,
            record_id=record_id,
            field=field,
            record_summary=summary[:200],
            statement=statement,
            created_at=now,
            due_at=now + ANSWER_WITHIN,
        )
        DisputeEvent.objects.create(dispute=dispute, at=now, status=Dispute.Status.RECEIVED)
        if attachment is not None:
            DisputeAttachment.objects.create(
                dispute=dispute, **DisputeAttachment.sealed(attachment, content_type)
            )
        disputes_notify(changes=[(dispute, Dispute.Status.RECEIVED, "")], at=now)
    return dispute


def dispute_transition_check(*, current: str, status: str, note: str) -> None:
    if status not in TRANSITIONS.get(current, set()):
        raise ServiceError(
            "transition",
            _("A dispute that is %(now)s cannot become %(next)s.")
            % {
                "now": Dispute.Status(current).label,
                "next": Dispute.Status(status).label if status in Dispute.Status.values else status,
            },
        )
    if status == Dispute.Status.REJECTED and not (note or "").strip():
        raise ServiceError("reason", _("Say why the dispute is rejected."))


def dispute_transition(*, dispute: Dispute, status: str, note: str = "") -> Dispute:
    """An admin's answer, told to the person. Rejecting needs a reason; correcting
    recomputes the score, and so does any answer to a dispute whose record was left out
    of the score for being overdue (it counts again, as corrected or as it stood)."""
    note = (note or "").strip()
    with transaction.atomic():
        current = Dispute.objects.select_for_update().get(pk=dispute.pk)
        if status == current.status and not note:
            return current
        dispute_transition_check(current=current.status, status=status, note=note)
        uncounted = current.record_uncounted
        now = timezone.now()
        current.status = status
        if status in (Dispute.Status.CORRECTED, Dispute.Status.REJECTED):
            current.resolved_at = now
            current.resolution = note
        current.save(update_fields=["status", "resolved_at", "resolution"])
        DisputeEvent.objects.create(dispute=current, at=now, status=status, note=note)
        disputes_notify(changes=[(current, status, note)], at=now)
        if status == Dispute.Status.CORRECTED:
            court_list_correct(dispute=current)
            score_recompute_queue(user=current.user, trigger="dispute_corrected")
        elif uncounted and not current.is_open:
            score_recompute_queue(user=current.user, trigger=TRIGGER_ANSWERED_LATE)
    return current


EVIDENCE_PERMISSION = "scoring.view_dispute_evidence"


def evidence_open(*, user: User, dispute_id: int) -> DisputeAttachment | None:
    """The evidence of a dispute, for its owner or for staff holding the evidence
    permission (None for anyone else: ids are sequential, so a stranger learns nothing),
    with the opening logged for the person."""
    attachment = (
        DisputeAttachment.objects.filter(dispute_id=dispute_id).select_related("dispute").first()
    )
    if attachment is None:
        return None
    if attachment.dispute.user_id == user.pk:
        role = DisputeEvidenceAccess.Role.OWNER
    elif user.is_staff and user.has_perm(EVIDENCE_PERMISSION):
        role = DisputeEvidenceAccess.Role.STAFF
    else:
        return None
    DisputeEvidenceAccess.objects.create(dispute_id=dispute_id, role=role, accessed_by=user)
    return attachment


def disputes_for_user(*, user: User):
    return Dispute.objects.filter(user=user).order_by("-created_at").prefetch_related("events")


def statement_set(*, user: User, text: str) -> PersonalStatement | None:
    """Set, change or (with an empty text) remove the personal statement."""
    text = (text or "").strip()
    if len(text) > 300:
        raise ServiceError("statement", _("Keep the statement to 300 characters."))
    if not text:
        PersonalStatement.objects.filter(user=user).delete()
        return None
    statement, _created = PersonalStatement.objects.update_or_create(
        user=user, defaults={"text": text, "updated_at": timezone.now()}
    )
    return statement
