"""Score proofs: the person's list, one proof with its link and QR code, revoking, and
the public page a merchant opens (no login)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from scoring.forms import ProofForm
from scoring.services import proofs
from sesame_portal.errors import ServiceError
from sesame_portal.qr import qr_svg


@login_required
@require_http_methods(["GET", "POST"])
def proof_list(request: HttpRequest) -> HttpResponse:
    form = ProofForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            proof = proofs.proof_create(user=request.user, **form.cleaned_data)
        except ServiceError as error:
            field = error.code if error.code in ("threshold", "lifetime") else None
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
