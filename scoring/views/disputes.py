"""Disputes and the personal statement: the records a person may contest, filing a
dispute with optional evidence, its timeline, and the evidence file itself."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from scoring.forms import DisputeForm, StatementForm
from scoring.models import DisputeAttachment, PersonalStatement
from scoring.services import disputes
from sesame_portal.errors import ServiceError
from sesame_portal.uploads import evidence_response

_ATTACHMENT_ERRORS = {"attachment_too_large", "attachment_type", "attachment"}


def _records_page(
    request: HttpRequest, statement_form: StatementForm | None = None, *, status: int = 200
) -> HttpResponse:
    statement = PersonalStatement.objects.filter(user=request.user).first()
    if statement_form is None:
        statement_form = StatementForm(initial={"text": statement.text if statement else ""})
    return render(
        request,
        "scoring/records.html",
        {
            "records": disputes.records_for_user(user=request.user),
            "disputes": disputes.disputes_for_user(user=request.user),
            "statement_form": statement_form,
            "statement": statement,
            "answer_within_days": disputes.ANSWER_WITHIN.days,
        },
        status=status,
    )


@login_required
@require_GET
def records(request: HttpRequest) -> HttpResponse:
    return _records_page(request)


def _record_args(data) -> tuple[str, int | None, str]:
    record = data.get("record", "")
    return (
        data.get("kind", ""),
        # isdecimal, not isdigit: int() refuses superscripts such as "²".
        int(record) if record.isdecimal() and len(record) < 19 else None,
        data.get("field", "")[:40],
    )


@login_required
@require_http_methods(["GET", "POST"])
def dispute_new(request: HttpRequest) -> HttpResponse:
    kind, record_id, field = _record_args(request.POST if request.method == "POST" else request.GET)
    try:
        summary = disputes.record_summary(
            user=request.user, kind=kind, record_id=record_id, field=field
        )
    except ServiceError as error:
        raise Http404 from error
    form = DisputeForm(request.POST, request.FILES) if request.method == "POST" else DisputeForm()
    if request.method == "POST" and form.is_valid():
        try:
            dispute = disputes.dispute_file(
                user=request.user,
                kind=kind,
                record_id=record_id,
                field=field,
                statement=form.cleaned_data["statement"],
                attachment=form.cleaned_data["attachment"],
            )
        except ServiceError as error:
            target = "attachment" if error.code in _ATTACHMENT_ERRORS else "statement"
            form.add_error(None if error.code == "already_disputed" else target, error.message)
        else:
            messages.success(
                request,
                _("Your dispute is received. We answer within %(days)d days.")
                % {"days": disputes.ANSWER_WITHIN.days},
            )
            return redirect("scoring:dispute", dispute_id=dispute.pk)
    return render(
        request,
        "scoring/dispute_new.html",
        {
            "form": form,
            "summary": summary,
            "kind": kind,
            "record_id": record_id,
            "field": field,
            "answer_within_days": disputes.ANSWER_WITHIN.days,
        },
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_GET
def dispute_detail(request: HttpRequest, dispute_id: int) -> HttpResponse:
    dispute = disputes.disputes_for_user(user=request.user).filter(pk=dispute_id).first()
    if dispute is None:
        raise Http404
    attachment = DisputeAttachment.objects.filter(dispute=dispute).only("name", "size").first()
    return render(
        request,
        "scoring/dispute.html",
        {
            "dispute": dispute,
            "attachment": attachment,
            "openings": dispute.evidence_accesses.all() if attachment else (),
        },
    )


@login_required
@require_GET
def dispute_attachment(request: HttpRequest, dispute_id: int) -> HttpResponse:
    """The evidence, to its owner or to staff with the evidence permission only, each
    opening logged; always downloaded, never rendered."""
    attachment = disputes.evidence_open(user=request.user, dispute_id=dispute_id)
    if attachment is None:
        raise Http404
    return evidence_response(attachment, filename=f"dispute-{dispute_id}")


@login_required
@require_POST
def statement(request: HttpRequest) -> HttpResponse:
    form = StatementForm(request.POST)
    if not form.is_valid():
        # The page again, with what was typed and what is wrong with it.
        return _records_page(request, form, status=400)
    saved = disputes.statement_set(user=request.user, text=form.cleaned_data["text"])
    messages.success(
        request, _("Your statement is saved.") if saved else _("Your statement is removed.")
    )
    return redirect("scoring:records")
