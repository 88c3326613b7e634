"""Score proofs: the person's list, one proof with its link and QR code, revoking, the
printed statement (a PDF carrying a proof), and the public page a merchant opens (no
login)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from scoring.forms import CreditStatementForm, ProofForm
from scoring.selectors import personal_statement_text
from scoring.services import proofs
from scoring.services.credit_statements import CreditStatement, credit_statement_create
from sesame_portal.errors import ServiceError
from sesame_portal.qr import qr_svg

# The form field each of proof_create's refusals is about.
PROOF_ERROR_FIELDS = {
    "threshold": "threshold",
    "lifetime": "lifetime",
    "no_statement": "show_statement",
}


@login_required
@require_http_methods(["GET", "POST"])
def proof_list(request: HttpRequest) -> HttpResponse:
    form = ProofForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            proof = proofs.proof_create(user=request.user, **form.cleaned_data)
        except ServiceError as error:
            field = PROOF_ERROR_FIELDS.get(error.code)
            form.add_error(field, error.message)
        else:
            messages.success(request, _("Your proof is ready. Share the link or the QR code."))
            return redirect("scoring:proof", proof_id=proof.pk)
    return render(
        request,
        "scoring/proofs.html",
        {"form": form, "proofs": proofs.proofs_for_user(user=request.user), "now": timezone.now()},
    )


@login_required
@require_GET
def proof_detail(request: HttpRequest, proof_id: int) -> HttpResponse:
    proof = proofs.proofs_for_user(user=request.user).filter(pk=proof_id).first()
    if proof is None:
        raise Http404
    link = request.build_absolute_uri(reverse("proof_public", args=[proofs.proof_token(proof)]))
    live = proof.revoked_at is None and proof.expires_at > timezone.now()
    return render(
        request,
        "scoring/proof.html",
        {
            "proof": proof,
            "link": link,
            "qr": qr_svg(link, title=_("Score proof")) if live else "",
            "live": live,
        },
    )


@login_required
@require_POST
def proof_revoke(request: HttpRequest, proof_id: int) -> HttpResponse:
    try:
        proofs.proof_revoke(user=request.user, proof_id=proof_id)
    except ServiceError as error:
        raise Http404 from error
    messages.success(request, _("The proof is revoked: its link no longer shows anything."))
    return redirect("scoring:proofs")


@require_GET
def proof_public(request: HttpRequest, token: str) -> HttpResponse:
    answer = proofs.proof_open(token)
    response = render(
        request, "scoring/proof_public.html", {"answer": answer}, status=answer.http_status
    )
    # Always judged afresh: never cached, never indexed.
    response["Cache-Control"] = "no-store"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def statement_response(statement: CreditStatement) -> HttpResponse:
    """The statement's PDF as a download (the page's and the API's answer)."""
    response = HttpResponse(statement.pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{statement.filename}"'
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def credit_statement(request: HttpRequest) -> HttpResponse:
    """Choose what the printed statement carries, then download it."""
    form = CreditStatementForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            statement = credit_statement_create(
                user=request.user,
                **form.cleaned_data,
                link_for=lambda token: request.build_absolute_uri(
                    reverse("proof_public", args=[token])
                ),
            )
        except ServiceError as error:
            form.add_error(PROOF_ERROR_FIELDS.get(error.code), error.message)
        else:
            return statement_response(statement)
    return render(
        request,
        "scoring/credit_statement.html",
        {"form": form, "personal_statement": personal_statement_text(user=request.user)},
        status=400 if form.errors else 200,
    )
